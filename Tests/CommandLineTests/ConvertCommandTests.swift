import Foundation
import SockStatFormat
import SockStatStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `sockstat-convert` end to end: arguments in; stdout, stderr and exit code out.
struct ConvertCommandTests {
    /// Six minutes of the reference workload.
    static func workloadLines() throws -> Data {
        try Workload.lines(hours: 0.1, seed: 11)
    }

    @Test func encodeThenDecodeGivesBackCanonicalInputByteForByte() throws {
        let input = try Self.workloadLines()
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encode = try Tool.run(["encode", "--output", directory.path, "--max-segment-bytes", "8192"], stdin: input)
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        #expect(encode.stderrText.contains("B/event"))
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(segments.count > 1, "expected several segments")
        // decode is the default subcommand
        let decode = try Tool.run([directory.path])
        #expect(decode.exitCode == 0)
        #expect(decode.stderr.isEmpty)
        #expect(decode.stdout == input)
    }

    @Test func segmentsAndDirectoryArePrivate() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let run = try Tool.run(["encode", "-o", logs.path], stdin: Data(#"{"t":1,"d":2,"s":{"a":[1,2]}}"#.utf8))
        #expect(run.exitCode == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: logs.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: logs.path) {
            let file = try FileManager.default.attributesOfItem(atPath: logs.appendingPathComponent(name).path)
            #expect((file[.posixPermissions] as? Int) == 0o600)
        }
    }

    /// `--flush-interval` is in seconds, as for `sockstat-record`: events
    /// 1 s apart make one block per 2 s at `--flush-interval 2`.
    @Test(arguments: [("2", 3), ("0.5", 6), ("10", 1)])
    func flushIntervalIsSecondsOfEventTime(_ interval: String, _ blocks: Int) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (0..<6).map { #"{"t":\#(1_000 + $0 * 1_000),"d":100,"s":{"a":[1,2]}}"# + "\n" }.joined()
        let run = try Tool.run(["encode", "-o", directory.path, "--flush-interval", interval], stdin: Data(lines.utf8))
        #expect(run.exitCode == 0)
        #expect(run.stderrText.contains("6 events: 1 segment, \(blocks) block"), "\(run.stderrText)")
        #expect(try Tool.run([directory.path]).stdout == Data(lines.utf8))
    }

    @Test func encodingIntoADirectoryContinuesItsNumbering() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = Data((#"{"t":1,"d":2,"s":{"a":[1,2]}}"# + "\n").utf8)
        let second = Data((#"{"t":3,"d":2,"s":{"b":[3,4]}}"# + "\n").utf8)
        #expect(try Tool.run(["encode", "-o", directory.path], stdin: first).exitCode == 0)
        #expect(try Tool.run(["encode", "-o", directory.path], stdin: second).exitCode == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["sockstat-00000000000000000001.sslog", "sockstat-00000000000000000002.sslog"])
        #expect(try Tool.run([directory.path]).stdout == first + second)
    }

    @Test func tolerantAndLogtailLinesCompactToCanonical() throws {
        let input = """
            {"logtail":{"client_time":"2026-11-28T01:02:03.456789Z","proc_id":7,"proc_seq":42},"t":1764288339865,"d":100,"s":{"8":[1024,96],"2":[148,148]}}
            { "s" : { "x" : [ 1 , 2 ] } , "c" : 0 , "d" : 99 , "t" : 1764288339965 , "extra" : [true, null, {"k": "v"}] }\r

            {"t":1764288340065,"d":100,"c":1,"s":{}}
            """
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try Tool.run(["encode", "-o", directory.path], stdin: Data(input.utf8)).exitCode == 0)
        let decoded = try Tool.run(["decode", directory.path])
        #expect(String(decoding: decoded.stdout, as: UTF8.self) == """
            {"t":1764288339865,"d":100,"s":{"2":[148,148],"8":[1024,96]}}
            {"t":1764288339965,"d":99,"s":{"x":[1,2]}}
            {"t":1764288340065,"d":100,"c":1,"s":{}}

            """)
    }

    /// Go's decoder matches member names case-insensitively, so `"S"` is `s`:
    /// its counts are kept, not skipped as an unknown member.
    @Test func caseVariantMemberNamesKeepTheirData() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encode = try Tool.run(["encode", "-o", directory.path], stdin: Data((#"{"t":1,"d":2,"S":{"a":[1,2]}}"# + "\n").utf8))
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        let decode = try Tool.run(["decode", directory.path])
        #expect(decode.exitCode == 0)
        #expect(String(decoding: decode.stdout, as: UTF8.self) == #"{"t":1,"d":2,"s":{"a":[1,2]}}"# + "\n")
    }

    @Test func invalidLineStopsEncodeNamingLineAndColumnKeepingEarlierEvents() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = Data("""
            {"t":1,"d":2,"s":{"a":[1,2]}}
            {"t":2.5,"d":2,"s":{"a":[1,2]}}
            {"t":3,"d":2,"s":{"a":[1,2]}}

            """.utf8)
        let run = try Tool.run(["encode", "-o", directory.path], stdin: input)
        #expect(run.exitCode == 65)
        #expect(run.stderrText.contains("standard input: line 2, column 7:"), "\(run.stderrText)")
        #expect(try Tool.run([directory.path]).stdout == Data((#"{"t":1,"d":2,"s":{"a":[1,2]}}"# + "\n").utf8))
    }

    @Test func skipInvalidReportsEachBadLineAndExitsIncomplete() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = Data("""
            {"t":1,"d":2,"s":{"a":[1,2]}}
            not json
            {"t":3,"d":2,"s":{"a":[1,-2]}}
            {"t":4,"d":2,"s":{"a":[1,2]}}
            """.utf8)
        let run = try Tool.run(["encode", "--skip-invalid", "-o", directory.path], stdin: input)
        #expect(run.exitCode == 1)
        #expect(run.stderrText.contains("line 2, column 1:"))
        #expect(run.stderrText.contains("line 3, column"))
        #expect(run.stderrText.contains("2 invalid lines skipped"))
        let decoded = String(decoding: try Tool.run([directory.path]).stdout, as: UTF8.self)
        #expect(decoded == "{\"t\":1,\"d\":2,\"s\":{\"a\":[1,2]}}\n{\"t\":4,\"d\":2,\"s\":{\"a\":[1,2]}}\n")
    }

    @Test(arguments: [
        (["--since", "3"], [3, 4, 5]),
        (["--until", "3"], [1, 2]),
        (["--since", "2", "--until", "4"], [2, 3]),
        (["--since", "1970-01-01T00:00:00.003Z"], [3, 4, 5]),
        (["--until", "1970-01-01"], []),
        // A negative time is a value, not an option.
        (["--since", "-1", "--until", "4"], [1, 2, 3]),
        (["--until", "-1"], []),
    ])
    func sinceIsInclusiveUntilIsExclusive(_ arguments: [String], _ expected: [Int]) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (1...5).map { #"{"t":\#($0),"d":1,"s":{"a":[1,1]}}"# + "\n" }.joined()
        #expect(try Tool.run(["encode", "-o", directory.path], stdin: Data(lines.utf8)).exitCode == 0)
        let run = try Tool.run(["decode"] + arguments + [directory.path])
        #expect(run.exitCode == 0)
        let times = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").map { line in
            Int(line.dropFirst(5).prefix { $0 != "," })!
        }
        #expect(times == expected)
    }

    /// A window that ends before it starts is a usage error, for every
    /// subcommand that reads (they share InputOptions); an empty one is not.
    @Test(arguments: [["decode"], ["summary"], ["report", "-o", "/dev/null"]])
    func aWindowEndingBeforeItStartsIsAUsageError(_ command: [String]) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let swapped = try Tool.run(command + ["--since", "5", "--until", "4", directory.path])
        #expect(swapped.exitCode == 64)
        #expect(swapped.stderrText.split(separator: "\n").first?.contains("--since '5' is after --until '4'") == true, "\(swapped.stderrText)")
        let empty = try Tool.run(command + ["--since", "5", "--until", "5", directory.path])
        #expect(empty.exitCode == 0, "\(empty.stderrText)")
    }

    @Test func isoTimesAreUTC() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 2025-11-28T00:05:39.865Z is 1764288339865.
        let lines = #"{"t":1764288339864,"d":1,"s":{"a":[1,1]}}"# + "\n" + #"{"t":1764288339865,"d":1,"s":{"a":[1,1]}}"# + "\n"
        #expect(try Tool.run(["encode", "-o", directory.path], stdin: Data(lines.utf8)).exitCode == 0)
        let run = try Tool.run(["--since", "2025-11-28T00:05:39.865Z", directory.path])
        #expect(String(decoding: run.stdout, as: UTF8.self) == #"{"t":1764288339865,"d":1,"s":{"a":[1,1]}}"# + "\n")
    }

    @Test func segmentFromStandardInput() throws {
        let segment = try Data(contentsOf: Tool.fixtures.appendingPathComponent("one-event/input.sslog"))
        let run = try Tool.run(["decode", "-"], stdin: segment)
        #expect(run.exitCode == 0)
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("one-event/source.jsonl"))))
    }

    @Test func outputFileOption() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out.jsonl")
        let run = try Tool.run(["decode", "--output", out.path, Tool.fixtures.appendingPathComponent("cellular/input.sslog").path])
        #expect(run.exitCode == 0)
        #expect(run.stdout.isEmpty)
        #expect(try Data(contentsOf: out) == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("cellular/source.jsonl"))))
    }

    @Test func missingInputIsExit66BeforeAnyOutput() throws {
        let run = try Tool.run([Tool.fixtures.appendingPathComponent("one-event/input.sslog").path, "/nonexistent/segment.sslog"])
        #expect(run.exitCode == 66)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrText.contains("/nonexistent/segment.sslog"))
    }

    /// Dates that do not exist are refused with a message saying why, not
    /// read as a later day (2026-02-31 was March 3).
    @Test(arguments: [
        ("2026-02-31", "February 2026 has 28 days"),
        ("2026-02-29", "February 2026 has 28 days"),
        ("1900-02-29", "February 1900 has 28 days"),
        ("2025-04-31", "April 2025 has 30 days"),
        ("2025-13-01", "there is no month 13"),
        ("2025-00-10", "there is no month 0"),
        ("2025-01-00", "January 2025 has 31 days"),
        ("2025-01-01T24:00:00Z", "there is no time 24:00:00"),
        ("2025-01-01T10:00:60Z", "there is no time 10:00:60 (a leap second is 23:59:60)"),
        ("2025-01-01T10:60:00Z", "there is no time 10:60:00"),
        ("2025-01-01T10:00:00", "not UTC"),
        ("2025-01-01T10:00:00+02:00", "not UTC"),
        ("yesterday", "neither Unix milliseconds nor an ISO-8601 UTC time"),
    ])
    func impossibleTimesAreRefusedSayingWhy(_ value: String, _ reason: String) throws {
        let run = try Tool.run(["decode", "--until", value, Tool.fixtures.appendingPathComponent("one-event/input.sslog").path])
        #expect(run.exitCode == 64)
        #expect(run.stderrText.contains("--until '\(value)': \(reason)"), "\(run.stderrText)")
        #expect(run.stdout.isEmpty)
    }

    @Test(arguments: [("2024-02-29", 1_709_164_800_000), ("2000-02-29", 951_782_400_000),
                      ("2026-12-31T23:59:59.999Z", 1_798_761_599_999), ("2016-12-31T23:59:60Z", 1_483_228_800_000)])
    func possibleEdgeDatesAreAccepted(_ value: String, _ milliseconds: Int64) throws {
        // Events just before, at and just after the time: --since keeps the last two, --until the first.
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (-1...1).map { #"{"t":\#(milliseconds + Int64($0)),"d":1,"s":{"a":[1,1]}}"# + "\n" }
        let encode = try Tool.run(["encode", "-o", directory.path], stdin: Data(lines.joined().utf8))
        try #require(encode.exitCode == 0, "\(encode.stderrText)")
        let since = try Tool.run(["decode", "--since", value, directory.path])
        #expect(since.exitCode == 0, "\(since.stderrText)")
        #expect(String(decoding: since.stdout, as: UTF8.self) == lines[1] + lines[2])
        let until = try Tool.run(["decode", "--until", value, directory.path])
        #expect(String(decoding: until.stdout, as: UTF8.self) == lines[0])
    }

    @Test(arguments: [["--since", "yesterday", "x"], ["decode"], ["encode"], ["encode", "-o", "/tmp/x", "--flush-interval", "0"],
                      ["encode", "-o", "/tmp/x", "--flush-interval", "0.0001"]])
    func usageErrorsAreExit64(_ arguments: [String]) throws {
        #expect(try Tool.run(arguments).exitCode == 64)
    }

    @Test func damagedFilesAmongGoodOnesCostOnlyThemselves() throws {
        let good = Tool.fixtures.appendingPathComponent("one-event/input.sslog").path
        let foreign = Tool.fixtures.appendingPathComponent("json-text/input.sslog").path
        let run = try Tool.run([foreign, good])
        #expect(run.exitCode == 1)
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("one-event/source.jsonl"))))
        #expect(run.stderrText == "sockstat-convert: \(foreign): offset 0: not a segment (bad magic)\n")
    }

    @Test func anEmptyDirectoryIsNotedAndGivesNoEvents() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run([directory.path])
        #expect(run.exitCode == 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrText == "sockstat-convert: \(directory.path): no segments (*.sslog) in this directory\n")
    }

    @Test func duplicateSegmentInDirectoryIsReportedAndReadOnce() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let segment = Tool.fixtures.appendingPathComponent("one-event/input.sslog")
        try FileManager.default.copyItem(at: segment, to: directory.appendingPathComponent("sockstat-00000000000000000001.sslog"))
        try FileManager.default.copyItem(at: segment, to: directory.appendingPathComponent("copy.sslog"))
        let run = try Tool.run([directory.path])
        #expect(run.exitCode == 1)
        #expect(run.stderrText.contains("already read from"))
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("one-event/source.jsonl"))))
    }

    @Test func directoryIsReadInSequenceOrderNotNameOrder() throws {
        let source = Tool.fixtures.appendingPathComponent("several-segments/input")
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Rename so that name order is the reverse of sequence order.
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path).sorted()
        for (index, name) in names.enumerated() {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name),
                                             to: directory.appendingPathComponent("z\(names.count - index).sslog"))
        }
        let run = try Tool.run([directory.path])
        #expect(run.exitCode == 0)
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("several-segments/source.jsonl"))))
    }

    @Test func consumeTakesClosedSegmentsOnceAndNeverTheOpenOne() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try LiveSegmentLog(in: directory)
        try log.record(3000)
        let open = try #require(log.writer.openSegmentPath)
        let first = try Tool.run(["decode", "--consume", directory.path])
        #expect(first.exitCode == 0, "\(first.stderrText)")
        // Only the open segment is left, untouched, and the recorder goes on writing to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [URL(fileURLWithPath: open).lastPathComponent])
        try log.record(500)
        try log.writer.close()
        let second = try Tool.run(["decode", "--consume", directory.path])
        #expect(second.exitCode == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(first.stdout + second.stdout == log.expected)
        #expect(!first.stdout.isEmpty)
    }

    @Test func consumeKeepsADamagedSegmentAsideAfterWritingItsIntactEvents() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let damaged = Tool.fixtures.appendingPathComponent("flipped-block-payload/input.sslog")
        let name = "sockstat-00000000000000000001.sslog"
        try FileManager.default.copyItem(at: damaged, to: directory.appendingPathComponent(name))
        let run = try Tool.run(["decode", "--consume", directory.path])
        #expect(run.exitCode == 1)
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("flipped-block-payload/expected.jsonl"))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [name + ".damaged"])
        // Nothing is delivered twice.
        let again = try Tool.run(["decode", "--consume", directory.path])
        #expect(again.stdout.isEmpty)
    }

    /// One rule for every collector (drains too): only this user's files
    /// named like segments are taken; a copy of a segment taken in the same
    /// run is set aside, never delivered twice.
    @Test func consumeTakesOnlySegmentsAndNeverACopyTwice() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let segment = Tool.fixtures.appendingPathComponent("one-event/input.sslog")
        let name = "sockstat-00000000000000000001.sslog"
        try FileManager.default.copyItem(at: segment, to: directory.appendingPathComponent(name))
        try FileManager.default.copyItem(at: segment, to: directory.appendingPathComponent("sockstat-00000000000000000009.sslog"))
        try FileManager.default.copyItem(at: segment, to: directory.appendingPathComponent("backup.sslog"))
        let run = try Tool.run(["decode", "--consume", directory.path])
        #expect(run.stdout == (try Data(contentsOf: Tool.fixtures.appendingPathComponent("one-event/expected.jsonl"))))
        #expect(run.exitCode == 1, "a copy is reported: \(run.stderrText)")
        #expect(run.stderrText.contains("backup.sslog: left alone"))
        #expect(run.stderrText.contains("segment 1 already read from"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                == ["backup.sslog", "sockstat-00000000000000000009.sslog.duplicate"])
        let again = try Tool.run(["decode", "--consume", directory.path])
        #expect(again.stdout.isEmpty)
    }

    /// A sequence number names a segment within its directory: two
    /// recorders' directories, each with its segment 1, are both read and
    /// both collected (a run-wide rule set the second one aside as a copy).
    @Test func twoDirectoriesWithTheSameSegmentNumbersAreBothRead() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var expected = Data()
        for (name, label) in [("phone", "wlan0"), ("router", "eth0")] {
            let lines = #"{"t":1000,"d":100,"s":{"\#(label)":[1,2]}}"# + "\n"
            let encode = try Tool.run(["encode", "-o", directory.appendingPathComponent(name).path], stdin: Data(lines.utf8))
            try #require(encode.exitCode == 0)
            expected.append(Data(lines.utf8))
        }
        let paths = ["phone", "router"].map { directory.appendingPathComponent($0).path }
        let read = try Tool.run(["decode"] + paths)
        #expect(read.exitCode == 0, "\(read.stderrText)")
        #expect(read.stdout == expected)
        let consumed = try Tool.run(["decode", "--consume"] + paths)
        #expect(consumed.exitCode == 0, "\(consumed.stderrText)")
        #expect(consumed.stdout == expected)
        for path in paths { #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty) }
    }

    /// An output file that fills up (a file size limit) mid-segment is cut
    /// back to the segments delivered whole; the next run delivers the rest,
    /// so the two outputs together are the log, nothing twice, no cut line.
    @Test func aConsumeWhoseOutputFailsKeepsOnlyWholeSegments() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.workloadLines()
        let logs = directory.appendingPathComponent("logs")
        let encode = try Tool.run(["encode", "-o", logs.path, "--max-segment-bytes", "4096"], stdin: input)
        try #require(encode.exitCode == 0)
        try #require(try FileManager.default.contentsOfDirectory(atPath: logs.path).count >= 3)
        let output = directory.appendingPathComponent("collected.jsonl")
        // A limit of about half the output (ulimit counts 1 KiB blocks).
        let limit = max(input.count / 2048, 1)
        let first = try Tool.run(["-c", "ulimit -f \(limit); exec \"$0\" decode --consume -o \"$1\" \"$2\"",
                                  Tool.convert.path, output.path, logs.path],
                                 executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(first.exitCode == 74, "\(first.stderrText)")
        #expect(first.stderrText.contains("cut back to"))
        let kept = try Data(contentsOf: output)
        #expect(!kept.isEmpty && kept.last == UInt8(ascii: "\n"))
        #expect(input.starts(with: kept), "whole segments, in order")
        let rest = try Tool.run(["decode", "--consume", logs.path])
        #expect(rest.exitCode == 0)
        #expect(kept + rest.stdout == input)
    }

    /// Whether a directory can be made unwritable here: a read-only bind
    /// mount (root, where mounting is allowed), or file modes (anyone else).
    static let canMakeADirectoryUnwritable: Bool = {
        guard geteuid() == 0 else { return true }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-mount-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard makeReadOnly(probe.path) else { return false }
        undoReadOnly(probe.path)
        return true
    }()

    static func makeReadOnly(_ path: String) -> Bool {
        guard geteuid() == 0 else { return chmod(path, 0o500) == 0 }
        for arguments in [["--bind", path, path], ["-o", "remount,bind,ro", path]] {
            guard let run = try? Tool.run(arguments, executable: URL(fileURLWithPath: "/bin/mount")), run.exitCode == 0 else {
                _ = try? Tool.run([path], executable: URL(fileURLWithPath: "/bin/umount"))
                return false
            }
        }
        return true
    }

    static func undoReadOnly(_ path: String) {
        if geteuid() == 0 { _ = try? Tool.run([path], executable: URL(fileURLWithPath: "/bin/umount")) } else { chmod(path, 0o700) }
    }

    /// A directory whose segments could not be deleted after delivery is
    /// refused before anything is written: they would be delivered again.
    @Test(.enabled(if: canMakeADirectoryUnwritable))
    func consumeRefusesADirectoryItCannotDeleteFrom() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Tool.fixtures.appendingPathComponent("one-event/input.sslog"),
                                         to: logs.appendingPathComponent("sockstat-00000000000000000001.sslog"))
        try #require(Self.makeReadOnly(logs.path))
        defer { Self.undoReadOnly(logs.path) }
        let output = directory.appendingPathComponent("collected.jsonl")
        let run = try Tool.run(["decode", "--consume", "-o", output.path, logs.path])
        #expect(run.exitCode == 66, "\(run.stderrText)")
        #expect(run.stderrText.contains("cannot consume"))
        #expect(!FileManager.default.fileExists(atPath: output.path), "no output is made")
    }

    @Test(arguments: [["decode", "--consume", "--since", "1", "/tmp"], ["decode", "--consume", "/etc/hostname"],
                      ["decode", "--consume", "--strict", "/tmp"]])
    func consumeRefusesWhatWouldLoseEvents(_ arguments: [String]) throws {
        #expect(try Tool.run(arguments).exitCode == 64)
    }
}
