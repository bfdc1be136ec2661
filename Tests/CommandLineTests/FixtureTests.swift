import Foundation
import SockStatFormat
import SockStatStore
import Testing

/// Golden fixtures: every case in Fixtures/ decodes to its expected bytes,
/// stderr and exit code, and intact segments are exactly what the writer makes.
struct FixtureTests {
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Tool.fixtures.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: Tool.fixtures.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }()

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases)
    func decodesAsRecorded(_ name: String) throws {
        let directory = Tool.fixtures.appendingPathComponent(name)
        let target = FileManager.default.fileExists(atPath: directory.appendingPathComponent("input").path) ? "input" : "input.sslog"
        for mode in ["expected", "strict"] {
            var expectedMode = mode
            if mode == "strict", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("strict.exit").path) {
                expectedMode = "expected"  // intact input: --strict changes nothing
            }
            let run = try Tool.run(["decode"] + (mode == "strict" ? ["--strict"] : []) + [target], in: directory)
            let expectedOut = try Data(contentsOf: directory.appendingPathComponent("\(expectedMode).jsonl"))
            let expectedErr = try String(contentsOf: directory.appendingPathComponent("\(expectedMode).stderr"), encoding: .utf8)
            let expectedExit = try String(contentsOf: directory.appendingPathComponent("\(expectedMode).exit"), encoding: .utf8)
            #expect(run.stdout == expectedOut, "\(name) \(mode): stdout differs")
            #expect(run.stderrText == expectedErr, "\(name) \(mode): stderr differs")
            #expect("\(run.exitCode)\n" == expectedExit, "\(name) \(mode): exit code differs")
        }
    }

    static let python3: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    } ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map { "\($0)/python3" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The decoder a separate session wrote from Spec/FORMAT.md alone gives the
    /// same events and exit codes on every fixture: the Spec suffices.
    @Test(.enabled(if: python3 != nil || ProcessInfo.processInfo.environment["CI"] != nil), arguments: cases)
    func independentDecoderFromTheSpecAgrees(_ name: String) throws {
        let python = try #require(Self.python3, "python3 is needed for the conformance decoder")
        let directory = Tool.fixtures.appendingPathComponent(name)
        let target = FileManager.default.fileExists(atPath: directory.appendingPathComponent("input").path) ? "input" : "input.sslog"
        let decoder = Tool.root.appendingPathComponent("Spec/conformance/sslog_decode.py").path
        for mode in ["expected", "strict"] {
            var expectedMode = mode
            if mode == "strict", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("strict.exit").path) {
                expectedMode = "expected"
            }
            let run = try Tool.run([decoder] + (mode == "strict" ? ["--strict"] : []) + [target],
                                   in: directory, executable: URL(fileURLWithPath: python))
            let stdout = run.stdout
            #expect(stdout == (try Data(contentsOf: directory.appendingPathComponent("\(expectedMode).jsonl"))), "\(name) \(mode)")
            #expect("\(run.exitCode)\n" == (try String(contentsOf: directory.appendingPathComponent("\(expectedMode).exit"), encoding: .utf8)), "\(name) \(mode)")
        }
    }

    /// The rollup tier cases (Spec/FORMAT.md 4.1, 10.4): `tiered-directory`
    /// reads as the whole history in time order, coarse tiers first; cut
    /// mid-rollup, as a stream, or with a tier header damaged it gives the
    /// same events (held segments skipped with a note, exit status unaffected).
    @Test(arguments: ["tiered-directory", "tiered-mid-rollup", "tiered-stream", "tiered-damaged-header"])
    func tierCasesGiveTheWholeHistoryOnce(_ name: String) throws {
        let directory = Tool.fixtures.appendingPathComponent(name)
        let whole = try Data(contentsOf: Tool.fixtures.appendingPathComponent("tiered-directory/expected.jsonl"))
        #expect(try Data(contentsOf: directory.appendingPathComponent("expected.jsonl")) == whole)
        let stderr = try String(contentsOf: directory.appendingPathComponent("expected.stderr"), encoding: .utf8)
        let exit = try String(contentsOf: directory.appendingPathComponent("expected.exit"), encoding: .utf8)
        switch name {
        case "tiered-directory":
            #expect(stderr.isEmpty && exit == "0\n")
            var previous: (t: Int64, d: Int64)?
            for line in whole.split(separator: UInt8(ascii: "\n")) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                let event = (t: try #require(object["t"] as? Int64), d: try #require(object["d"] as? Int64))
                if let previous {
                    #expect(previous.t <= event.t, "time order")
                    // 1 h, then 1 min, then as recorded.
                    #expect(previous.d >= 60_000 || event.d < 60_000, "coarse tiers first")
                    #expect(previous.d == 3_600_000 || event.d != 3_600_000, "coarse tiers first")
                }
                previous = event
            }
        case "tiered-damaged-header":
            #expect(exit == "1\n" && stderr.contains("sockstat-1m-00000000000000000005.sslog: offset 0: segment header checksum mismatch"))
        default:
            // Held segments: noted, not damage.
            let lines = stderr.split(separator: "\n")
            #expect(lines.count == 2 && lines.allSatisfy { $0.contains(" is already rolled up into ") })
            #expect(exit == "0\n")
        }
    }

    static let intactCases = cases.filter {
        FileManager.default.fileExists(atPath: Tool.fixtures.appendingPathComponent("\($0)/source.jsonl").path)
    }

    /// For intact cases the golden output is the JSON the segment was made from,
    /// so the expectation does not come from the decoder under test.
    @Test(arguments: intactCases)
    func intactCaseDecodesToItsSource(_ name: String) throws {
        let directory = Tool.fixtures.appendingPathComponent(name)
        let source = try Data(contentsOf: directory.appendingPathComponent("source.jsonl"))
        let expected = try Data(contentsOf: directory.appendingPathComponent("expected.jsonl"))
        #expect(source == expected)
        #expect(try String(contentsOf: directory.appendingPathComponent("expected.exit"), encoding: .utf8) == "0\n")
    }

    /// The writer still produces the committed bytes: an accidental format
    /// change fails here.
    @Test(arguments: intactCases)
    func writerReproducesCommittedBytes(_ name: String) throws {
        let directory = Tool.fixtures.appendingPathComponent(name)
        let output = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        var options = SegmentLogOptions()
        if name == "several-segments" { options.maxSegmentBytes = 4096 }
        let writer = try SegmentLogWriter(directory: output.path, options: options)
        let parser = JSONLinesParser()
        let source = try Data(contentsOf: directory.appendingPathComponent("source.jsonl"))
        for (number, line) in source.split(separator: UInt8(ascii: "\n")).enumerated() {
            if let event = try parser.parse(Array(line), lineNumber: number + 1) {
                try writer.append(event)
            }
        }
        try writer.close()
        let written = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        let committedDirectory = directory.appendingPathComponent("input")
        let committed: [(String, Data)]
        if FileManager.default.fileExists(atPath: committedDirectory.path) {
            committed = try FileManager.default.contentsOfDirectory(atPath: committedDirectory.path).sorted().map {
                ($0, try Data(contentsOf: committedDirectory.appendingPathComponent($0)))
            }
        } else {
            committed = [(written.first ?? "?", try Data(contentsOf: directory.appendingPathComponent("input.sslog")))]
        }
        try #require(written.count == committed.count)
        for (name, bytes) in committed {
            #expect(try Data(contentsOf: output.appendingPathComponent(name)) == bytes, "\(name) differs")
        }
    }
}
