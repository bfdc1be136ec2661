import Foundation
import Dispatch
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import SystemPackage
import Testing
import TestSupport

/// A source whose counters the test sets.
final class ScriptedSource: CounterSource {
    private let current = Lock(CounterSnapshot())
    private let failing = Lock(false)

    func set(_ values: [(String, UInt64, UInt64)], cellular: Bool = false) {
        current.withLock { $0 = snapshot(values, cellular: cellular) }
    }

    func fail(_ value: Bool) { failing.withLock { $0 = value } }

    struct Failure: Error {}

    func read(into snapshot: inout CounterSnapshot) throws {
        if failing.withLock({ $0 }) { throw Failure() }
        snapshot = current.withLock { $0 }
    }
}

/// Every event in `directory`, in order, through the store's reader.
func recordedEvents(_ directory: String) throws -> [Event] {
    var events: [Event] = []
    var decoder = BlockDecoder()
    var block = DecodedBlock()
    for file in try SegmentDirectory.segments(in: directory) {
        var reader = try SegmentReader(bytes: try SegmentDirectory.read(file.path))
        loop: while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block: events.append(contentsOf: block.events)
            case .damage(let damage): Issue.record("damage: \(damage)")
            case .end: break loop
            }
        }
    }
    return events
}

func directoryBytes(_ directory: String) -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.reduce(0) { total, name in
        total + ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0)
    }
}

func reading(_ wall: Int64, _ monotonic: UInt64) -> ClockReading {
    ClockReading(wallMilliseconds: wall, monotonicMilliseconds: monotonic)
}

struct RecorderTests {
    @Test func eventsTakeTheirTimeFromThePreviousPollAndTheirLengthFromTheMonotonicClock() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 10, 10)])
        recorder.poll(at: reading(1_000, 50))          // baseline
        source.set([("a", 15, 10)])
        recorder.poll(at: reading(1_100, 150))         // a +5
        recorder.poll(at: reading(1_200, 250))         // nothing changed: no event
        source.set([("a", 15, 12), ("b", 1, 0)], cellular: true)
        recorder.poll(at: reading(900, 5_250))         // wall went back; process stalled 5 s
        #expect(recorder.shutdown())
        #expect(try recordedEvents(directory.path) == [
            Event(time: 1_000, duration: 100, counts: counts([("a", 5, 0)])),
            Event(time: 1_200, duration: 5_000, isCellular: true, counts: counts([("a", 0, 2), ("b", 1, 0)])),
        ])
        let metrics = recorder.metrics
        #expect(metrics.polls == 5, "four, and shutdown's last one (nothing changed: no event)")
        #expect(metrics.events == 2)
        #expect(metrics.segments == 1)
    }

    @Test func eventsAreWrittenOneBlockPerFlushIntervalAndAtShutdown() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        for tick in 0...250 {
            source.set([("a", UInt64(tick), 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
            if tick == 50 {
                // Nothing is on disk before the first flush interval has passed.
                #expect(recorder.metrics.blocks == 0)
            }
        }
        // 250 events over 25 s: blocks at 10 s and 20 s; the rest waits in memory.
        #expect(recorder.metrics.blocks == 2)
        #expect(recorder.shutdown())
        #expect(recorder.metrics.blocks == 3)
        #expect(try recordedEvents(directory.path).count == 250)
    }

    @Test func retentionKeepsTheDirectoryUnderItsCapAtEveryStep() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 16 * 1024
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        var generator = SystemRandomNumberGenerator()
        var tx: UInt64 = 0
        for tick in 0..<20_000 {
            tx &+= UInt64.random(in: 1...1_000_000, using: &generator)
            source.set([("wlan0", tx, tx / 3)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
            if tick % 50 == 0 {
                #expect(directoryBytes(directory.path) <= options.maxTotalBytes, "at tick \(tick)")
            }
        }
        #expect(recorder.shutdown())
        #expect(directoryBytes(directory.path) <= options.maxTotalBytes)
        let metrics = recorder.metrics
        #expect(metrics.segmentsDeleted > 0)
        #expect(metrics.segments > 4)
        // What is left is the newest events, in order, without gaps inside a segment run.
        let events = try recordedEvents(directory.path)
        #expect(!events.isEmpty)
        #expect(events.last.map(\.time) == Int64(19_998 * 100))
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.time < $1.time })
    }

    @Test func retentionLeavesOtherFilesAlone() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory.path + "/notes.txt", contents: Data(repeating: 1, count: 50_000)))
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 8192
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        for tick in 0..<3_000 {
            source.set([("a", UInt64(tick) * 7919, UInt64(tick) * 104_729)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
        #expect(recorder.shutdown())
        #expect(FileManager.default.fileExists(atPath: directory.path + "/notes.txt"))
    }

    @Test func theLogIsPrivate() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 1, 1)])
        recorder.poll(at: reading(0, 0))
        source.set([("a", 2, 1)])
        recorder.poll(at: reading(100, 100))
        #expect(recorder.shutdown())
        #expect(try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            #expect(try FileManager.default.attributesOfItem(atPath: directory.path + "/" + name)[.posixPermissions] as? Int == 0o600)
        }
    }

    @Test func aNewRunStartsANewSegmentAndLeavesTheOldOneAsItIs() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        for run in 0..<2 {
            let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
            source.set([("a", 0, 0)])
            recorder.poll(at: reading(Int64(run) * 10_000, 0))
            source.set([("a", 5, 5)])
            recorder.poll(at: reading(Int64(run) * 10_000 + 100, 100))
            #expect(recorder.shutdown())
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == [SegmentName.fileName(sequence: 1), SegmentName.fileName(sequence: 2)])
        #expect(try recordedEvents(directory.path).map(\.time) == [0, 10_000])
    }

    @Test func disablingPausesAndEnablingStartsFromANewBaseline() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 0, 0)])
        recorder.poll(at: reading(0, 0))
        source.set([("a", 1, 0)])
        recorder.poll(at: reading(100, 100))
        recorder.isEnabled = false
        #expect(recorder.metrics.blocks == 1, "disabling writes the buffered block")
        source.set([("a", 500, 0)])
        recorder.isEnabled = true
        recorder.poll(at: reading(60_000, 60_000))     // baseline again
        source.set([("a", 502, 0)])
        recorder.poll(at: reading(60_100, 60_100))
        #expect(recorder.shutdown())
        #expect(try recordedEvents(directory.path) == [
            Event(time: 0, duration: 100, counts: counts([("a", 1, 0)])),
            Event(time: 60_000, duration: 100, counts: counts([("a", 2, 0)])),
        ])
    }

    @Test func aSourceThatFailsIsCountedAndPollingGoesOn() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 0, 0)])
        recorder.poll(at: reading(0, 0))
        source.fail(true)
        recorder.poll(at: reading(100, 100))
        source.fail(false)
        source.set([("a", 3, 0)])
        recorder.poll(at: reading(200, 200))
        #expect(recorder.shutdown())
        #expect(recorder.metrics.sourceErrors == 1)
        // The failed poll is skipped: the next event spans from the last good poll.
        #expect(try recordedEvents(directory.path) == [Event(time: 0, duration: 200, counts: counts([("a", 3, 0)]))])
    }

    @Test func removingTheDirectoryWhileRecordingLosesOnlyWhatWasInIt() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        for tick in 0...30 {
            source.set([("a", UInt64(tick), 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
        try FileManager.default.removeItem(atPath: directory.path)
        for tick in 31...60 {
            source.set([("a", UInt64(tick), 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
        #expect(recorder.shutdown())
        // The directory came back with a new segment holding what followed the
        // removal; the block being built when it went is dropped, and counted.
        let times = try recordedEvents(directory.path).map(\.time)
        #expect(!times.isEmpty)
        #expect(times.last == 5_900)
        #expect(times.allSatisfy { $0 >= 2_000 })
        let metrics = recorder.metrics
        #expect(metrics.eventsDropped > 0)
        #expect(times.count + metrics.eventsDropped == 60 - 20, "every event after the last block written is on disk or counted")
    }

    @Test func shutdownWithoutStartWritesWhatIsBuffered() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 0, 0)])
        recorder.poll(at: reading(0, 0))
        source.set([("a", 9, 9)])
        recorder.poll(at: reading(100, 100))
        #expect(recorder.metrics.blocks == 0)
        #expect(recorder.shutdown())
        #expect(try recordedEvents(directory.path).count == 1)
    }

    @Test func theBackgroundPollerRecordsAndShutsDownPromptly() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 10
        let recorder = try Recorder(source: source, options: options)
        recorder.start()
        for step in 1...20 {
            source.set([("a", UInt64(step), 0)])
            usleep(15_000)
        }
        let started = DispatchTime.now()
        #expect(recorder.shutdown())
        #expect(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds < 1_000_000_000)
        let events = try recordedEvents(directory.path)
        #expect(!events.isEmpty)
        // Deltas add up to the final counter (minus what the baseline already saw).
        let total = events.flatMap(\.counts).reduce(UInt64(0)) { $0 + $1.tx }
        #expect(total >= 15 && total <= 20)
        #expect(events.allSatisfy { $0.duration >= 0 })
    }

    @Test func aFullDiskLosesNothingWhileTheBacklogHasRoom() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let writes = Atomic<Int>(0)
        recorder.injectWriteFailure { _ in
            let number = writes.add(1, ordering: .relaxed).newValue
            return (2...4).contains(number) ? .noSpace : nil
        }
        for tick in 0...100 {
            source.set([("a", UInt64(tick) * 1000, 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        #expect(metrics.writeErrors == 3)
        #expect(metrics.eventsDropped == 0)
        // Every event is there, in order, and the partial writes left no damage.
        #expect(try recordedEvents(directory.path).map(\.time) == (0..<100).map { Int64($0) * 100 })
    }

    @Test func aBacklogPastItsCapDropsTheOldestBlocksAndCountsTheirEvents() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.flushIntervalMilliseconds = 1_000
        options.maxBacklogBytes = 100
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let failing = Atomic<Bool>(false)
        recorder.injectWriteFailure { _ in failing.load(ordering: .relaxed) ? .noSpace : nil }
        var tick = 0
        func run(_ count: Int) {
            for _ in 0..<count {
                tick += 1
                source.set([("a", UInt64(tick) * 7919, UInt64(tick))])
                recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
            }
        }
        run(50)
        failing.store(true, ordering: .relaxed)
        run(100)
        failing.store(false, ordering: .relaxed)
        run(50)
        #expect(recorder.shutdown())
        let metrics = recorder.metrics
        #expect(metrics.eventsDropped > 0)
        let events = try recordedEvents(directory.path)
        #expect(events.count + metrics.eventsDropped == metrics.events)
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.time < $1.time })
    }

    @Test func shutdownReturnsWithinItsBoundWhenTheDiskIsSlow() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 10
        let recorder = try Recorder(source: source, options: options)
        recorder.injectWriteFailure { _ in
            usleep(2_500_000)  // a very slow disk
            return nil
        }
        recorder.start()
        for step in 1...10 {
            source.set([("a", UInt64(step), 0)])
            usleep(20_000)
        }
        let started = DispatchTime.now()
        let finished = recorder.shutdown()
        let elapsed = DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds
        #expect(finished == false)
        #expect(elapsed < 1_500_000_000)
        usleep(3_000_000)  // let the slow write end before the directory goes
        #expect(try recordedEvents(directory.path).count > 0)
    }

    @Test func recordingGoesOnWhenACollectorTakesClosedSegments() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 12 * 1024
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        var generator = SystemRandomNumberGenerator()
        var tx: UInt64 = 0
        var collected = 0
        for tick in 0..<6_000 {
            tx &+= UInt64.random(in: 1...1_000_000, using: &generator)
            source.set([("a", tx, 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
            if tick % 700 == 0 {
                // A collector takes every closed segment (the open one is locked).
                for file in try SegmentDirectory.segments(in: directory.path) {
                    guard let claimed = SegmentDirectory.claim(file.path) else { continue }
                    try claimed.remove()
                    claimed.release()
                    collected += 1
                }
            }
            #expect(directoryBytes(directory.path) <= options.maxTotalBytes)
        }
        #expect(recorder.shutdown())
        #expect(collected > 0)
        let metrics = recorder.metrics
        #expect(metrics.writeErrors == 0)
        #expect(metrics.eventsDropped == 0)
        #expect(try recordedEvents(directory.path).last.map(\.time) == Int64(5_998 * 100))
    }

    @Test func aTemporaryFileLeftByACrashDoesNotStopRecording() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        // A writer killed between creating segment 1's temporary file and renaming it.
        #expect(FileManager.default.createFile(atPath: directory.path + "/." + SegmentName.fileName(sequence: 1) + ".tmp",
                                       contents: Data([0x89, 0x53])))
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 0, 0)])
        recorder.poll(at: reading(0, 0))
        source.set([("a", 5, 0)])
        recorder.poll(at: reading(100, 100))
        #expect(recorder.shutdown())
        #expect(recorder.metrics.eventsDropped == 0)
        #expect(try recordedEvents(directory.path).count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [SegmentName.fileName(sequence: 1)])
    }

    @Test func aFailingSourceDoesNotHoldBackTheBlockWhoseTimeIsUp() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.flushIntervalMilliseconds = 1_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        source.set([("a", 0, 0)])
        recorder.poll(at: reading(0, 0))
        source.set([("a", 5, 0)])
        recorder.poll(at: reading(100, 100))
        source.fail(true)
        for tick in 2...30 { recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100)) }
        #expect(recorder.metrics.blocks == 1)
        #expect(recorder.shutdown())
    }

    @Test func aFinalWriteThatFailsIsCountedAsDropped() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        recorder.injectWriteFailure { _ in .noSpace }
        for tick in 0...20 {
            source.set([("a", UInt64(tick), 0)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
        #expect(recorder.shutdown())
        #expect(recorder.metrics.eventsDropped == 20)
    }
}
