import Foundation
import Logging
import ServiceLifecycle
import SockStatFormat
import SockStatRecorder
import SockStatServiceLifecycle
import Synchronization
import Testing
import TestSupport

/// Bytes per label, [sent, received], summed from a drain's JSON lines
/// (`{"t":…,"d":…,"s":{"label":[tx,rx]}}`) with Foundation's JSON parser
/// rather than the library's own reader.
func recordedTotals(_ recorder: Recorder) throws -> [String: [UInt64]] {
    var lines = Data()
    try recorder.drain { lines.append(contentsOf: $0) }
    var totals: [String: [UInt64]] = [:]
    for line in lines.split(separator: UInt8(ascii: "\n")) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        let entries = try #require(object["s"] as? [String: [UInt64]])
        for (label, pair) in entries {
            try #require(pair.count == 2)
            var sum = totals[label, default: [0, 0]]
            sum[0] += pair[0]
            sum[1] += pair[1]
            totals[label] = sum
        }
    }
    return totals
}

/// What the test counted itself, per label: the expected totals.
struct Counted {
    var totals: [String: [UInt64]] = [:]
    mutating func add(_ counter: ByteCounter, sent: UInt64, received: UInt64) {
        counter.add(sent: sent, received: received)
        var sum = totals[counter.label.description, default: [0, 0]]
        sum[0] += sent
        sum[1] += received
        totals[counter.label.description] = sum
    }
}

let quietLogger = Logger(label: "sockstatlog-tests") { _ in SwiftLogNoOpLogHandler() }

func makeRecorder(_ counters: InProcessCounters, _ directory: TemporaryDirectory,
                  shutdownTimeoutMilliseconds: Int64 = 30_000) throws -> Recorder {
    var options = RecorderOptions(directory: directory.path)
    options.pollIntervalMilliseconds = 5
    options.flushIntervalMilliseconds = 50
    options.syncEachBlock = false
    options.shutdownTimeoutMilliseconds = shutdownTimeoutMilliseconds
    return try Recorder(source: counters, options: options)
}

/// Counts into `counters` for a while, as an app's traffic would, while the
/// recorder polls: several labels, each add a different size.
func countTraffic(_ counters: InProcessCounters, into counted: inout Counted, rounds: Int) async throws {
    let counterList = try (0..<4).map { try counters.counter(for: "client-\($0)") }
    for round in 0..<rounds {
        for (index, counter) in counterList.enumerated() {
            counted.add(counter, sent: UInt64(round * 13 + index + 1), received: UInt64(round * 7 + index * 3))
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}

struct RecorderServiceTests {
    @Test func aGracefulShutdownRecordsEveryByteCountedUpToIt() async throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let recorder = try makeRecorder(counters, directory)
        let group = ServiceGroup(services: [RecorderService(recorder)], gracefulShutdownSignals: [],
                                 cancellationSignals: [], logger: quietLogger)
        var counted = Counted()
        let early = try counters.counter(for: "before-run")
        counted.add(early, sent: 11, received: 22)        // before the service ran: recorded too
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await countTraffic(counters, into: &counted, rounds: 60)
            // Just before the shutdown, after the poller's last tick for all
            // we know: shutdown's last poll records it.
            counted.add(try counters.counter(for: "last-moment"), sent: 1_000_003, received: 5)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(recorder.isShutDown)
        #expect(try recordedTotals(recorder) == counted.totals)
        #expect(recorder.metrics.events > 1, "the poller recorded while the traffic ran")
    }

    @Test func cancellingTheGroupShutsTheRecorderDownAndLosesNothing() async throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let recorder = try makeRecorder(counters, directory)
        let group = ServiceGroup(services: [RecorderService(recorder)], gracefulShutdownSignals: [],
                                 cancellationSignals: [], logger: quietLogger)
        let running = Task { try await group.run() }
        var counted = Counted()
        try await countTraffic(counters, into: &counted, rounds: 30)
        counted.add(try counters.counter(for: "last-moment"), sent: 77, received: 0)
        running.cancel()
        _ = await running.result                          // returns or throws CancellationError: either is fine
        #expect(recorder.isShutDown)
        #expect(try recordedTotals(recorder) == counted.totals)
    }

    // A shutdown that ignored its bound would wait for the stalled disk forever:
    // a hang fails (the limit is loose, for the thread sanitizer under load).
    @Test(.timeLimit(.minutes(10)))
    func aShutdownPastItsBoundIsAnError() async throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        let recorder = try makeRecorder(counters, directory, shutdownTimeoutMilliseconds: 50)
        // The disk stalls just before the shutdown: its writes (the final one
        // holds shutdown's last poll) wait until the test lets them go, after
        // the service has given up. A stall, not a fixed delay: however late
        // the machine runs the shutdown, the bound passes first.
        let stalled = Atomic<Bool>(false)
        let diskResumes = DispatchSemaphore(value: 0)
        recorder.injectWriteFailure { _ in
            if stalled.load(ordering: .acquiring) {
                diskResumes.wait()
                diskResumes.signal()                      // and every later write
            }
            return nil
        }
        let counter = try counters.counter(for: "a")
        let service = RecorderService(recorder)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [],
                                 cancellationSignals: [], logger: quietLogger)
        await #expect {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // Until the service runs: a group told to shut down before
                // it started its services never runs them.
                let deadline = ContinuousClock.now + .seconds(300)
                while recorder.metrics.polls < 2 {
                    try #require(ContinuousClock.now < deadline, "the service did not start the recorder")
                    try await Task.sleep(for: .milliseconds(5))
                }
                stalled.store(true, ordering: .releasing)
                counter.add(sent: 1)                      // the last poll's event: a final write
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } throws: { error in
            (error as? RecorderServiceError)?.code == .shutdownTimedOut
        }
        diskResumes.signal()
        // A second shutdown() returns true once the first one's final write is done.
        let writeDeadline = ContinuousClock.now + .seconds(300)
        while !recorder.shutdown() {
            try #require(ContinuousClock.now < writeDeadline, "the stalled write never finished")
        }
        #expect(try recordedTotals(recorder) == ["a": [1, 0]], "the write went on after the bound and lost nothing")
    }

    @Test func aRecorderShutDownBeforeTheServiceRanIsAnError() async throws {
        let directory = TemporaryDirectory()
        let recorder = try makeRecorder(InProcessCounters(), directory)
        #expect(recorder.shutdown())
        await #expect {
            try await RecorderService(recorder).run()
        } throws: { error in
            (error as? RecorderServiceError)?.code == .alreadyShutDown
        }
    }
}
