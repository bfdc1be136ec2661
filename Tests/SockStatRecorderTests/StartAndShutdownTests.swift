import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import Testing
import TestSupport

/// Bytes per label, summed over `events` (label text to [sent, received]).
func totals(of events: [Event]) -> [String: [UInt64]] {
    var result: [String: [UInt64]] = [:]
    for event in events {
        for entry in event.counts {
            var pair = result[entry.label.description, default: [0, 0]]
            pair[0] += entry.tx
            pair[1] += entry.rx
            result[entry.label.description] = pair
        }
    }
    return result
}

/// A scripted source that notes which thread read it first.
final class ThreadNotingSource: CounterSource {
    let scripted = ScriptedSource()
    private let firstReader = Lock<pthread_t?>(nil)

    var firstReadingThread: pthread_t? { firstReader.withLock { $0 } }

    func read(into snapshot: inout CounterSnapshot) throws {
        firstReader.withLock { if $0 == nil { $0 = pthread_self() } }
        try scripted.read(into: &snapshot)
    }
}

/// Nothing counted is lost at the start or at the end of a recording.
struct StartAndShutdownTests {
    /// Options whose poller does not tick during a test: what is recorded
    /// comes from the baseline, the test's own polls and shutdown's last poll.
    func quietOptions(_ directory: TemporaryDirectory) -> RecorderOptions {
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 3_600_000
        options.syncEachBlock = false
        options.shutdownTimeoutMilliseconds = 30_000
        return options
    }

    @Test func inProcessBytesCountedBeforeTheRecorderExistedOrStartedAreRecorded() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let api = try counters.counter(for: "api")
        api.add(sent: 100, received: 7)                   // before the recorder exists
        let recorder = try Recorder(source: counters, options: quietOptions(directory), clock: ManualClock())
        api.add(sent: 20)                                 // before any poll
        recorder.poll(at: reading(1_000, 1_000))          // records: nothing to take as a baseline
        let events = try recordedEventsAfterShutdown(recorder, directory)
        #expect(totals(of: events) == ["api": [120, 7]])
        #expect(events.first?.time == 0, "the first event runs from the recorder's creation (ManualClock reads 0)")
    }

    @Test func startTakesTheBaselineBeforeItReturns() throws {
        let directory = TemporaryDirectory()
        let source = ThreadNotingSource()
        source.scripted.set([("eth0", 5_000, 9_000)])    // interface counters count from boot: not recorded
        let recorder = try Recorder(source: source, options: quietOptions(directory))
        recorder.start()
        #expect(source.firstReadingThread.map { pthread_equal($0, pthread_self()) != 0 } == true,
                "the baseline is read by start() itself, not later by the poller")
        source.scripted.set([("eth0", 5_040, 9_001)])    // right after start(): recorded
        let events = try recordedEventsAfterShutdown(recorder, directory)
        #expect(totals(of: events) == ["eth0": [40, 1]])
    }

    @Test func shutdownTakesALastPollBeforeItsFinalFlush() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let clock = ManualClock()
        let recorder = try Recorder(source: source, options: quietOptions(directory), clock: clock)
        source.set([("a", 10, 10)])
        recorder.poll(at: reading(1_000, 1_000))          // baseline
        source.set([("a", 15, 11)])
        clock.set(reading(1_250, 1_250))
        let events = try recordedEventsAfterShutdown(recorder, directory)
        #expect(events == [Event(time: 1_000, duration: 250, counts: counts([("a", 5, 1)]))])
        #expect(recorder.metrics.polls == 2)
    }

    @Test func aStartedRecorderRecordsWhatWasCountedSinceItsLastTick() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let recorder = try Recorder(source: counters, options: quietOptions(directory))
        recorder.start()
        let counter = try counters.counter(for: "late")   // created and counted after start, no tick since
        counter.add(sent: 3, received: 4_096)
        let events = try recordedEventsAfterShutdown(recorder, directory)
        #expect(totals(of: events) == ["late": [3, 4_096]])
    }

    @Test func aSecondRecorderOverTheSameCountersDoesNotRecordTheFirstOnesBytesAgain() throws {
        let counters = InProcessCounters()
        let counter = try counters.counter(for: "a")
        counter.add(sent: 100)
        let firstDirectory = TemporaryDirectory()
        let first = try Recorder(source: counters, options: quietOptions(firstDirectory))
        #expect(totals(of: try recordedEventsAfterShutdown(first, firstDirectory)) == ["a": [100, 0]])

        let secondDirectory = TemporaryDirectory()
        let second = try Recorder(source: counters, options: quietOptions(secondDirectory))
        second.start()                                    // its baseline: the 100 are the first one's
        counter.add(sent: 7)
        #expect(totals(of: try recordedEventsAfterShutdown(second, secondDirectory)) == ["a": [7, 0]])
    }

    @Test func enablingTakesTheBaselineAtOnce() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let counter = try counters.counter(for: "a")
        let clock = ManualClock()
        let recorder = try Recorder(source: counters, options: quietOptions(directory), clock: clock)
        counter.add(sent: 1)
        recorder.poll(at: reading(100, 100))
        recorder.isEnabled = false
        counter.add(sent: 50)                             // paused: not recorded
        clock.set(reading(5_000, 5_000))
        recorder.isEnabled = true
        counter.add(sent: 3)                              // right after enabling: recorded
        recorder.poll(at: reading(5_100, 5_100))
        let events = try recordedEventsAfterShutdown(recorder, directory)
        #expect(events == [
            Event(time: 0, duration: 100, counts: counts([("a", 1, 0)])),
            Event(time: 5_000, duration: 100, counts: counts([("a", 3, 0)])),
        ])
    }

    func recordedEventsAfterShutdown(_ recorder: Recorder, _ directory: TemporaryDirectory) throws -> [Event] {
        #expect(recorder.shutdown())
        return try recordedEvents(directory.path)
    }
}
