import Foundation
import Testing

/// The progress line of a long `decode`, `summary` or `report`, seen through a pseudo-terminal,
/// and its absence when standard error is a pipe.
@Suite(.serialized)
struct ProgressTests {
    /// A day of the reference workload (about 4.7 MiB of segments, over the
    /// 4 MiB threshold) with one byte flipped in a segment in the middle, so
    /// that a damage note comes mid-run. Made once for the suite.
    static let bigLog: Result<URL, any Error> = Result(catching: {
        // Under .build, made again at each run: a temporary directory would outlive the suite.
        let directory = Tool.root.appendingPathComponent(".build/progress-tests")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lines = try FollowTests.workload(hours: 24)
        let logs = directory.appendingPathComponent("day")
        let encode = try Tool.run(["encode", "-o", logs.path], stdin: lines)
        guard encode.exitCode == 0 else { throw CocoaError(.fileWriteUnknown) }
        let names = try FileManager.default.contentsOfDirectory(atPath: logs.path).sorted()
        let middle = logs.appendingPathComponent(names[names.count / 2])
        let handle = try FileHandle(forUpdating: middle)
        try handle.seek(toOffset: 5000)
        let byte = try handle.read(upToCount: 1)!
        try handle.seek(toOffset: 5000)
        try handle.write(contentsOf: [byte[0] ^ 0x01])
        try handle.close()
        return logs
    })

    /// The subcommands that read segments, each with its output to a file
    /// (summary's goes to /dev/null, its text comes after the read).
    static let readingCommands: [[String]] = [["decode", "-o", "OUT"], ["summary"], ["report", "-o", "OUT"]]

    @Test(arguments: readingCommands)
    func onATerminalTheLineIsDrawnAtMostTenTimesASecondAndErasedAroundNotes(_ command: [String]) throws {
        let logs = try Self.bigLog.get()
        let output = logs.deletingLastPathComponent().appendingPathComponent("pty-out-\(command[0])")
        let started = Date()
        let run = try PseudoTerminal.run(command.map { $0 == "OUT" ? output.path : $0 } + [logs.path])
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.exitCode == 1)
        let screen = String(decoding: run.terminal, as: UTF8.self)
        let erase = "\r\u{1B}[K"
        // Drawn: a carriage return, the line, a clear to its end.
        let draws = screen.components(separatedBy: "\rsockstat-convert: ").dropFirst()
            .filter { $0.contains(" MiB, ") && $0.contains(" segments, ") }
        #expect(!draws.isEmpty, "\(screen.debugDescription)")
        #expect(Double(draws.count) <= elapsed * 10 + 1, "\(draws.count) draws in \(elapsed) s")
        #expect(draws.contains { $0.contains("MiB/s") && $0.contains(" left") })
        // Erased at the end: nothing of it stays.
        #expect(screen.hasSuffix(erase), "\(screen.suffix(200).debugDescription)")
        // The note starts on a line of its own, never after the progress text.
        let note = try #require(screen.range(of: "sockstat-convert: \(logs.path)/"), "\(screen.debugDescription)")
        let before = screen[..<note.lowerBound]
        #expect(before.isEmpty || before.hasSuffix("\n") || before.hasSuffix(erase), "\(before.suffix(120).debugDescription)")
        #expect(screen[note.lowerBound...].contains("offset "))
        // The output is what decode writes without a terminal.
        guard command[0] == "decode" else { return }
        let piped = try Tool.run(["decode", logs.path])
        #expect(try Data(contentsOf: output) == piped.stdout)
    }

    /// With standard error a pipe, only the note appears: no progress at all.
    @Test func withStandardErrorAPipeNothingExtraAppears() throws {
        let logs = try Self.bigLog.get()
        let run = try Tool.run(["decode", "-o", "/dev/null", logs.path])
        #expect(run.exitCode == 1)
        let lines = run.stderrText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(run.stderrText)")
        #expect(lines[0].hasPrefix("sockstat-convert: \(logs.path)/") && lines[0].contains(": offset "), "\(run.stderrText)")
        #expect(!run.stderr.contains(0x0D) && !run.stderr.contains(0x1B))
    }

    /// A small input gets no line even on a terminal.
    @Test func aSmallInputShowsNoLineOnATerminal() throws {
        let run = try PseudoTerminal.run(["decode", "-o", "/dev/null", Tool.fixtures.appendingPathComponent("several-segments/input").path])
        #expect(run.exitCode == 0)
        #expect(run.terminal.isEmpty, "\(String(decoding: run.terminal, as: UTF8.self).debugDescription)")
    }
}

/// Runs `sockstat-convert` with its standard error on a pseudo-terminal
/// (python3's `pty`: Glibc's module leaves out posix_openpt) and gathers
/// what the terminal was sent.
enum PseudoTerminal {
    struct Run {
        var exitCode: Int32
        var terminal: Data
    }

    /// Opens a pty, runs the command with stderr on it (stdout to
    /// /dev/null), copies what the terminal receives to its own stdout, and
    /// exits with the command's status.
    private static let script = """
        import os, subprocess, sys
        master, slave = os.openpty()
        child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        sys.exit(child.wait())
        """

    static func run(_ arguments: [String]) throws -> Run {
        let run = try Tool.run(["python3", "-c", script, Tool.convert.path] + arguments,
                               executable: URL(fileURLWithPath: "/usr/bin/env"))
        return Run(exitCode: run.exitCode, terminal: run.stdout)
    }
}
