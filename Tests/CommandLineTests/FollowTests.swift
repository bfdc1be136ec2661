import Foundation
import SockStatFormat
import SockStatStore
import Testing
import TestSupport

/// `sockstat-convert decode --follow DIR` end to end: the built tool follows
/// a directory while this test (or a real recorder) writes into it.
@Suite(.serialized)
struct FollowTests {
    // MARK: Following a real recorder

    /// A recorder replaying the reference workload with small segments and
    /// a small directory cap rotates many times and retention deletes the
    /// oldest segments meanwhile; following from the start (`--since 0`),
    /// the output is the workload byte for byte, and nothing is reported.
    @Test func followingARecorderGivesEveryEventAcrossRotationAndRetention() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.workload(hours: 0.1)
        let source = directory.appendingPathComponent("input.jsonl")
        try input.write(to: source)
        let logs = directory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: false)

        let follower = try FollowedRun(["decode", "--follow", "--since", "0", logs.path])
        let record = try Tool.run(["--dir", logs.path, "--replay", source.path, "--speed", "90", "--flush-interval", "1",
                                   "--max-segment-bytes", "4096", "--max-total-bytes", "12288"], executable: Tool.record)
        #expect(record.exitCode == 0, "\(record.stderrText)")
        let deleted = try #require(Self.count(before: " deleted by retention", in: record.stderrText), "\(record.stderrText)")
        let segments = try #require(Self.count(before: " segments", in: record.stderrText))
        #expect(deleted > 0 && segments > deleted + 1, "\(record.stderrText)")

        try follower.waitForOutput(count: input.count, timeout: 30)
        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
        #expect(result.stdout == input)
        // Never deletes anything: what retention left is still there.
        #expect(try Self.segmentNames(in: logs).count == segments - deleted)
    }

    // MARK: Following a writer the test controls

    /// Without `--since` it starts with the newest block already written,
    /// then gives each block as it is written, within the flush interval
    /// plus a second of its write (here a generous bound, for a loaded machine).
    @Test func withoutSinceItStartsAtTheNewestBlockThenGivesEachNewBlock() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        for _ in 0..<3 { try log.write(blocks.next()) }
        try log.sync()
        let follower = try FollowedRun(["decode", "--follow", log.target.path])
        try follower.waitForOutput(count: blocks.bytes(of: 2...2).count, timeout: 20)
        #expect(follower.output == blocks.bytes(of: 2...2))

        for index in 3..<6 {
            try log.write(blocks.next())
            try log.sync()
            let written = Date()
            try follower.waitForOutput(count: blocks.bytes(of: 2...index).count, timeout: 20)
            // The poll interval is 250 ms; the bound leaves room for a busy machine.
            #expect(Date().timeIntervalSince(written) < 5)
        }
        let result = try follower.stop(SIGINT)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        #expect(result.stdout == blocks.bytes(of: 2...5))
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
    }

    /// A followed directory that is removed is said once on stderr (not an
    /// error: following goes on), and so is its coming back; a segment
    /// written into it then is followed as before.
    @Test func aDirectoryRemovedAndMadeAgainIsSaidAndFollowedAgain() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow([], afterOneBlockOf: &blocks)
        try FileManager.default.removeItem(at: log.target)
        try follower.waitForErrors(containing: "\(log.target.path): cannot be listed now", timeout: 20)
        try FileManager.default.createDirectory(at: log.target, withIntermediateDirectories: false)
        try follower.waitForErrors(containing: "\(log.target.path): can be listed again", timeout: 20)
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        try follower.waitForOutput(count: blocks.bytes(of: 0...1).count, timeout: 20)
        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        #expect(result.stdout == blocks.bytes(of: 0...1))
        #expect(result.stderrText.components(separatedBy: "cannot be listed now").count == 2, "once: \(result.stderrText)")
    }

    /// A block half written (a writer in the middle of its write) is a torn
    /// tail: nothing of it is printed and nothing is reported; once the rest
    /// of it lands, its events come out.
    @Test func aBlockStillBeingWrittenIsWaitedForNotReported() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow(["--since", "0"], afterOneBlockOf: &blocks)

        for cut in [1, 7, 15, 16, 40] {
            let index = blocks.count
            try log.write(blocks.next())
            try log.sync(holdingBack: log.lastBlockBytes - cut)  // `cut` bytes of the new block only
            usleep(800_000)  // three polls or more
            #expect(follower.output == blocks.bytes(of: 0..<index), "cut at \(cut)")
            #expect(follower.errors.isEmpty, "cut at \(cut): \(String(decoding: follower.errors, as: UTF8.self))")
            try log.sync()
            try follower.waitForOutput(count: blocks.bytes(of: 0...index).count, timeout: 20)
        }
        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 0)
        #expect(result.stdout == blocks.bytes(of: 0..<blocks.count))
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
    }

    /// Rotation: the old segment is finished (its last block, written just
    /// before the new segment appeared, comes first), then the new one is
    /// followed. Retention deleting the segment being read, or one not yet
    /// reached, is not an error; the follower deletes nothing itself.
    @Test func rotationIsFollowedAndRetentionDeletingSegmentsIsNoError() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow(["--since", "0"], afterOneBlockOf: &blocks)

        // A last block, then a new segment at once: both come out, in order.
        try log.write(blocks.next())
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        try follower.waitForOutput(count: blocks.bytes(of: 0...2).count, timeout: 20)
        #expect(follower.output == blocks.bytes(of: 0...2))

        // Retention deletes the segment being followed: it is read to its
        // end all the same (its descriptor is held), and the next one after it.
        try log.write(blocks.next())
        try log.sync()
        try log.deleteOldest(keeping: 0)
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        try follower.waitForOutput(count: blocks.bytes(of: 0...4).count, timeout: 20)

        // Segments come and go faster than it polls: one written and
        // deleted before it was reached is skipped without a word.
        try log.rotate()
        let skipped = blocks.count
        try log.write(blocks.next())
        try log.sync()
        try log.deleteNewest()
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        let expected = blocks.bytes(of: 0..<skipped) + blocks.bytes(of: (skipped + 1)..<blocks.count)
        try follower.waitForOutput(count: expected.count, timeout: 20)
        let names = try Self.segmentNames(in: log.target)
        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        // The skipped block may have been seen if a poll fell between its write and its deletion.
        #expect(result.stdout == expected || result.stdout == blocks.bytes(of: 0..<blocks.count))
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
        #expect(try Self.segmentNames(in: log.target) == names)
    }

    /// Damage in the segment being written is held back while it runs to
    /// the end of the file (it may be a block still being written), and
    /// reported with file and offset once a valid block follows it; damage
    /// found when a segment is closed is reported too; at the signal it exits 1.
    @Test func realDamageIsReportedWithFileAndOffset() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow(["--since", "0"], afterOneBlockOf: &blocks)

        // Block 1 lands with a flipped byte in its stored bytes.
        try log.write(blocks.next())
        let damagedAt = try log.sync(flippingByteAt: 20)
        usleep(800_000)
        #expect(follower.errors.isEmpty, "\(String(decoding: follower.errors, as: UTF8.self))")
        // Block 2 follows it: the damage is now a region between two frames.
        try log.write(blocks.next())
        try log.sync()
        var expected = blocks.bytes(of: 0...0) + blocks.bytes(of: 2...2)
        try follower.waitForOutput(count: expected.count, timeout: 20)
        let path = log.target.appendingPathComponent(damagedAt.name).path
        try follower.waitForErrors(containing: "\(path): offset \(damagedAt.offset): block checksum mismatch; skipped \(damagedAt.length) bytes", timeout: 20)

        // The last block of a segment damaged, then a rotation: reported as the segment is closed.
        try log.write(blocks.next())
        let closedDamage = try log.sync(flippingByteAt: 20)
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        expected += blocks.bytes(of: 4...4)
        try follower.waitForOutput(count: expected.count, timeout: 20)
        let closedPath = log.target.appendingPathComponent(closedDamage.name).path
        try follower.waitForErrors(containing: "\(closedPath): offset \(closedDamage.offset): block checksum mismatch", timeout: 20)

        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 1, "\(result.stderrText)")
        #expect(result.stdout == expected)
        #expect(result.stderrText.split(separator: "\n").count == 2, "\(result.stderrText)")
    }

    /// `--strict` stops at the first damage, exit 2, after the events before it.
    @Test func strictStopsAtTheFirstDamage() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow(["--strict", "--since", "0"], afterOneBlockOf: &blocks)
        try log.write(blocks.next())
        try log.sync(flippingByteAt: 20)
        try log.write(blocks.next())
        try log.sync()
        let result = try follower.waitForExit(timeout: 20)
        #expect(result.exitCode == 2, "\(result.stderrText)")
        #expect(result.stdout == blocks.bytes(of: 0...0))
        #expect(result.stderrText.contains("block checksum mismatch"))
    }

    /// SIGINT and SIGTERM end it with exit 0 and every line it read written
    /// whole, including a block written just before the signal.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalEndsItWithEverythingFlushed(_ signal: Int32) throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        let follower = try log.follow(["--since", "0"], afterOneBlockOf: &blocks)
        try log.write(blocks.next())
        try log.sync()
        try follower.waitForOutput(count: blocks.bytes(of: 0...1).count, timeout: 20)
        try log.write(blocks.next())
        try log.sync()
        let result = try follower.stop(signal)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
        // The last block may or may not have been read before the signal; what was read is all there.
        #expect(result.stdout == blocks.bytes(of: 0...1) || result.stdout == blocks.bytes(of: 0...2))
    }

    /// Any output format follows: CSV in 10 s windows comes out as `decode`
    /// of the same directory gives it, each window once it is closed (a
    /// prefix while following), the open one at the signal.
    @Test func formatsAndWindowsFollowAsDecodeGivesThem() throws {
        let log = try MirroredLog()
        defer { log.remove() }
        var blocks = EventBlocks()
        try log.write(blocks.next())
        try log.sync()
        let options = ["--format", "csv", "--resolution", "10s"]
        let follower = try FollowedRun(["decode", "--follow", "--since", "0"] + options + [log.target.path])
        for _ in 0..<3 {
            try log.write(blocks.next())
            try log.sync()
        }
        try log.rotate()
        try log.write(blocks.next())
        try log.sync()
        let whole = try Tool.run(["decode"] + options + [log.target.path])
        #expect(whole.exitCode == 0, "\(whole.stderrText)")
        // All but the last window are closed by later events.
        let lastWindow = try #require(whole.stdout.split(separator: UInt8(ascii: "\n")).last.map { String(decoding: $0, as: UTF8.self) })
        let lastStart = String(lastWindow.prefix { $0 != "," })
        let closed = whole.stdout.split(separator: UInt8(ascii: "\n")).filter { !String(decoding: $0, as: UTF8.self).hasPrefix(lastStart + ",") }
        let closedBytes = Data(closed.map { Data($0) + Data([UInt8(ascii: "\n")]) }.joined())
        try follower.waitForOutput(count: closedBytes.count, timeout: 20)
        usleep(600_000)
        // Before the signal: every closed window, and not the open one's last
        // event (earlier events of it may be out: a sum that would pass 2^64-1
        // writes the window's event so far at once).
        let seen = follower.output
        #expect(seen.count >= closedBytes.count && seen.count < whole.stdout.count, "\(seen.count) of \(whole.stdout.count) bytes")
        #expect(whole.stdout.starts(with: seen))
        let result = try follower.stop(SIGTERM)
        #expect(result.exitCode == 0, "\(result.stderrText)")
        #expect(result.stdout == whole.stdout)
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
    }

    // MARK: Arguments

    @Test(arguments: [
        (["--consume"], "--consume"),
        (["--until", "1000"], "--until"),
        (["SECOND"], "one directory"),
        (["FILE"], "not one"),
    ])
    func followRefusesWhatCannotBeFollowed(_ extra: [String], _ reason: String) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("file.sslog")
        try Data().write(to: file)
        var arguments = ["decode", "--follow"]
        for argument in extra {
            switch argument {
            case "SECOND": arguments += [directory.path]
            case "FILE": break
            default: arguments.append(argument)
            }
        }
        arguments.append(extra == ["FILE"] ? file.path : directory.path)
        let run = try Tool.run(arguments)
        #expect(run.exitCode == 64, "\(run.stderrText)")
        #expect(run.stderrText.contains(reason), "\(run.stderrText)")
        #expect(run.stdout.isEmpty)
    }

    @Test func followingADirectoryThatDoesNotExistIsAMissingInput() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run(["decode", "--follow", directory.appendingPathComponent("none").path])
        #expect(run.exitCode == 66, "\(run.stderrText)")
        #expect(run.stderrText.contains("none: cannot follow"), "\(run.stderrText)")
    }

    // MARK: Helpers

    static func workload(hours: Double) throws -> Data {
        try Workload.lines(hours: hours, seed: 3)
    }

    /// The number just before `suffix` in a summary line ("3 deleted by retention").
    static func count(before suffix: String, in text: String) -> Int? {
        guard let range = text.range(of: suffix) else { return nil }
        return Int(String(text[..<range.lowerBound].reversed().prefix { $0.isNumber }.reversed()))
    }

    static func segmentNames(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sslog") }.sorted()
    }
}

// MARK: - The followed process

/// `sockstat-convert` running in the background, its output gathered as it comes.
final class FollowedRun: @unchecked Sendable {
    // @unchecked Sendable: the gathered bytes are behind `lock`; the process is used from the test's thread.
    private let process = Process()
    private let lock = NSLock()
    private var stdout = Data()
    private var stderr = Data()
    private let done = DispatchGroup()

    init(_ arguments: [String]) throws {
        process.executableURL = Tool.convert
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, isOutput) in [(output, true), (errors, false)] {
            done.enter()
            DispatchQueue.global().async { [self] in
                let handle = pipe.fileHandleForReading
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { if isOutput { stdout += chunk } else { stderr += chunk } }
                }
                done.leave()
            }
        }
    }

    var output: Data { lock.withLock { stdout } }
    var errors: Data { lock.withLock { stderr } }

    /// Waits until stdout holds at least `count` bytes.
    func waitForOutput(count: Int, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while output.count < count {
            try #require(Date() < deadline, "\(output.count) of \(count) bytes after \(timeout) s; stderr: \(String(decoding: errors, as: UTF8.self))")
            try #require(process.isRunning, "exited: \(String(decoding: errors, as: UTF8.self))")
            usleep(20_000)
        }
    }

    /// Waits until stderr contains `text`.
    func waitForErrors(containing text: String, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !String(decoding: errors, as: UTF8.self).contains(text) {
            try #require(Date() < deadline, "no '\(text)' on stderr after \(timeout) s: \(String(decoding: errors, as: UTF8.self))")
            usleep(20_000)
        }
    }

    /// Sends `signal` and waits for the exit.
    func stop(_ signal: Int32) throws -> ToolRun {
        kill(process.processIdentifier, signal)
        return try waitForExit(timeout: 20)
    }

    /// Waits for the process to end on its own (killing it after `timeout`).
    func waitForExit(timeout: TimeInterval) throws -> ToolRun {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("still running after \(timeout) s")
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        done.wait()
        return ToolRun(exitCode: process.terminationStatus, stdout: output, stderr: errors)
    }
}

// MARK: - A log written under the test's control

/// Blocks of events and the canonical lines they must come out as, written
/// by a tiny formatter of its own (ASCII labels need no escaping).
struct EventBlocks {
    private var random = TestRandom(seed: 14)
    private var time: Int64 = 1_796_000_000_000
    private(set) var blocks: [[Event]] = []

    var count: Int { blocks.count }

    /// The next block's events: 10 s of 100 ms events.
    mutating func next() -> [Event] {
        var events: [Event] = []
        for _ in 0..<(20 + random.below(60)) {
            var counts: [LabelCounts] = []
            for label in ["eth0", "tun0", "wlan0"] where random.oneIn(2) {
                counts.append(LabelCounts(label: Label(label), tx: UInt64(random.below(5000)), rx: random.next() >> 1))
            }
            if counts.isEmpty { counts = [LabelCounts(label: Label("eth0"), tx: 1, rx: 0)] }
            events.append(Event(time: time, duration: 100, isCellular: random.oneIn(5), counts: counts))
            time += 100
        }
        time += 10_000  // the next block starts after this one's flush interval
        blocks.append(events)
        return events
    }

    /// The lines of blocks `range`.
    func bytes(of range: some RangeExpression<Int>) -> Data {
        var text = ""
        for events in blocks[range.relative(to: blocks)] {
            for event in events {
                let members = event.counts.sorted { $0.label < $1.label }
                    .map { "\"\($0.label.description)\":[\($0.tx),\($0.rx)]" }.joined(separator: ",")
                text += "{\"t\":\(event.time),\"d\":\(event.duration)\(event.isCellular ? ",\"c\":1" : ""),\"s\":{\(members)}}\n"
            }
        }
        return Data(text.utf8)
    }
}

/// A `SegmentLogWriter` writing into a scratch directory, and the followed
/// directory the test copies its bytes into when and as it chooses: whole
/// blocks, part of one (a write in progress), a damaged one.
final class MirroredLog {
    let root: URL
    let source: URL
    let target: URL
    private let writer: SegmentLogWriter
    /// Bytes of each source segment copied so far.
    private var copied: [String: Int] = [:]
    /// The size of the last block written.
    private(set) var lastBlockBytes = 0
    private var lastSize = 0

    init() throws {
        root = try Tool.temporaryDirectory()
        source = root.appendingPathComponent("source")
        target = root.appendingPathComponent("followed")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        writer = try SegmentLogWriter(directory: source.path)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Writes `events` as one block to the source.
    func write(_ events: [Event]) throws {
        for event in events { try writer.append(event) }
        let before = writer.openSegmentBytes ?? 0
        try writer.flush()
        lastBlockBytes = (writer.openSegmentBytes ?? 0) - before
    }

    /// Writes one block of `blocks` and copies it over, starts `decode
    /// --follow` with `options` on the followed directory, and waits until
    /// it printed that block: where most follow tests begin.
    func follow(_ options: [String], afterOneBlockOf blocks: inout EventBlocks) throws -> FollowedRun {
        try write(blocks.next())
        try sync()
        let follower = try FollowedRun(["decode", "--follow"] + options + [target.path])
        try follower.waitForOutput(count: blocks.bytes(of: 0...0).count, timeout: 20)
        return follower
    }

    /// Closes the source's segment: the next block starts a new one.
    func rotate() throws { try writer.close() }

    /// Copies what the source has that the followed directory lacks, all
    /// but the last `holdingBack` bytes. A new segment appears whole-headed,
    /// as a writer makes it (written aside, then renamed).
    func sync(holdingBack: Int = 0) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".sslog") }.sorted()
        for (index, name) in names.enumerated() {
            let bytes = try Data(contentsOf: source.appendingPathComponent(name))
            let end = index == names.count - 1 ? bytes.count - holdingBack : bytes.count
            try copy(name, bytes: bytes, upTo: end)
        }
    }

    /// `sync()`, with the byte at `offset` of the last block flipped.
    ///
    /// - Returns: the segment, the block's offset and length.
    @discardableResult
    func sync(flippingByteAt offset: Int) throws -> (name: String, offset: Int, length: Int) {
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".sslog") }.sorted()
        let name = try #require(names.last)
        let path = source.appendingPathComponent(name)
        let bytes = try Data(contentsOf: path)
        let start = bytes.count - lastBlockBytes
        // In place: the writer's descriptor must still be on this file.
        let handle = try FileHandle(forUpdating: path)
        try handle.seek(toOffset: UInt64(start + offset))
        try handle.write(contentsOf: [bytes[start + offset] ^ 0x40])
        try handle.close()
        try sync()
        return (name, start, lastBlockBytes)
    }

    /// Deletes the oldest segments of both directories, keeping `keeping` (retention).
    func deleteOldest(keeping: Int) throws {
        let names = try FollowTests.segmentNames(in: target)
        for name in names.dropLast(keeping) {
            try FileManager.default.removeItem(at: target.appendingPathComponent(name))
        }
    }

    /// Deletes the newest segment of the followed directory.
    func deleteNewest() throws {
        let name = try #require(try FollowTests.segmentNames(in: target).last)
        try FileManager.default.removeItem(at: target.appendingPathComponent(name))
    }

    private func copy(_ name: String, bytes: Data, upTo end: Int) throws {
        let done = copied[name] ?? 0
        guard end > done else { return }
        let destination = target.appendingPathComponent(name)
        if copied[name] == nil {
            let aside = target.appendingPathComponent("." + name + ".tmp")
            try bytes.prefix(end).write(to: aside)
            guard rename(aside.path, destination.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } else {
            // A deleted segment (retention) is not made again.
            guard FileManager.default.fileExists(atPath: destination.path) else { copied[name] = end; return }
            let handle = try FileHandle(forWritingTo: destination)
            try handle.seekToEnd()
            try handle.write(contentsOf: bytes[done..<end])
            try handle.close()
        }
        copied[name] = end
    }
}
