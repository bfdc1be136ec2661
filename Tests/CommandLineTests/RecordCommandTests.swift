import Foundation
import SockStatFormat
import SockStatStore
import Testing
import TestSupport

/// `sockstat-record` end to end.
struct RecordCommandTests {
    /// Options that would write segments every reader refuses (over 64 MiB)
    /// are a usage error, before anything is created.
    @Test(arguments: [
        (["--max-segment-bytes", "70000000", "--max-total-bytes", "80000000"], "could grow past 67108864"),
        (["--max-segment-bytes", "67108864", "--max-total-bytes", "67108864"], "could grow past 67108864"),
        (["--max-segment-bytes", "9223372036854775807", "--max-total-bytes", "9223372036854775807"], "could grow past"),
    ])
    func segmentSizesReadersWouldRefuseAreUsageErrors(_ arguments: [String], _ reason: String) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let run = try Tool.run(["--dir", logs.path, "--duration", "0"] + arguments, executable: Tool.record)
        #expect(run.exitCode == 64, "\(run.stderrText)")
        #expect(run.stderrText.contains(reason), "\(run.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: logs.path))
    }

    @Test func replayThenConvertGivesBackTheInputByteForByte() throws {
        let input = try ConvertCommandTests.workloadLines()
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("input.jsonl")
        try input.write(to: source)
        let logs = directory.appendingPathComponent("logs")
        let record = try Tool.run(["--dir", logs.path, "--replay", source.path, "--max-segment-bytes", "8192"],
                                  executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        #expect(record.stderrText.hasPrefix("sockstat-record: "))
        #expect(record.stderrText.contains(" events, "))
        let decoded = try Tool.run([logs.path])
        #expect(decoded.exitCode == 0)
        #expect(decoded.stdout == input)
    }

    /// A user asking for 100 kB of logs gets them: the segments shrink to a
    /// quarter of the cap, retention keeps the directory under it. Without
    /// tiers what is kept is the newest events, whole; with the default
    /// tiers (which a 100 kB cap holds) older events are rolled up, and the
    /// totals over the time kept are exact.
    @Test(arguments: [["--tiers", "none"], []])
    func aCapSmallerThanTheSegmentSizeShrinksTheSegments(tiers: [String]) throws {
        let input = try Workload.lines(hours: 2, seed: 3)
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("input.jsonl")
        try input.write(to: source)
        let logs = directory.appendingPathComponent("logs")
        let record = try Tool.run(["--dir", logs.path, "--replay", source.path, "--max-total-bytes", "100000"] + tiers,
                                  executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        let segments = try FileManager.default.contentsOfDirectory(atPath: logs.path).filter { $0.hasSuffix(".sslog") }
        let sizes = try segments.map { try FileManager.default.attributesOfItem(atPath: logs.appendingPathComponent($0).path)[.size] as? Int ?? 0 }
        #expect(sizes.reduce(0, +) <= 100_000)
        let recorded = zip(segments, sizes).filter { SegmentName.sequence(fromFileName: $0.0) != nil }
        #expect(recorded.allSatisfy { $0.1 <= 25_000 + 4096 }, "segments of about 25,000 bytes, not 256 KiB: \(sizes)")
        let decoded = try Tool.run([logs.path])
        #expect(decoded.exitCode == 0)
        #expect(!decoded.stdout.isEmpty && decoded.stdout.count < input.count, "retention deleted or rolled up the oldest")
        if tiers == ["--tiers", "none"] {
            #expect(recorded.count >= 3, "\(segments)")
            #expect(input.suffix(decoded.stdout.count) == decoded.stdout, "what is kept is the input's newest events, whole")
        } else {
            #expect(segments.contains { $0.hasPrefix("sockstat-1m-") }, "\(segments)")
            let deleted = try #require(TierCommandTests.count(before: " deleted by retention", in: record.stderrText))
            let rolledUp = try #require(TierCommandTests.count(before: " rolled up first", in: record.stderrText))
            #expect(rolledUp > 0)
            var from = Int64.min
            if deleted > rolledUp, let first = try TierCommandTests.times(decoded.stdout).min(by: { $0.t < $1.t }) {
                from = first.t + first.d
            }
            #expect(try NetworkTotals(jsonLines: decoded.stdout, from: from) == NetworkTotals(jsonLines: input, from: from))
        }
    }

    /// Adversarial input a recorder could still have written: extreme values,
    /// a wall clock that jumps back, odd labels, counters that must overflow.
    @Test func adversarialReplayThenConvertGivesBackTheInputByteForByte() throws {
        var generator = TestRandom(seed: 42)
        let labels = ["wlan0", "rmnet_data0", "a\"b", "\\", "é", "😀", "<&>", "\u{2028}", "\u{01}", "", String(repeating: "x", count: 1024)]
        var lines = ""
        var time: Int64 = 1_764_288_000_000
        for index in 0..<3_000 {
            switch generator.next() % 10 {
            case 0: time = Int64(bitPattern: generator.next())           // anywhere, backwards included
            case 1: time &+= Int64(generator.next() % 1_000_000)         // a sleep
            default: break
            }
            let duration: Int64 = switch generator.next() % 20 {
            case 0: 0
            case 1: Int64.max
            case 2: Int64(generator.next() >> 1)
            default: 100 + Int64(generator.next() % 5)
            }
            var stats: [(String, UInt64, UInt64)] = []
            for label in labels where generator.next() % 4 == 0 {
                let tx: UInt64 = generator.next() % 3 == 0 ? UInt64.max : generator.next() % 100_000
                let rx: UInt64 = generator.next() % 3 == 0 ? UInt64.max : generator.next() % 2_000_000
                if tx != 0 || rx != 0 { stats.append((label, tx, rx)) }
            }
            if stats.isEmpty { stats = [("wlan0", UInt64(index) + 1, 0)] }
            let event = Event(time: time, duration: duration, isCellular: generator.next() % 7 == 0,
                              counts: stats.map { LabelCounts(label: Label($0.0), tx: $0.1, rx: $0.2) })
            lines += String(decoding: CanonicalJSON.line(for: event), as: UTF8.self)
            time = time &+ duration &+ (generator.next() % 3 == 0 ? 0 : Int64(generator.next() % 1_000))
        }
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("input.jsonl")
        try Data(lines.utf8).write(to: source)
        let logs = directory.appendingPathComponent("logs")
        let record = try Tool.run(["--dir", logs.path, "--replay", source.path, "--max-total-bytes", "\(64 << 20)"],
                                  executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        let decoded = try Tool.run([logs.path])
        #expect(decoded.exitCode == 0)
        #expect(decoded.stdout == Data(lines.utf8))
    }

    @Test func anUnrecordableReplayLineIsRefusedWithItsLineNumber() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("input.jsonl")
        try Data("""
            {"t":1,"d":100,"s":{"a":[1,2]}}
            {"t":200,"d":-5,"s":{"a":[1,2]}}

            """.utf8).write(to: source)
        let run = try Tool.run(["--dir", directory.appendingPathComponent("logs").path, "--replay", source.path],
                               executable: Tool.record)
        #expect(run.exitCode == 65)
        #expect(run.stderrText.contains("line 2"), "\(run.stderrText)")
        // What came before the bad line is kept.
        #expect(try Tool.run([directory.appendingPathComponent("logs").path]).stdout
                == Data((#"{"t":1,"d":100,"s":{"a":[1,2]}}"# + "\n").utf8))
    }

    @Test func recordingThisHostStopsAfterItsDurationAndLeavesAReadableDirectory() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        // Loopback included, and some loopback traffic, so that there is something to record.
        let traffic = try startLoopbackTraffic()
        defer { traffic.terminate() }
        let started = Date()
        let run = try Tool.run(["--dir", logs.path, "--duration", "1.5", "--interval", "50", "--flush-interval", "0.5",
                                "--exclude-interfaces", ""], executable: Tool.record)
        #expect(run.exitCode == 0, "\(run.stderrText)")
        #expect(Date().timeIntervalSince(started) < 5)
        let decoded = try Tool.run([logs.path])
        #expect(decoded.exitCode == 0)
        let lines = String(decoding: decoded.stdout, as: UTF8.self).split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"t":"#) })
        #expect(lines.contains { $0.contains(#""lo":["#) })
        // Nothing left out, loopback watched and moving.
        let closing = closingLine(run)
        #expect(closing.hasPrefix("sockstat-record: watched "), "\(closing)")
        #expect(closing.contains("lo"), "\(closing)")
        #expect(!closing.contains("left out") && !closing.contains("no traffic"), "\(closing)")
        let seconds = try #require(watchedSeconds(closing), "\(closing)")
        #expect(seconds >= 1.5 && seconds < 5, "\(closing)")
    }

    /// The summary counts in words a person reads: 1 block, 2 blocks.
    @Test func theSummarySaysOneBlockNotOneBlocks() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("one.jsonl")
        try Data(#"{"t":1000,"d":100,"s":{"a":[1,2]}}"#.utf8).write(to: source)
        let run = try Tool.run(["--dir", directory.appendingPathComponent("logs").path, "--replay", source.path],
                               executable: Tool.record)
        #expect(run.exitCode == 0, "\(run.stderrText)")
        // The baseline, the event, and shutdown's last poll (nothing new: no event).
        #expect(run.stderrText.hasPrefix("sockstat-record: 3 polls, 1 event, 1 block, 1 segment, "), "\(run.stderrText)")
        #expect(run.stderrText.contains("0 events dropped, 0 labels refused, 0 events split, 0 write errors"))
    }

    @Test func sigintFlushesAndClosesCleanly() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let traffic = try startLoopbackTraffic()
        defer { traffic.terminate() }
        let process = Process()
        process.executableURL = Tool.record
        process.arguments = ["--dir", logs.path, "--interval", "20", "--exclude-interfaces", ""]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        // Signalled only once it records: its first segment exists once an
        // event is taken, and the signal handlers are installed before the
        // first poll. A fixed sleep failed on a loaded machine (the signal
        // came before the handlers, or before any event).
        let deadline = Date().addingTimeInterval(60)
        while (try? FileManager.default.contentsOfDirectory(atPath: logs.path).contains { $0.hasSuffix(".sslog") }) != true {
            try #require(Date() < deadline && process.isRunning, "the recorder never wrote a segment")
            usleep(20_000)
        }
        process.interrupt()  // SIGINT
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains(" polls, "))
        // Closed cleanly: no torn tail, no note.
        let decoded = try Tool.run([logs.path])
        #expect(decoded.exitCode == 0)
        #expect(decoded.stderr.isEmpty)
        #expect(!decoded.stdout.isEmpty)
    }

    /// A recorder killed with SIGKILL at random moments leaves a directory
    /// that decodes to a prefix of what it was given, and a new recorder goes
    /// on in the same directory.
    @Test func killedAtRandomMomentsTheLogIsAPrefixAndARestartGoesOn() throws {
        let input = try ConvertCommandTests.workloadLines()
        let lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let logs = directory.appendingPathComponent("logs-\(round)")
            // Split the input: the first part is recorded by a recorder killed at a random moment,
            // the rest by a new recorder in the same directory.
            let cut = Int.random(in: lines.count / 4...(3 * lines.count / 4), using: &generator)
            let (first, second) = try ReplaySplit.write(lines, cut: cut, in: directory, round: round)

            let process = Process()
            process.executableURL = Tool.record
            process.arguments = ["--dir", logs.path, "--replay", first.path, "--speed", "400",
                                 "--flush-interval", "2", "--max-segment-bytes", "4096"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 20_000...900_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            // Killed before it made the directory: nothing was recorded.
            let afterKill = FileManager.default.fileExists(atPath: logs.path)
                ? try Tool.run([logs.path]) : ToolRun(exitCode: 0, stdout: Data(), stderr: Data())
            #expect(afterKill.exitCode == 0, "round \(round): \(afterKill.stderrText)")
            let recorded = afterKill.stdout.split(separator: UInt8(ascii: "\n"))
            #expect(recorded.count <= cut)
            #expect(Array(recorded) == Array(lines[..<recorded.count]), "round \(round): not a prefix")

            let restart = try Tool.run(["--dir", logs.path, "--replay", second.path, "--max-segment-bytes", "4096"],
                                       executable: Tool.record)
            #expect(restart.exitCode == 0, "round \(round): \(restart.stderrText)")
            let afterRestart = try Tool.run([logs.path])
            #expect(afterRestart.exitCode == 0)
            let all = afterRestart.stdout.split(separator: UInt8(ascii: "\n"))
            #expect(Array(all) == Array(recorded) + Array(lines[cut...]), "round \(round): restart did not go on")
        }
    }

    /// The interfaces of this host, in /proc/net/dev order (a reader of its own).
    private func hostInterfaces() throws -> [String] {
        let text = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
        return text.split(separator: "\n").dropFirst(2).compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// The recorder's closing line: its last line on stderr.
    private func closingLine(_ run: ToolRun) -> String {
        String(run.stderrText.split(separator: "\n").last ?? "")
    }

    /// How long the closing line says it watched.
    private func watchedSeconds(_ line: String) -> Double? {
        guard let range = line.range(of: " for ") else { return nil }
        return Double(line[range.upperBound...].prefix { $0 == "." || $0.isNumber })
    }

    /// On an idle host the closing line still says what was watched, for
    /// how long, and what was left out; it names the interfaces this host has.
    @Test func theClosingLineNamesTheInterfacesWatchedAndWhatWasLeftOut() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run(["--dir", directory.appendingPathComponent("logs").path, "--duration", "0.5"],
                               executable: Tool.record)
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let interfaces = try hostInterfaces()
        let watched = interfaces.filter { $0 != "lo" }
        let line = closingLine(run)
        let names = watched.isEmpty ? "no interfaces"
            : watched.count <= 8 ? watched.joined(separator: ", ")
            : watched.prefix(8).joined(separator: ", ") + " and \(watched.count - 8) more"
        #expect(line.hasPrefix("sockstat-record: watched \(names) for "), "\(line)")
        let seconds = try #require(watchedSeconds(line), "\(line)")
        #expect(seconds >= 0.5 && seconds < 10, "\(line)")
        if interfaces.contains("lo") {
            #expect(line.hasSuffix(" (lo left out; --exclude-interfaces '' to include it)"), "\(line)")
        }
        // Whether it says "no traffic" follows from the events it counted.
        let events = run.stderrText.contains(" 0 events, ")
        #expect(line.contains(": no traffic, nothing recorded") == events, "\(run.stderrText)")
    }

    /// With every interface left out nothing can move: the line says so,
    /// and names what was left out.
    @Test func withEveryInterfaceLeftOutTheClosingLineSaysNoTraffic() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run(["--dir", directory.appendingPathComponent("logs").path, "--duration", "0.3",
                                "--exclude-interfaces", "*"], executable: Tool.record)
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let interfaces = try hostInterfaces()
        let them = interfaces.count == 1 ? "it" : "them"
        let line = closingLine(run)
        #expect(line.hasPrefix("sockstat-record: watched no interfaces for "), "\(line)")
        #expect(line.hasSuffix(": no traffic, nothing recorded (\(interfaces.joined(separator: ", ")) left out; "
                               + "--exclude-interfaces '' to include \(them))"), "\(line)")
        #expect(run.stderrText.contains(" 0 events, "))
    }

    /// Loopback traffic for a few seconds: a UDP socket sending to itself.
    private func startLoopbackTraffic() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            end = time.time() + 8
            while time.time() < end:
                s.sendto(b"x" * 200, s.getsockname()); s.recv(1024); time.sleep(0.01)
            """]
        try process.run()
        return process
    }
}
