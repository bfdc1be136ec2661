import Foundation
import SockStatFormat
import SockStatStore
import Testing

/// Runs the built `sockstat-convert` and captures what it did.
struct ToolRun {
    var exitCode: Int32
    var stdout: Data
    var stderr: Data

    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

enum Tool {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = root.appendingPathComponent("Fixtures")

    /// The `sockstat-convert` built beside the test bundle.
    static var convert: URL { built("sockstat-convert") }

    /// The `sockstat-record` built beside the test bundle.
    static var record: URL { built("sockstat-record") }

    private static func built(_ name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner sits in the build directory; elsewhere inside a bundle.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/" + name)
    }

    /// Runs `executable arguments` (by default `sockstat-convert`) in
    /// `directory`, feeding `stdin`.
    static func run(_ arguments: [String], in directory: URL? = nil, stdin: Data? = nil,
                    executable: URL = convert) throws -> ToolRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), error = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input
        try process.run()
        // Feed and drain concurrently so that large outputs cannot deadlock.
        let group = DispatchGroup()
        nonisolated(unsafe) var stdoutData = Data()
        nonisolated(unsafe) var stderrData = Data()
        group.enter()
        DispatchQueue.global().async { stdoutData = output.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderrData = error.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return ToolRun(exitCode: process.terminationStatus, stdout: stdoutData, stderr: stderrData)
    }

    /// A fresh empty directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The reference workload (a phone at 10 Hz: keepalives, DNS, bursts,
/// cellular periods, sleep gaps) as canonical JSON lines; or another of
/// the generator's profiles ("busy": an always-on router) or label sets
/// (`labels`: that many labels instead of the profile's own).
///
/// Tests/Workload/workload.py is a copy of the team's generator
/// (../shared/workload/workload.py, which the benchmarks use), kept in the
/// repository so that a fresh clone on a fresh machine tests the same data.
enum Workload {
    static func lines(hours: Double, seed: Int, profile: String = "phone", labels: Int? = nil) throws -> Data {
        let generator = Tool.root.appendingPathComponent("Tests/Workload/workload.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator.path, "--profile", profile,
                             "--hours", "\(hours)", "--seed", "\(seed)"]
            + (labels.map { ["--labels", "\($0)"] } ?? [])
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0 && !data.isEmpty,
                     "workload.py failed: \(String(decoding: message, as: UTF8.self))")
        return data
    }
}

/// A directory a writer is still writing into, as a running recorder would:
/// 4 KiB segments, so several are closed and one is open, and every event
/// written is kept as its canonical JSON line to compare a collection with.
final class LiveSegmentLog {
    let writer: SegmentLogWriter
    private(set) var expected = Data()
    private var counter: UInt64 = 0

    init(in directory: URL) throws {
        var options = SegmentLogOptions()
        options.maxSegmentBytes = 4096
        writer = try SegmentLogWriter(directory: directory.path, options: options)
    }

    /// Writes `count` more events and flushes them.
    func record(_ count: Int) throws {
        for _ in 0..<count {
            counter += 1
            let event = Event(time: Int64(counter) * 100, duration: 100,
                              counts: [LabelCounts(label: Label("wlan0"), tx: counter &* 7919, rx: counter &* 104_729)])
            try writer.append(event)
            expected.append(contentsOf: CanonicalJSON.line(for: event))
        }
        try writer.flush()
    }
}

/// A replay cut in two for the crash tests: the first part for a recorder
/// killed at a random moment, the rest for the one that goes on after it.
enum ReplaySplit {
    /// Writes `lines[..<cut]` and `lines[cut...]`, each line ended by a
    /// newline, as `first-ROUND.jsonl` and `second-ROUND.jsonl` in `directory`.
    static func write(_ lines: ArraySlice<Data.SubSequence>, cut: Int, in directory: URL, round: Int) throws -> (first: URL, second: URL) {
        let first = directory.appendingPathComponent("first-\(round).jsonl")
        let second = directory.appendingPathComponent("second-\(round).jsonl")
        try Data(lines[..<cut].joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: first)
        try Data(lines[cut...].joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: second)
        return (first, second)
    }
}
