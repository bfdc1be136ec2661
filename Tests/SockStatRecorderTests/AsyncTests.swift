import Dispatch
import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import SystemPackage
import Testing
import TestSupport

/// The async forms of drain, read and export, and the live view.
struct AsyncTests {
    struct SinkFailure: Error {}

    /// What a sink kept, shared with the task it runs in.
    final class Kept: Sendable {
        private let chunks = Lock<[[UInt8]]>([])
        func append(_ chunk: [UInt8]) { chunks.withLock { $0.append(chunk) } }
        var all: [[UInt8]] { chunks.withLock { $0 } }
    }

    let drain = DrainTests()

    /// The counters `DrainTests.record` sets at `tick`: label "a" at
    /// (tick, 2 tick); the totals the log must hold are computed from it.
    static func sent(atTick tick: Int) -> UInt64 { UInt64(tick) }
    static func received(atTick tick: Int) -> UInt64 { UInt64(tick) * 2 }

    /// The events of canonical JSON lines, parsed.
    static func events(_ chunks: [[UInt8]]) throws -> [Event] {
        let parser = JSONLinesParser()
        var events: [Event] = []
        for chunk in chunks {
            for line in chunk.split(separator: UInt8(ascii: "\n")) {
                events.append(try #require(try parser.parse(Array(line), lineNumber: events.count + 1)))
            }
        }
        return events
    }

    static func totals(_ events: [Event]) -> (tx: UInt64, rx: UInt64) {
        events.reduce((0, 0)) { sum, event in
            event.counts.reduce(sum) { ($0.0 + $1.tx, $0.1 + $1.rx) }
        }
    }

    // MARK: The same results as the synchronous forms

    /// Two recorders fed the same polls write the same bytes (a manual
    /// clock): one is read, exported and drained synchronously, the other
    /// with the async forms, and each gives what the other does.
    @Test func theAsyncFormsGiveWhatTheSynchronousOnesGive() async throws {
        let (directoryA, directoryB) = (TemporaryDirectory(), TemporaryDirectory())
        let (sourceA, sourceB) = (ScriptedSource(), ScriptedSource())
        let synchronous = try drain.makeRecorder(directoryA, sourceA)
        let asynchronous = try drain.makeRecorder(directoryB, sourceB)
        drain.record(synchronous, sourceA, ticks: 0..<3_000)
        drain.record(asynchronous, sourceB, ticks: 0..<3_000)

        var readA: [[UInt8]] = [], readB: [[UInt8]] = []
        let readSummaryA = try synchronous.read { readA.append(Array($0)) }
        let readSummaryB = try await asynchronous.readAsync { readB.append($0) }
        #expect(readB == readA)
        #expect(readSummaryB == readSummaryA)
        #expect(try Self.events(readB).count == 2_999)

        var exportA: [ExportedSegment] = [], exportB: [ExportedSegment] = []
        let exportSummaryA = try synchronous.export { exportA.append($0) }
        let exportSummaryB = try await asynchronous.exportAsync { exportB.append($0) }
        #expect(exportB.count > 2)
        #expect(exportB == exportA)
        #expect(exportSummaryB == exportSummaryA)

        // Recording goes on; the drains take only what came after the export.
        drain.record(synchronous, sourceA, ticks: 3_000..<4_000)
        drain.record(asynchronous, sourceB, ticks: 3_000..<4_000)
        var drainA: [[UInt8]] = [], drainB: [[UInt8]] = []
        let drainSummaryA = try synchronous.drain { drainA.append(Array($0)) }
        let drainSummaryB = try await asynchronous.drainAsync { drainB.append($0) }
        #expect(drainB == drainA)
        #expect(drainSummaryB == drainSummaryA)
        let drained = try Self.events(drainB)
        #expect(drained.count == 1_000)
        let totals = Self.totals(drained)
        #expect(totals.tx == Self.sent(atTick: 3_999) - Self.sent(atTick: 2_999))
        #expect(totals.rx == Self.received(atTick: 3_999) - Self.received(atTick: 2_999))
        #expect(try await asynchronous.drainAsync { _ in }.events == 0)
        #expect(synchronous.shutdown() && asynchronous.shutdown())
    }

    // MARK: Cancellation

    enum Operation: String, CaseIterable, CustomTestStringConvertible {
        case drain, export
        var testDescription: String { rawValue }
    }

    /// What the sink does with the segment it holds when its task is cancelled.
    enum InFlight: String, CaseIterable, CustomTestStringConvertible {
        /// Throws (a cancelled `Task.sleep`): the segment was not delivered.
        case sinkThrows
        /// Finishes its work and returns: the segment was delivered.
        case sinkReturns
        var testDescription: String { rawValue }
    }

    /// Hands every closed segment to an async sink that keeps what it gets;
    /// the sink of the second segment suspends and says so on `inFlight`,
    /// then the task is cancelled.
    func run(_ operation: Operation, on recorder: Recorder, keepingIn kept: Kept,
             suspendingAt suspended: Int?, _ inFlight: InFlight,
             saying started: AsyncStream<[UInt8]>.Continuation?) async throws -> DrainSummary {
        var calls = 0
        func sink(_ bytes: [UInt8]) async throws {
            calls += 1
            if calls == suspended {
                started?.yield(bytes)
                switch inFlight {
                case .sinkThrows:
                    try await Task.sleep(for: .seconds(3_600))
                case .sinkReturns:
                    _ = try? await Task.sleep(for: .seconds(3_600))
                }
            }
            kept.append(bytes)
        }
        switch operation {
        case .drain:
            return try await recorder.drainAsync(to: sink)
        case .export:
            return try await recorder.exportAsync { try await sink($0.bytes) }
        }
    }

    /// The events of what was kept: lines as they are (drain), or segments
    /// decoded as the receiving end would (export).
    func events(_ operation: Operation, _ kept: [[UInt8]]) throws -> [Event] {
        switch operation {
        case .drain:
            return try Self.events(kept)
        case .export:
            var text: [UInt8] = []
            let output = OutputBuffer { text.append(contentsOf: $0) }
            var collector = SegmentCollector()
            for (index, segment) in kept.enumerated() {
                _ = try collector.read(segment, path: "segment \(index)", to: output) { Issue.record("\($0)") }
            }
            try output.flush()
            return try Self.events([text])
        }
    }

    /// A drain or export cancelled while its sink is suspended on the
    /// second segment, then a second one: every event exactly once, in
    /// order, and the held segment delivered exactly once (by the second
    /// run if the sink threw, by the first if it returned).
    @Test(arguments: Operation.allCases, InFlight.allCases)
    func cancellingMidwayLosesNothingAndDeliversNothingTwice(_ operation: Operation, _ inFlight: InFlight) async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<3_000)
        // What must come out, read without deleting.
        var expected: [[UInt8]] = []
        try recorder.read { expected.append(Array($0)) }
        let expectedEvents = try Self.events(expected)
        #expect(expected.count >= 3, "one delivered, one held, one left")

        let kept = Kept()
        let (started, saying) = AsyncStream<[UInt8]>.makeStream()
        let first = Task { [drain = self] in
            try await drain.run(operation, on: recorder, keepingIn: kept, suspendingAt: 2, inFlight, saying: saying)
        }
        var iterator = started.makeAsyncIterator()
        let held = try #require(await iterator.next())
        first.cancel()
        let outcome = await first.result
        switch inFlight {
        case .sinkThrows:
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(kept.all.count == 1, "only the first segment was delivered")
        case .sinkReturns:
            // The held segment was delivered; the next was not handed over.
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(kept.all.last == held)
            #expect(kept.all.count == 2)
        }
        let deliveredFirst = kept.all.count

        let second = try await run(operation, on: recorder, keepingIn: kept, suspendingAt: nil, inFlight, saying: nil)
        let all = kept.all
        #expect(second.segments == all.count - deliveredFirst)
        #expect(all.filter { $0 == held }.count == 1, "the held segment exactly once")
        if inFlight == .sinkThrows { #expect(all[deliveredFirst] == held, "the held segment first in the second run") }
        let events = try events(operation, all)
        #expect(events == expectedEvents, "every event once, in order")
        let totals = Self.totals(events)
        #expect(totals.tx == Self.sent(atTick: 2_999) - Self.sent(atTick: 0))
        #expect(totals.rx == Self.received(atTick: 2_999) - Self.received(atTick: 0))
        #expect(try await recorder.drainAsync { _ in }.events == 0)
        #expect(recorder.shutdown())
    }

    /// A sink that throws stops an async drain as it stops a synchronous
    /// one: the error comes out, that segment and the later ones stay.
    @Test func aSinkErrorStopsTheAsyncDrainAndKeepsTheRest() async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<3_000)
        var accepted: [[UInt8]] = []
        await #expect(throws: SinkFailure.self) {
            try await recorder.drainAsync { bytes in
                if accepted.count == 2 { throw SinkFailure() }
                accepted.append(bytes)
            }
        }
        try await recorder.drainAsync { accepted.append($0) }
        let events = try Self.events(accepted)
        #expect(events.count == 2_999)
        #expect(Set(events.map(\.time)).count == events.count, "no event twice")
        #expect(recorder.shutdown())
    }

    /// A task cancelled before it starts delivers and deletes nothing.
    @Test func aTaskCancelledBeforeItStartsDeletesNothing() async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<1_000)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await recorder.exportAsync { _ in Issue.record("delivered after cancellation") }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await recorder.drainAsync { _ in }.events == 999)
        #expect(recorder.shutdown())
    }

    // MARK: Where the file work runs

    enum Work: String, CaseIterable, CustomTestStringConvertible {
        case drain, read, export
        var testDescription: String { rawValue }
    }

    /// The block a drain, read or export writes first (the buffered events)
    /// is written on the file-work queue, where no Swift task runs; the
    /// same hook, called from a synchronous drain inside this async test,
    /// sees a task: the check can tell the two apart.
    @Test(arguments: Work.allCases)
    func theFileWorkRunsOnADispatchQueueOffTheCooperativePool(_ work: Work) async throws {
        struct Sighting: Sendable { var onFileWorkQueue: Bool; var inATask: Bool }
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        let sightings = Lock<[Sighting]>([])
        recorder.injectWriteFailure { _ in
            let inATask = withUnsafeCurrentTask { $0 != nil }
            sightings.withLock { $0.append(Sighting(onFileWorkQueue: FileWorkQueue.isCurrent, inATask: inATask)) }
            return nil
        }
        drain.record(recorder, source, ticks: 0..<25)
        sightings.withLock { $0 = [] }  // the polls' own block writes
        var events = 0
        switch work {
        case .drain: events = try await recorder.drainAsync { _ in }.events
        case .read: events = try await recorder.readAsync { _ in }.events
        case .export: events = try await recorder.exportAsync { _ in }.events
        }
        #expect(events == 24)
        let async = sightings.withLock { $0 }
        #expect(!async.isEmpty, "the buffered block was written by the \(work)")
        #expect(async.allSatisfy { $0.onFileWorkQueue && !$0.inATask })

        drain.record(recorder, source, ticks: 25..<30)
        sightings.withLock { $0 = [] }
        try recorder.drain { _ in }
        let sync = sightings.withLock { $0 }
        #expect(!sync.isEmpty && sync.allSatisfy { !$0.onFileWorkQueue && $0.inATask })
        recorder.injectWriteFailure(nil)
        #expect(recorder.shutdown())
    }

    // MARK: The live view

    /// Events from a live view, taken until the sequence ends.
    static func consume(_ events: RecordedEvents) async -> [RecordedEvent] {
        var seen: [RecordedEvent] = []
        for await event in events { seen.append(event) }
        return seen
    }

    /// The poller on its thread records a counter other threads add to,
    /// with cellular periods; a live view watches. Its events are the
    /// drained events, and their totals the counter's.
    @Test func theLiveViewSeesTheEventsTheLogHolds() async throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 2
        options.flushIntervalMilliseconds = 20
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 64 << 20
        options.shutdownTimeoutMilliseconds = 30_000
        let recorder = try Recorder(source: counters, options: options)
        let live = recorder.recordedEvents(bufferingNewest: 1 << 20)
        let watching = Task { await Self.consume(live) }
        let api = try counters.counter(for: "api"), dns = try counters.counter(for: "dns")
        // The baseline, taken here: the poller's own first poll may come
        // after the first adds (start() polls later, on its thread).
        recorder.poll()
        recorder.start()
        for index in 0..<UInt64(2_000) {
            api.add(sent: index % 7 + 1, received: 3)
            if index % 3 == 0 { dns.add(sent: 1, received: index % 5) }
            if index % 500 == 0 { counters.isCellular = (index / 500) % 2 == 1 }
            usleep(50)
        }
        // A poll of our own sees the last adds (shutdown takes no last poll),
        // between the poller's own: they share the recorder's lock.
        recorder.poll()
        #expect(recorder.shutdown())
        let seen = await watching.value
        var drained: [[UInt8]] = []
        try await recorder.drainAsync { drained.append($0) }
        let logged = try Self.events(drained)
        #expect(seen.count > 10)
        #expect(seen.allSatisfy { $0.missedBefore == 0 })
        #expect(seen.map(\.event) == logged)
        #expect(logged.contains { $0.isCellular } && logged.contains { !$0.isCellular })
        let totals = Self.totals(seen.map(\.event))
        #expect(totals.tx == api.sent + dns.sent)
        #expect(totals.rx == api.received + dns.received)
    }

    /// A subscriber that does not consume while 100 events are recorded,
    /// with a buffer of 10, gets the newest 10, the first saying it missed
    /// 90; the polls went on meanwhile, a second subscriber got all 100,
    /// and the log holds all 100.
    @Test func aSlowSubscriberLosesItsOldestEventsCountedAndNeverDelaysTheRecorder() async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        let slow = recorder.recordedEvents(bufferingNewest: 10)
        let fast = recorder.recordedEvents(bufferingNewest: 1_000)
        // Nobody consumes while the polls run: each poll returns regardless.
        drain.record(recorder, source, ticks: 0..<101)
        #expect(recorder.metrics.events == 100)
        #expect(recorder.shutdown())
        let slowSeen = await Self.consume(slow)
        let fastSeen = await Self.consume(fast)
        var drained: [[UInt8]] = []
        try await recorder.drainAsync { drained.append($0) }
        let logged = try Self.events(drained)
        #expect(logged.count == 100)
        #expect(fastSeen.map(\.event) == logged)
        #expect(fastSeen.allSatisfy { $0.missedBefore == 0 })
        #expect(slowSeen.map(\.event) == Array(logged.suffix(10)))
        #expect(slowSeen.map(\.missedBefore) == [90] + Array(repeating: 0, count: 9))
    }

    /// A consumer that keeps up a while, falls behind, then catches up: the
    /// missed counts say exactly how many events it did not see, and where.
    @Test func missedCountsSayWhereTheGapsAre() async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        var iterator = recorder.recordedEvents(bufferingNewest: 4).makeAsyncIterator()
        drain.record(recorder, source, ticks: 0..<3)      // 2 events, both buffered
        let first = await iterator.next(), second = await iterator.next()
        drain.record(recorder, source, ticks: 3..<13)     // 10 events: 6 dropped
        var afterGap: [RecordedEvent] = []
        for _ in 0..<4 { afterGap.append(try #require(await iterator.next())) }
        #expect(recorder.shutdown())
        #expect(await iterator.next() == nil)
        // Times are the tick's poll times: the event of tick k starts at (k - 1) * 100.
        #expect([first, second].map { $0?.event.time } == [0, 100])
        #expect([first, second].map { $0?.missedBefore } == [0, 0])
        #expect(afterGap.map(\.event.time) == [800, 900, 1000, 1100])
        #expect(afterGap.map(\.missedBefore) == [6, 0, 0, 0])
    }

    /// Cancelling the consuming task, or leaving the loop, unsubscribes;
    /// recording goes on, and a subscription made after shutdown has ended.
    @Test func cancellingOrLeavingTheLoopUnsubscribes() async throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        let broadcaster = recorder.recordedEventBroadcaster

        let waiting = Task { await Self.consume(recorder.recordedEvents()) }
        while !broadcaster.hasSubscribers { await Task.yield() }
        waiting.cancel()
        #expect(await waiting.value.isEmpty)
        #expect(!broadcaster.hasSubscribers)

        let events = recorder.recordedEvents()
        drain.record(recorder, source, ticks: 0..<10)
        var taken = 0
        for await _ in events {
            taken += 1
            if taken == 3 { break }
        }
        #expect(!broadcaster.hasSubscribers, "leaving the loop unsubscribed")

        do {
            _ = recorder.recordedEvents()  // made and dropped, never iterated
        }
        #expect(!broadcaster.hasSubscribers)

        drain.record(recorder, source, ticks: 10..<20)
        #expect(recorder.shutdown())
        var after = recorder.recordedEvents().makeAsyncIterator()
        #expect(await after.next() == nil)
        #expect(try await recorder.drainAsync { _ in }.events == 19, "the log lost nothing")
    }
}

/// The README's example ("Async: drain, read, export, and a live view"),
/// as it is there, run: what it uploads and saves is everything recorded.
struct AsyncReadmeExampleTests {
    final class Received: Sendable {
        let segments = Lock<[ExportedSegment]>([])
        let lines = Lock<[[UInt8]]>([])
    }

    @Test func theReadmeExampleRuns() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path
        let received = Received()
        func upload(_ name: String, _ bytes: [UInt8]) async throws {
            await Task.yield()
            received.segments.withLock { $0.append(ExportedSegment(name: name, sequence: nil, bytes: bytes, events: 0, damage: 0)) }
        }
        func save(_ lines: [UInt8]) async throws {
            await Task.yield()
            received.lines.withLock { $0.append(lines) }
        }
        func print(_ items: Any...) {}

        // From the README:
        let counters = InProcessCounters()
        let recorder = try Recorder(source: counters, options: RecorderOptions(directory: path))
        recorder.start()

        // A live view: each event as it is recorded. A view that falls behind
        // loses its oldest buffered events (never the log's), and is told how many.
        let view = Task {
            for await recorded in recorder.recordedEvents(bufferingNewest: 600) {
                if recorded.missedBefore > 0 { print("(\(recorded.missedBefore) events not shown)") }
                let labels = recorded.event.counts.map { "\($0.label) \($0.tx)/\($0.rx)" }
                print(recorded.event.time, recorded.event.duration, recorded.event.isCellular, labels)
            }
        }

        let counter = try counters.counter(for: "api")
        for _ in 0..<5 {
            counter.add(sent: 100, received: 10)
            recorder.poll()
        }
        // Ship the closed segments, each deleted once its upload returned.
        try await recorder.exportAsync { segment in
            try await upload(segment.name, segment.bytes)
        }
        counter.add(sent: 7, received: 3)
        recorder.poll()
        // Or JSON lines, one chunk per segment.
        try await recorder.drainAsync { lines in try await save(lines) }

        view.cancel()     // unsubscribes; so does leaving the loop
        // (end of the README's code)

        #expect(recorder.shutdown())
        _ = await view.value
        var text: [UInt8] = []
        let output = OutputBuffer { text.append(contentsOf: $0) }
        var collector = SegmentCollector()
        for segment in received.segments.withLock({ $0 }) {
            _ = try collector.read(segment.bytes, path: segment.name, to: output) { Issue.record("\($0)") }
        }
        try output.flush()
        let events = try AsyncTests.events([text] + received.lines.withLock { $0 })
        let totals = AsyncTests.totals(events)
        #expect(totals.tx == counter.sent && totals.rx == counter.received)
    }
}
