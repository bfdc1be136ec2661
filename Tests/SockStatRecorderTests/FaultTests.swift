import Dispatch
import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import SystemPackage
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

// Faults of issue 5: a full disk, a read-only directory, a removed directory,
// files of someone else in the log directory, and the recorder's threads.
// Real faults where this machine allows them (a small tmpfs, a read-only bind
// mount: root in CI and here), else the writer's injected write failures.

/// Drives a `ScriptedSource` one poll at a time and keeps the events those
/// polls must give (derived from the counters set, by the delta rules).
final class Ticker {
    let recorder: Recorder
    let source: ScriptedSource
    private(set) var tick = 0
    private(set) var expected: [Event] = []
    private var previous: [String: (UInt64, UInt64)] = [:]
    private var totals: [String: (UInt64, UInt64)] = [:]
    private var random = SystemRandomNumberGenerator()
    let labels: [String]

    init(_ recorder: Recorder, _ source: ScriptedSource, labels: [String] = ["wlan0", "rmnet0", "dns"]) {
        self.recorder = recorder
        self.source = source
        self.labels = labels
    }

    /// Polls `count` times, 100 ms apart, each label's counters growing by random amounts.
    func run(_ count: Int) {
        for _ in 0..<count {
            var values: [(String, UInt64, UInt64)] = []
            var current: [String: (UInt64, UInt64)] = [:]
            for label in labels {
                var (tx, rx) = totals[label] ?? (0, 0)
                tx += UInt64.random(in: 1...5_000_000, using: &random)
                rx += UInt64.random(in: 0...70_000_000, using: &random)
                totals[label] = (tx, rx)
                values.append((label, tx, rx))
                current[label] = (tx, rx)
            }
            source.set(values)
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
            if tick > 0 {
                let entries = labels.sorted { Label($0) < Label($1) }.map { label in
                    (label, current[label]!.0 - previous[label]!.0, current[label]!.1 - previous[label]!.1)
                }
                expected.append(Event(time: Int64(tick - 1) * 100, duration: 100, counts: counts(entries)))
            }
            previous = current
            tick += 1
        }
    }
}

/// A tmpfs of `kilobytes` mounted on a fresh directory, or nil where this
/// process may not mount (not root, or no mount namespace rights).
final class SmallTmpfs {
    let path: String

    init?(kilobytes: Int) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-tmpfs-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil else { return nil }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k,mode=0700") == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
    }

    deinit {
        _ = umount2(path, 2 /* MNT_DETACH */)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Fills the file system, leaving about `bytes` free; returns the filler's path.
    func fill(leaving bytes: Int) throws -> String {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw Errno(rawValue: errno) }
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        let filler = path + "/filler"
        guard FileManager.default.createFile(atPath: filler, contents: Data(repeating: 0x55, count: max(free - bytes, 0))) else {
            throw Errno(rawValue: errno)
        }
        return filler
    }
}

/// A directory made read-only by bind-mounting it onto itself read-only
/// (root ignores permission bits); nil where this process may not mount.
final class ReadOnlyBind {
    let path: String
    init?(_ path: String) {
        self.path = path
        let bind: UInt = 4096, remount: UInt = 32, readOnly: UInt = 1
        guard mount(path, path, nil, bind, nil) == 0 else { return nil }
        guard mount(nil, path, nil, remount | bind | readOnly, nil) == 0 else {
            _ = umount2(path, 2)
            return nil
        }
    }
    func release() { _ = umount2(path, 2) }
    deinit { release() }
}

/// The bytes of every file in `directory`, by name.
func snapshotFiles(_ directory: String) -> [String: Data] {
    var files: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
        files[name] = FileManager.default.contents(atPath: directory + "/" + name)
    }
    return files
}

/// Whether `sub` is a subsequence of `all` (in order, nothing invented).
func isSubsequence(_ sub: [Event], of all: [Event]) -> Bool {
    var iterator = all.makeIterator()
    return sub.allSatisfy { wanted in
        while let next = iterator.next() { if next == wanted { return true } }
        return false
    }
}

@Suite(.serialized) struct FaultTests {
    // MARK: Disk full

    /// A real full disk (a 192 KiB tmpfs, filled): writes fail, polling goes
    /// on, failed blocks wait in the backlog, closed segments stay as they
    /// were, and when space returns everything that waited is written.
    @Test func aFullDiskIsSurvivedAndEverythingWaitingIsWrittenWhenSpaceReturns() throws {
        let tmpfs = SmallTmpfs(kilobytes: 192)
        let scratch = TemporaryDirectory()
        let directory = (tmpfs?.path ?? scratch.path) + "/logs"
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory)
        options.maxSegmentBytes = 8192
        options.maxTotalBytes = 64 << 20
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let ticker = Ticker(recorder, source)
        // Until a segment has just closed: the open one is far from rotating,
        // which would need room for a new file.
        while recorder.metrics.segments < 2 { ticker.run(10) }
        ticker.run(20)
        let failing = Atomic<Bool>(false)
        var filler: String?
        if let tmpfs {
            // Room for the open segment's next block or two at most.
            filler = try tmpfs.fill(leaving: 1024)
        } else {
            recorder.injectWriteFailure { _ in failing.load(ordering: .relaxed) ? .noSpace : nil }
            failing.store(true, ordering: .relaxed)
        }
        let closedBefore = snapshotFiles(directory).filter { $0.key != SegmentName.fileName(sequence: UInt64(recorder.metrics.segments)) }
        ticker.run(150)  // 15 s of a full disk
        let duringOutage = recorder.metrics
        #expect(duringOutage.writeErrors > 0, "the disk was not full")
        if let filler { try FileManager.default.removeItem(atPath: filler) } else { failing.store(false, ordering: .relaxed) }
        // Closed segments were not touched while the disk was full.
        for (name, bytes) in closedBefore { #expect(FileManager.default.contents(atPath: directory + "/" + name) == bytes, "\(name) changed") }
        ticker.run(100)
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        // The backlog (1 MiB) had room for 15 s: nothing was lost, all in order, no damage.
        #expect(metrics.eventsDropped == 0)
        #expect(try recordedEvents(directory) == ticker.expected)
    }

    /// A drain on a full disk cannot close the open segment (its block cannot
    /// be written), but it still delivers the closed segments, which frees the
    /// space; what was buffered is written next and the next drain has it.
    @Test func aDrainOnAFullDiskStillDeliversTheClosedSegmentsAndFreesTheirSpace() throws {
        let tmpfs = SmallTmpfs(kilobytes: 192)
        let scratch = TemporaryDirectory()
        let directory = (tmpfs?.path ?? scratch.path) + "/logs"
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory)
        options.maxSegmentBytes = 8192
        options.maxTotalBytes = 64 << 20
        options.flushIntervalMilliseconds = 1_000
        // A first run leaves closed segments.
        let first = try Recorder(source: source, options: options, clock: ManualClock())
        let firstTicker = Ticker(first, source)
        while first.metrics.segments < 3 { firstTicker.run(10) }
        #expect(first.shutdown())

        // A second run on a disk that fills up.
        options.maxSegmentBytes = 1 << 20  // no rotation: a new segment would need room too
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let ticker = Ticker(recorder, source, labels: ["x", "y", "z"])
        ticker.run(50)
        let failing = Atomic<Bool>(false)
        var filler: String?
        if let tmpfs {
            filler = try tmpfs.fill(leaving: 0)
        } else {
            recorder.injectWriteFailure { _ in failing.load(ordering: .relaxed) ? .noSpace : nil }
            failing.store(true, ordering: .relaxed)
        }
        while recorder.metrics.writeErrors == 0, ticker.tick < 2_000 { ticker.run(10) }
        #expect(recorder.metrics.writeErrors > 0, "the disk was not full")
        var delivered: [UInt8] = []
        let summary = try recorder.drain { delivered.append(contentsOf: $0) }
        #expect(summary.segments == first.metrics.segments)
        let firstLines = firstTicker.expected.flatMap { CanonicalJSON.line(for: $0) }
        #expect(delivered == firstLines, "the closed segments of the first run, delivered once")
        // The space the closed segments took is free again (the filler stays).
        _ = filler
        if tmpfs == nil { failing.store(false, ordering: .relaxed) }
        ticker.run(30)
        #expect(recorder.shutdown())
        var rest: [UInt8] = []
        try recorder.drain { rest.append(contentsOf: $0) }
        #expect(recorder.metrics.eventsDropped == 0)
        #expect(rest == ticker.expected.flatMap { CanonicalJSON.line(for: $0) }, "the second run, whole, after space came back")
    }

    // MARK: Read-only directory

    /// The directory turns read-only (a read-only bind mount; injected EROFS
    /// where mounting is not allowed): the open segment's blocks wait in the
    /// backlog or, once a new segment is needed, the events that cannot be
    /// stored are counted as dropped; polling goes on, closed segments stay
    /// as they were, and recording resumes when the directory is writable.
    @Test func aReadOnlyDirectoryIsReportedAndRecordingResumesWhenWritable() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 64 << 20
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let ticker = Ticker(recorder, source)
        ticker.run(200)
        let before = recorder.metrics
        let closedBefore = snapshotFiles(directory.path).filter { $0.key != SegmentName.fileName(sequence: UInt64(before.segments)) }
        let readOnly = ReadOnlyBind(directory.path)
        let failing = Atomic<Bool>(readOnly == nil)
        if readOnly == nil {
            recorder.injectWriteFailure { _ in failing.load(ordering: .relaxed) ? .readOnlyFileSystem : nil }
        }
        ticker.run(200)
        let during = recorder.metrics
        #expect(during.polls == before.polls + 200, "polling went on")
        #expect(during.eventsDropped + during.writeErrors > 0, "the read-only directory was reported")
        if readOnly != nil { #expect(during.segments == before.segments, "no segment could be created") }
        readOnly?.release()
        failing.store(false, ordering: .relaxed)
        for (name, bytes) in closedBefore {
            #expect(FileManager.default.contents(atPath: directory.path + "/" + name) == bytes, "\(name) changed")
        }
        ticker.run(100)
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        #expect(metrics.segments > before.segments, "recording resumed in a new segment")
        let events = try recordedEvents(directory.path)
        #expect(isSubsequence(events, of: ticker.expected))
        #expect(events.count + metrics.eventsDropped == ticker.expected.count, "every event is on disk or counted as dropped")
        // Everything after the directory became writable again is there.
        #expect(Array(events.suffix(100)) == Array(ticker.expected.suffix(100)))
    }

    // MARK: A directory removed while recording

    /// The log directory is removed twice while the background poller runs
    /// and bytes keep coming: the recorder re-creates it (0700) with a new
    /// segment each time and records everything after.
    @Test func removingTheDirectoryUnderTheBackgroundPollerLosesOnlyWhatWasInIt() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 5
        options.flushIntervalMilliseconds = 40
        let recorder = try Recorder(source: counters, options: options)
        let counter = try counters.counter(for: "a")
        recorder.start()
        let adding = Atomic<Bool>(true)
        let added = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while adding.load(ordering: .relaxed) { counter.add(sent: 1); usleep(1_000) }
            added.signal()
        }
        for _ in 0..<2 {
            usleep(UInt32.random(in: 60_000...120_000))
            let segments = recorder.metrics.segments
            try FileManager.default.removeItem(atPath: directory.path)
            // The recorder notices at its next block and starts a new segment in a new directory.
            let deadline = DispatchTime.now() + .seconds(10)
            while recorder.metrics.segments == segments, DispatchTime.now() < deadline { usleep(2_000) }
        }
        // From here every byte must be kept: it goes to the new segment.
        let keptFrom = counter.sent
        usleep(100_000)
        adding.store(false, ordering: .relaxed)
        added.wait()
        usleep(50_000)  // the poller sees the last adds
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        #expect(metrics.segments >= 3, "a new segment after each removal")
        #expect(try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int == 0o700)
        let events = try recordedEvents(directory.path)
        let sent = events.flatMap(\.counts).reduce(UInt64(0)) { $0 + $1.tx }
        #expect(sent >= counter.sent - keptFrom, "everything after the removal was recorded")
        #expect(sent <= counter.sent)
    }

    // MARK: Files of someone else

    /// Files of another user, and files with other names, in the log
    /// directory: retention, rotation and drains leave every one of them
    /// exactly as it was (root could delete them; the recorder must not).
    @Test func filesOfSomeoneElseAndOtherNamesAreLeftAlone() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let asRoot = geteuid() == 0
        let stranger: uid_t = asRoot ? 4242 : geteuid()
        func plant(_ name: String, _ contents: Data, owner: uid_t? = nil) throws {
            let path = directory.path + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: contents))
            if let owner, asRoot { #expect(chown(path, owner, owner) == 0) }
        }
        // A segment-named file and a writer's temporary name, of another user, ahead of our numbering.
        try plant(SegmentName.fileName(sequence: 3), Data("not ours".utf8), owner: stranger)
        try plant("." + SegmentName.fileName(sequence: 4) + ".tmp", Data([0x89, 0x53]), owner: stranger)
        // Ours, but not named like segments (a copy kept by hand, notes).
        var copy = SegmentHeader(sequence: 1, creationTime: 0).encoded()
        var encoder = BlockEncoder(segmentSequence: 1)
        try encoder.append(Event(time: 5, duration: 1, counts: counts([("copied", 1, 1)])))
        encoder.finishBlock(using: Deflater(), appendingTo: &copy)
        try plant("backup.sslog", Data(copy))
        try plant("notes.txt", Data(repeating: 7, count: 100))
        try FileManager.default.createDirectory(atPath: directory.path + "/" + SegmentName.fileName(sequence: 2),
                                                withIntermediateDirectories: false)
        let planted = snapshotFiles(directory.path)

        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 24 * 1024
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let ticker = Ticker(recorder, source)
        ticker.run(1_500)
        var delivered: [UInt8] = []
        try recorder.drain { delivered.append(contentsOf: $0) }
        ticker.run(300)
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        #expect(metrics.segmentsDeleted > 0, "retention ran")
        #expect(metrics.eventsDropped == 0)
        #expect(metrics.writeErrors == 0)
        // Every planted file is still there, unchanged, with its owner.
        let now = snapshotFiles(directory.path)
        for (name, bytes) in planted { #expect(now[name] == bytes, "\(name) was touched") }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory.path + "/" + SegmentName.fileName(sequence: 2), isDirectory: &isDirectory) && isDirectory.boolValue)
        // Our numbering went around the names already taken.
        let ours = now.keys.compactMap(SegmentName.sequence(fromFileName:)).filter { ![2, 3].contains($0) }
        #expect(!ours.contains(4), "a sequence number whose temporary name belongs to someone else was used")
        // The drain delivered only our events: the copy in backup.sslog was neither delivered nor deleted.
        let lines = delivered.split(separator: UInt8(ascii: "\n")).map { Array($0) + [UInt8(ascii: "\n")] }
        let expectedLines = Set(ticker.expected.map { CanonicalJSON.line(for: $0) })
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { expectedLines.contains($0) })
    }

    // MARK: Threads

    /// A poll waiting for the lock a drain holds (a slow disk under the
    /// drain's close) reads the clock once it has the lock: the event's end
    /// is when its counters were read, not when the poll started waiting.
    @Test func aPollThatWaitsForADrainTakesTheTimeWhenItReadsTheCounters() throws {
        /// A manual clock that says when it is read.
        final class WatchedClock: RecorderClock {
            let inner: ManualClock
            let watching = Atomic<Bool>(false)
            let read = DispatchSemaphore(value: 0)
            init(_ initial: ClockReading) { inner = ManualClock(initial) }
            func now() -> ClockReading {
                let value = inner.now()
                if watching.exchange(false, ordering: .relaxed) { read.signal() }
                return value
            }
        }
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let clock = WatchedClock(reading(1_000, 1_000))
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: clock)
        source.set([("a", 0, 0)])
        recorder.poll()                                   // baseline
        let previous = reading(1_100, 1_100)
        clock.inner.set(previous)
        source.set([("a", 5, 0)])
        recorder.poll()                                   // one event buffered
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let slowOnce = Atomic<Bool>(true)
        recorder.injectWriteFailure { _ in
            if slowOnce.exchange(false, ordering: .relaxed) {
                entered.signal()
                release.wait()                            // a slow disk under the drain's close
            }
            return nil
        }
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? recorder.drain { _ in }
            drained.signal()
        }
        entered.wait()                                    // the drain holds the lock
        clock.inner.set(reading(1_200, 1_200))
        source.set([("a", 9, 0)])
        let polled = DispatchSemaphore(value: 0)
        clock.watching.store(true, ordering: .relaxed)
        Thread.detachNewThread {
            recorder.poll()                               // waits for the drain's lock
            polled.signal()
        }
        // A poll that reads the clock before it has the lock does so now; one
        // that reads it under the lock cannot until the drain is done.
        _ = clock.read.wait(timeout: .now() + .milliseconds(300))
        let whenRead = reading(1_700, 1_700)              // time goes on while it waits
        clock.inner.set(whenRead)
        release.signal()
        drained.wait()
        polled.wait()
        #expect(recorder.shutdown())
        var delivered: [UInt8] = []
        try recorder.drain { delivered.append(contentsOf: $0) }
        let expected = Event(time: previous.wallMilliseconds,
                             duration: Int64(whenRead.monotonicMilliseconds - previous.monotonicMilliseconds),
                             counts: counts([("a", 9 - 5, 0)]))
        #expect(String(decoding: delivered, as: UTF8.self) == String(decoding: CanonicalJSON.line(for: expected), as: UTF8.self),
                "the poll took a stale clock reading")
    }

    /// Many threads add to in-process counters while the poller runs every
    /// 2 ms, drains run, recording is paused and resumed, and the recorder is
    /// shut down while the threads are still adding. A source that logs what
    /// each poll read gives the exact total each label must have: per run of
    /// polls (between pauses), its last reading minus its baseline. What the
    /// drains delivered adds up to exactly that: no event lost or doubled.
    @Test func countersAddedThroughPausesDrainsAndAShutdownAddUpExactly() throws {
        /// Logs every snapshot the recorder reads, and where recording resumed.
        final class LoggingSource: CounterSource, @unchecked Sendable {
            let inner = InProcessCounters()
            private let lock = NSLock()
            private var entries: [[String: (UInt64, UInt64)]?] = []  // nil: a new run starts
            func read(into snapshot: inout CounterSnapshot) {
                inner.read(into: &snapshot)
                var values: [String: (UInt64, UInt64)] = [:]
                for index in 0..<snapshot.count {
                    values[snapshot.labels[index].description] = (snapshot.tx[index], snapshot.rx[index])
                }
                lock.withLock { entries.append(values) }
            }
            func newRun() { lock.withLock { entries.append(nil) } }
            /// Per label: the sum over runs of (last reading - baseline reading).
            func expectedTotals() -> [String: (UInt64, UInt64)] {
                var totals: [String: (UInt64, UInt64)] = [:]
                var runs: [[[String: (UInt64, UInt64)]]] = [[]]
                for entry in lock.withLock({ entries }) {
                    if let entry { runs[runs.count - 1].append(entry) } else { runs.append([]) }
                }
                for run in runs {
                    guard let first = run.first, let last = run.last else { continue }
                    for (label, value) in last {
                        let base = first[label] ?? (0, 0)
                        let sum = totals[label] ?? (0, 0)
                        totals[label] = (sum.0 + value.0 - base.0, sum.1 + value.1 - base.1)
                    }
                }
                return totals
            }
        }
        let directory = TemporaryDirectory()
        let source = LoggingSource()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 2
        options.flushIntervalMilliseconds = 30
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 64 << 20
        let recorder = try Recorder(source: source, options: options)
        let labels = ["dns", "derp", "control", "logs", "peer"]
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        for thread in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                var index = 0
                while !stop.load(ordering: .relaxed) {
                    // Counters appear while recording runs, too.
                    try! source.inner.counter(for: labels[(thread + index) % labels.count] + (index % 500 == 499 ? "-\(index)" : ""))
                        .add(sent: UInt64(index % 7 + 1), received: UInt64(index % 3))
                    index += 1
                    if index % 64 == 0 { usleep(50) }
                }
                group.leave()
            }
        }
        recorder.start()
        nonisolated(unsafe) var delivered: [UInt8] = []
        let draining = Atomic<Bool>(true)
        let drainerDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while draining.load(ordering: .relaxed) {
                _ = try? recorder.drain { delivered.append(contentsOf: $0) }
                usleep(7_000)
            }
            drainerDone.signal()
        }
        for _ in 0..<8 {
            usleep(25_000)
            recorder.isEnabled = false
            source.newRun()        // no poll reads while disabled: the next reading is the new run's baseline
            usleep(5_000)
            recorder.isEnabled = true
        }
        usleep(20_000)
        #expect(recorder.shutdown())   // the threads are still adding
        draining.store(false, ordering: .relaxed)
        drainerDone.wait()
        stop.store(true, ordering: .relaxed)
        group.wait()
        try recorder.drain { delivered.append(contentsOf: $0) }

        var totals: [String: (UInt64, UInt64)] = [:]
        let parser = JSONLinesParser()
        for (number, line) in delivered.split(separator: UInt8(ascii: "\n")).enumerated() {
            let event = try #require(try parser.parse(Array(line), lineNumber: number + 1))
            for entry in event.counts {
                let sum = totals[entry.label.description] ?? (0, 0)
                totals[entry.label.description] = (sum.0 + entry.tx, sum.1 + entry.rx)
            }
        }
        let expected = source.expectedTotals().filter { $0.value != (0, 0) }
        #expect(expected.count >= labels.count)
        #expect(Set(totals.keys) == Set(expected.keys))
        for (label, value) in expected {
            #expect(totals[label]?.0 == value.0 && totals[label]?.1 == value.1, "\(label)")
        }
        #expect(recorder.metrics.eventsDropped == 0)
    }
}
