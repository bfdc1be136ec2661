import Foundation
import SockStatStore
import Testing
import TestSupport

/// `sockstat-record --tiers` and `sockstat-convert encode --tiers`, end to end.
@Suite(.serialized)
struct TierCommandTests {
    /// The number just before `suffix` in a summary line ("3 deleted by retention").
    static func count(before suffix: String, in text: String) -> Int? {
        guard let range = text.range(of: suffix) else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }

    /// The `(t, d)` of each line.
    static func times(_ lines: Data) throws -> [(t: Int64, d: Int64)] {
        try lines.split(separator: UInt8(ascii: "\n")).map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            return (try #require(object["t"] as? Int64), try #require(object["d"] as? Int64))
        }
    }

    /// SIGKILL at random moments of a replay at full speed into a small cap
    /// with frequent rollups: after each kill, `decode DIR` gives exactly
    /// the totals of what was recorded up to its newest event (no event
    /// twice, none lost), with exit status 0; a restarted recorder goes on,
    /// and the whole input's totals come out.
    @Test func killedAtRandomMomentsDuringRollupsNoEventIsCountedTwiceOrLost() throws {
        // An hour of the workload: the 1 min tier (45% of 64 KiB) holds it all, so nothing is deleted.
        let input = try Workload.lines(hours: 1, seed: 5)
        let lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["--max-segment-bytes", "4096", "--max-total-bytes", "65536", "--tiers", "1s:25%,1m:45%",
                         "--flush-interval", "2"]
        var generator = SystemRandomNumberGenerator()
        var rolledUpWhenKilled = 0
        for round in 0..<8 {
            let logs = directory.appendingPathComponent("logs-\(round)")
            let cut = Int.random(in: lines.count / 2...(9 * lines.count / 10), using: &generator)
            let (first, second) = try ReplaySplit.write(lines, cut: cut, in: directory, round: round)

            let process = Process()
            process.executableURL = Tool.record
            process.arguments = ["--dir", logs.path, "--replay", first.path] + arguments
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 100_000...1_500_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard FileManager.default.fileExists(atPath: logs.path) else { continue }

            let afterKill = try Tool.run([logs.path])
            #expect(afterKill.exitCode == 0, "round \(round): \(afterKill.stderrText)")
            let names = try FileManager.default.contentsOfDirectory(atPath: logs.path)
            if names.contains(where: { $0.hasPrefix("sockstat-1s-") }) { rolledUpWhenKilled += 1 }
            // Everything before the newest event decoded is there exactly once.
            if let newest = try Self.times(afterKill.stdout).map(\.t).max() {
                let kept = try NetworkTotals(jsonLines: afterKill.stdout, to: newest)
                let recorded = try NetworkTotals(jsonLines: input, to: newest)
                #expect(kept == recorded, "round \(round): after the kill\nkept \(kept)\nrecorded \(recorded)")
            }
            let restart = try Tool.run(["--dir", logs.path, "--replay", second.path] + arguments, executable: Tool.record)
            #expect(restart.exitCode == 0, "round \(round): \(restart.stderrText)")
            let afterRestart = try Tool.run([logs.path])
            #expect(afterRestart.exitCode == 0, "round \(round): \(afterRestart.stderrText)")
            #expect(afterRestart.stderr.isEmpty, "round \(round): \(afterRestart.stderrText)")
            // What the killed recorder left, then the second part: each event once.
            var expected = try NetworkTotals(jsonLines: afterKill.stdout)
            for (label, totals) in try NetworkTotals(jsonLines: Data(contentsOf: second)).byLabel {
                expected.byLabel[label, default: Totals()].sent += totals.sent
                expected.byLabel[label, default: Totals()].received += totals.received
            }
            #expect(try NetworkTotals(jsonLines: afterRestart.stdout) == expected, "round \(round): the restart did not go on exactly")
            let bytes = try FileManager.default.contentsOfDirectory(atPath: logs.path).reduce(0) {
                $0 + ((try FileManager.default.attributesOfItem(atPath: logs.path + "/" + $1)[.size] as? Int) ?? 0)
            }
            #expect(bytes <= 65536, "round \(round): \(bytes) bytes")
        }
        #expect(rolledUpWhenKilled > 0, "no kill came after a rollup")
    }

    /// `encode --max-total-bytes --tiers` compacts a long log into the
    /// tiered layout within the cap; its totals are the input's over the
    /// time it keeps.
    @Test func encodeWithTiersCompactsALongLogWithinTheCap() throws {
        let input = try Workload.lines(hours: 2, seed: 9)
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encode = try Tool.run(["encode", "--output", directory.path, "--max-total-bytes", "65536",
                                   "--tiers", "1s:30%,1m:25%"], stdin: input)
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        let deleted = try #require(Self.count(before: " deleted by retention", in: encode.stderrText), "\(encode.stderrText)")
        let rolledUp = try #require(Self.count(before: " rolled up first", in: encode.stderrText))
        #expect(rolledUp > 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.contains { $0.hasPrefix("sockstat-1s-") } && names.contains { $0.hasPrefix("sockstat-1m-") }, "\(names)")
        #expect(!names.contains { $0.hasSuffix(".tmp") })
        let bytes = names.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: directory.path + "/" + $1)[.size] as? Int) ?? 0) }
        #expect(bytes <= 65536)
        let decode = try Tool.run([directory.path])
        #expect(decode.exitCode == 0, "\(decode.stderrText)")
        var from = Int64.min
        if deleted > rolledUp, let first = try Self.times(decode.stdout).min(by: { $0.t < $1.t }) { from = first.t + first.d }
        #expect(try NetworkTotals(jsonLines: decode.stdout, from: from) == NetworkTotals(jsonLines: input, from: from))
    }

    /// The same log replayed by the recorder into the same cap and tiers
    /// gives the same tiers, holding the same events.
    @Test func encodeWithTiersLaysOutWhatAReplayedRecorderWrites() throws {
        let input = try Workload.lines(hours: 0.5, seed: 4)
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("input.jsonl")
        try input.write(to: file)
        let encoded = directory.appendingPathComponent("encoded"), recorded = directory.appendingPathComponent("recorded")
        let options = ["--max-total-bytes", "65536", "--tiers", "1s:30%,1m:25%", "--flush-interval", "10"]
        let encode = try Tool.run(["encode", "--input", file.path, "--output", encoded.path] + options)
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        let record = try Tool.run(["--dir", recorded.path, "--replay", file.path] + options, executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        let encodedNames = try FileManager.default.contentsOfDirectory(atPath: encoded.path).sorted()
        let recordedNames = try FileManager.default.contentsOfDirectory(atPath: recorded.path).sorted()
        #expect(encodedNames == recordedNames)
        let fromEncoded = try Tool.run([encoded.path]), fromRecorded = try Tool.run([recorded.path])
        #expect(fromEncoded.stdout == fromRecorded.stdout)
    }

    @Test(arguments: [
        ["--tiers", "1m:30"], ["--tiers", "1h:30%,1m:20%"], ["--tiers", "1m:80%,1h:30%"], ["--tiers", "fast"],
        ["--tiers", "1m:30%,1h:25%", "--max-total-bytes", "16384"],
    ])
    func badTierSpecsAreUsageErrors(arguments: [String]) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = try Tool.run(["--dir", directory.appendingPathComponent("logs").path, "--duration", "0"] + arguments,
                                  executable: Tool.record)
        #expect(record.exitCode == 64, "\(record.stderrText)")
        let encode = try Tool.run(["encode", "--output", directory.appendingPathComponent("out").path,
                                   "--max-total-bytes", "65536"] + arguments, stdin: Data())
        #expect(encode.exitCode == 64, "\(encode.stderrText)")
    }

    @Test func encodeTiersWithoutACapIsAUsageError() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encode = try Tool.run(["encode", "--output", directory.path, "--tiers", "1m:30%"], stdin: Data())
        #expect(encode.exitCode == 64)
        #expect(encode.stderrText.contains("--tiers needs --max-total-bytes"), "\(encode.stderrText)")
    }

    /// `--tiers none`: only recorded segments, the oldest deleted, as before tiers.
    @Test func recordWithTiersNoneKeepsRecordedSegmentsOnly() throws {
        let input = try Workload.lines(hours: 1, seed: 2)
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("input.jsonl")
        try input.write(to: file)
        let logs = directory.appendingPathComponent("logs")
        let record = try Tool.run(["--dir", logs.path, "--replay", file.path, "--max-total-bytes", "65536", "--tiers", "none"],
                                  executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        #expect(record.stderrText.contains("(0 rolled up first)"), "\(record.stderrText)")
        #expect((Self.count(before: " deleted by retention", in: record.stderrText) ?? 0) > 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: logs.path)
        #expect(names.allSatisfy { SegmentName.sequence(fromFileName: $0) != nil }, "\(names)")
        let decode = try Tool.run([logs.path])
        #expect(input.suffix(decode.stdout.count) == decode.stdout, "the newest events, as recorded")
    }
}
