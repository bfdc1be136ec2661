import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import Testing
import TestSupport

struct DrainTests {
    struct SinkFailure: Error {}

    /// Records `ticks` polls of a growing counter, flushing every second of virtual time.
    func record(_ recorder: Recorder, _ source: ScriptedSource, ticks: Range<Int>) {
        for tick in ticks {
            source.set([("a", UInt64(tick), UInt64(tick) * 2)])
            recorder.poll(at: reading(Int64(tick) * 100, UInt64(tick) * 100))
        }
    }

    func makeRecorder(_ directory: TemporaryDirectory, _ source: ScriptedSource) throws -> Recorder {
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4096
        options.flushIntervalMilliseconds = 1_000
        // These tests check what shutdown writes, not how fast: a debug build
        // among parallel tests on a loaded machine once missed the 1 s default.
        options.shutdownTimeoutMilliseconds = 30_000
        return try Recorder(source: source, options: options, clock: ManualClock())
    }

    @Test func aDrainDeliversEverythingOnceAndDeletesIt() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try makeRecorder(directory, source)
        record(recorder, source, ticks: 0..<3_000)
        var delivered = Data()
        let summary = try recorder.drain { delivered.append(contentsOf: $0) }
        #expect(summary.events == 2_999)
        #expect(summary.segments > 1)
        #expect(String(decoding: delivered, as: UTF8.self).split(separator: "\n").count == 2_999)
        // Recording goes on; the next drain has only what came after.
        record(recorder, source, ticks: 3_000..<3_010)
        var next = Data()
        #expect(try recorder.drain { next.append(contentsOf: $0) }.events == 10)
        #expect(String(decoding: next, as: UTF8.self).hasPrefix(#"{"t":299900,"d":100,"s":{"a":[1,2]}}"#))
        #expect(recorder.shutdown())
    }

    @Test func aFailingSinkLosesNothingAndAcceptedSegmentsAreNotDeliveredAgain() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try makeRecorder(directory, source)
        record(recorder, source, ticks: 0..<3_000)
        var accepted = Data()
        var calls = 0
        #expect(throws: SinkFailure.self) {
            try recorder.drain { bytes in
                calls += 1
                if calls == 3 { throw SinkFailure() }
                accepted.append(contentsOf: bytes)
            }
        }
        var rest = Data()
        try recorder.drain { rest.append(contentsOf: $0) }
        let lines = String(decoding: accepted + rest, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2_999)
        #expect(Set(lines).count == lines.count, "no event twice")
        #expect(recorder.shutdown())
    }

    @Test func readingDoesNotDelete() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try makeRecorder(directory, source)
        record(recorder, source, ticks: 0..<500)
        var first = Data(), second = Data()
        try recorder.read { first.append(contentsOf: $0) }
        try recorder.read { second.append(contentsOf: $0) }
        #expect(first == second)
        #expect(String(decoding: first, as: UTF8.self).split(separator: "\n").count == 499)
        #expect(recorder.shutdown())
    }

    /// Many threads add to in-process counters while the recorder polls on its
    /// own thread and drains run: the deltas delivered add up exactly.
    @Test func countersAddedFromManyThreadsWhileDrainingAddUpExactly() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 5
        options.flushIntervalMilliseconds = 50
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 64 << 20
        let recorder = try Recorder(source: counters, options: options)
        recorder.start()
        usleep(20_000)  // the baseline sees no labels: every byte added is counted from zero
        let labels = ["dns", "derp", "control", "logs"]
        let threads = 8
        let adds = 20_000
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            DispatchQueue.global().async {
                for index in 0..<adds {
                    try! counters.counter(for: labels[(thread + index) % labels.count])
                        .add(sent: UInt64(index % 7 + 1), received: UInt64(index % 3))
                }
                group.leave()
            }
        }
        var delivered = Data()
        let drainer = DispatchQueue(label: "drainer")
        let draining = Atomic<Bool>(true)
        let drained = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var drainedBytes = Data()
        drainer.async {
            while draining.load(ordering: .relaxed) {
                _ = try? recorder.drain { drainedBytes.append(contentsOf: $0) }
                usleep(10_000)
            }
            drained.signal()
        }
        group.wait()
        usleep(50_000)  // let the poller see the last adds
        draining.store(false, ordering: .relaxed)
        drained.wait()
        #expect(recorder.shutdown())
        delivered = drainedBytes
        try recorder.drain { delivered.append(contentsOf: $0) }

        var sent: [String: UInt64] = [:], received: [String: UInt64] = [:]
        let parser = JSONLinesParser()
        for (number, line) in delivered.split(separator: UInt8(ascii: "\n")).enumerated() {
            let event = try #require(try parser.parse(Array(line), lineNumber: number + 1))
            for entry in event.counts {
                sent[entry.label.description, default: 0] += entry.tx
                received[entry.label.description, default: 0] += entry.rx
            }
        }
        for label in labels {
            let counter = try counters.counter(for: label)
            #expect(sent[label] == counter.sent, "\(label) tx")
            #expect(received[label] == counter.received, "\(label) rx")
        }
        let totalSent = (0..<adds).reduce(UInt64(0)) { $0 + UInt64($1 % 7 + 1) } * UInt64(threads)
        #expect(sent.values.reduce(0, +) == totalSent)
    }
}
