import CoreMetrics
import Foundation
import MetricsTestKit
import SockStatFormat
import SockStatMetrics
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import SystemPackage
import Testing
import TestSupport

/// A source whose snapshot the test sets, and which can be made to fail.
final class ScriptedSource: CounterSource {
    private let current = Lock(CounterSnapshot())
    private let failing = Lock(false)
    struct Failure: Error {}

    func set(_ values: [(String, UInt64, UInt64)], refused: Int = 0) {
        var snapshot = CounterSnapshot()
        for (label, tx, rx) in values { snapshot.append(Label(label), tx: tx, rx: rx) }
        snapshot.refusedLabels = refused
        current.withLock { $0 = snapshot }
    }

    func fail(_ value: Bool) { failing.withLock { $0 = value } }

    func read(into snapshot: inout CounterSnapshot) throws {
        if failing.withLock({ $0 }) { throw Failure() }
        snapshot = current.withLock { $0 }
    }
}

/// The documented table (README, `RecorderMetricsReporter`), written out
/// here rather than taken from the reporter: a name reporting the wrong
/// field fails.
let documentedMetrics: [(name: String, field: any KeyPath<RecorderMetrics, Int> & Sendable)] = [
    ("sockstatlog_polls_total", \.polls),
    ("sockstatlog_events_total", \.events),
    ("sockstatlog_events_dropped_total", \.eventsDropped),
    ("sockstatlog_events_split_total", \.eventsSplit),
    ("sockstatlog_blocks_written_total", \.blocks),
    ("sockstatlog_written_bytes_total", \.bytes),
    ("sockstatlog_segments_created_total", \.segments),
    ("sockstatlog_segments_deleted_total", \.segmentsDeleted),
    ("sockstatlog_rollup_passes_total", \.rollupPasses),
    ("sockstatlog_segments_rolled_up_total", \.segmentsRolledUp),
    ("sockstatlog_rollup_bytes_total", \.rollupBytes),
    ("sockstatlog_counter_resets_total", \.counterResets),
    ("sockstatlog_counter_wraps_total", \.counterWraps),
    ("sockstatlog_source_errors_total", \.sourceErrors),
    ("sockstatlog_write_errors_total", \.writeErrors),
    ("sockstatlog_labels_refused_total", \.labelsRefused),
]

/// Every documented metric's total in `factory`, against the field of `metrics` it reports.
func expectReported(_ metrics: RecorderMetrics, in factory: TestMetrics, dimensions: [(String, String)] = [],
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
    for metric in documentedMetrics {
        let counter = try factory.expectCounter(metric.name, dimensions)
        #expect(counter.totalValue == Int64(metrics[keyPath: metric.field]), "\(metric.name)", sourceLocation: sourceLocation)
    }
}

func reading(_ time: Int64) -> ClockReading {
    ClockReading(wallMilliseconds: time, monotonicMilliseconds: UInt64(time))
}

struct RecorderMetricsReporterTests {
    /// Drives a recorder through everything it counts (rotations, rollups, retention,
    /// resets, wraps, a failing source, failing writes past the backlog,
    /// refused labels, an event split in two), checking after each step
    /// that what the backend shows equals `recorder.metrics`.
    @Test func theReportedCountersEqualTheRecordersMetricsAtEveryStep() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        var options = RecorderOptions(directory: directory.path)
        options.flushIntervalMilliseconds = 300
        options.maxSegmentBytes = 600
        // Small shares, so that rollups run early: the recorded events keep
        // 6,000 bytes, each tier 12,000 (two of its 4 KiB segments and more).
        options.maxTotalBytes = 30_000
        options.tiers = [RollupTierShare(windowMilliseconds: 1_000, fractionOfCap: 0.40),
                         RollupTierShare(windowMilliseconds: 60_000, fractionOfCap: 0.40)]
        options.maxBacklogBytes = 200
        options.syncEachBlock = false
        options.shutdownTimeoutMilliseconds = 30_000
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        let factory = TestMetrics()
        let dimensions = [("recorder", "test")]
        recorder.reportMetrics(dimensions: dimensions, factory: factory)
        var time: Int64 = 0
        func poll() throws {
            time += 100
            recorder.poll(at: reading(time))
            try expectReported(recorder.metrics, in: factory, dimensions: dimensions)
        }

        for step in 0..<800 {                                  // blocks, rotations, rollups, retention
            source.set([("a", UInt64(step) * 1_000, UInt64(step)), ("b", UInt64(step * step), 0)])
            try poll()
        }
        source.set([("a", 5, 0), ("b", 4_294_967_000, 0)])     // a reset
        try poll()
        source.set([("a", 6, 0), ("b", 20, 0)])                // a 32-bit wrap
        try poll()
        source.fail(true)                                      // a failing source
        try poll()
        source.fail(false)
        source.set([("a", 7, 0), ("b", 21, 0)], refused: 2)    // labels refused at the source
        try poll()
        source.set((0..<1_100).map { ("many-\($0)", 1, 1) })    // an event split in two
        try poll()
        let failing = Atomic<Bool>(true)
        recorder.injectWriteFailure { _ in failing.load(ordering: .relaxed) ? .noSpace : nil }
        for step in 0..<60 {                                   // failing writes, the backlog overflows
            source.set([("a", 1_000 + UInt64(step) * 977, 0)])
            try poll()
        }
        failing.store(false, ordering: .relaxed)
        try poll()

        #expect(recorder.shutdown())
        try expectReported(recorder.metrics, in: factory, dimensions: dimensions)
        let final = recorder.metrics
        for metric in documentedMetrics {
            #expect(final[keyPath: metric.field] > 0, "the run exercised \(metric.name)")
        }
    }

    @Test func shutdownsLastPollAndFinalBlockAreReported() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.syncEachBlock = false
        options.shutdownTimeoutMilliseconds = 30_000
        let recorder = try Recorder(source: counters, options: options, clock: ManualClock())
        let factory = TestMetrics()
        recorder.reportMetrics(factory: factory)
        try counters.counter(for: "a").add(sent: 10)           // only shutdown's last poll sees it
        #expect(try factory.expectCounter("sockstatlog_events_total").totalValue == 0)
        #expect(recorder.shutdown())
        #expect(recorder.metrics.events == 1 && recorder.metrics.blocks == 1)
        try expectReported(recorder.metrics, in: factory)
    }

    @Test func aRecorderPollingOnItsOwnThreadIsReportedAsItGoes() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 2
        options.flushIntervalMilliseconds = 20
        options.syncEachBlock = false
        options.shutdownTimeoutMilliseconds = 30_000
        let recorder = try Recorder(source: counters, options: options)
        let factory = TestMetrics()
        recorder.reportMetrics(factory: factory)
        recorder.start()
        let counter = try counters.counter(for: "a")
        for _ in 0..<100 {
            counter.add(sent: 3)
            usleep(1_000)
        }
        #expect(try factory.expectCounter("sockstatlog_polls_total").totalValue > 0, "reported before shutdown")
        #expect(recorder.shutdown())
        try expectReported(recorder.metrics, in: factory)
    }

    @Test func metricsOlderThanThoseReportedAddNothing() throws {
        let directory = TemporaryDirectory()
        let recorder = try Recorder(source: InProcessCounters(), options: RecorderOptions(directory: directory.path))
        let factory = TestMetrics()
        let reporter = recorder.reportMetrics(factory: factory)
        var newer = RecorderMetrics()
        newer.polls = 10
        newer.events = 4
        var older = newer
        older.polls = 9
        older.events = 3
        older.bytes = 100                                      // grew even though the rest is older: counted
        reporter.report(newer)
        reporter.report(older)
        #expect(try factory.expectCounter("sockstatlog_polls_total").totalValue == 10)
        #expect(try factory.expectCounter("sockstatlog_events_total").totalValue == 4)
        #expect(try factory.expectCounter("sockstatlog_written_bytes_total").totalValue == 100)
        #expect(recorder.shutdown())
    }

    @Test func twoRecordersReportUnderTheirOwnDimensions() throws {
        let factory = TestMetrics()
        var recorders: [(SockStatRecorder.Recorder, InProcessCounters, TemporaryDirectory)] = []
        for name in ["api", "cdn"] {
            let directory = TemporaryDirectory()
            let counters = InProcessCounters()
            let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory.path), clock: ManualClock())
            recorder.reportMetrics(dimensions: [("recorder", name)], factory: factory)
            recorders.append((recorder, counters, directory))
        }
        try recorders[0].1.counter(for: "x").add(sent: 1)
        recorders[0].0.poll(at: reading(100))
        recorders[1].0.poll(at: reading(100))
        recorders[1].0.poll(at: reading(200))
        for (recorder, _, _) in recorders { #expect(recorder.shutdown()) }
        try expectReported(recorders[0].0.metrics, in: factory, dimensions: [("recorder", "api")])
        try expectReported(recorders[1].0.metrics, in: factory, dimensions: [("recorder", "cdn")])
        #expect(factory.counters.count == 2 * documentedMetrics.count)
    }
}
