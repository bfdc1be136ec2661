#if Metrics
import CoreMetrics
import SockStatRecorder

/// Reports a `Recorder`'s own metrics (`RecorderMetrics`) through
/// swift-metrics, so that a server's Prometheus or OpenTelemetry backend
/// shows them beside its other metrics.
///
///     MetricsSystem.bootstrap(backend)        // the app's, once
///     let recorder = try Recorder(source: counters, options: options)
///     recorder.reportMetrics(dimensions: [("recorder", "api")])
///
/// Every field of `RecorderMetrics` is a count since the recorder was
/// created that only grows, so each is a swift-metrics `Counter`:
///
/// | Metric                                  | `RecorderMetrics` field |
/// |-----------------------------------------|-------------------------|
/// | `sockstatlog_polls_total`               | `polls`                 |
/// | `sockstatlog_events_total`              | `events`                |
/// | `sockstatlog_events_dropped_total`      | `eventsDropped`         |
/// | `sockstatlog_events_split_total`        | `eventsSplit`           |
/// | `sockstatlog_blocks_written_total`      | `blocks`                |
/// | `sockstatlog_written_bytes_total`       | `bytes`                 |
/// | `sockstatlog_segments_created_total`    | `segments`              |
/// | `sockstatlog_segments_deleted_total`    | `segmentsDeleted`       |
/// | `sockstatlog_rollup_passes_total`       | `rollupPasses`          |
/// | `sockstatlog_segments_rolled_up_total`  | `segmentsRolledUp`      |
/// | `sockstatlog_rollup_bytes_total`        | `rollupBytes`           |
/// | `sockstatlog_counter_resets_total`      | `counterResets`         |
/// | `sockstatlog_counter_wraps_total`       | `counterWraps`          |
/// | `sockstatlog_source_errors_total`       | `sourceErrors`          |
/// | `sockstatlog_write_errors_total`        | `writeErrors`           |
/// | `sockstatlog_labels_refused_total`      | `labelsRefused`         |
///
/// Names are snake case with the package's prefix and `_total` on counters,
/// as Prometheus names them (an OpenTelemetry backend takes them as they
/// are); the dimensions given are on every one of them (say which recorder,
/// when an app has several).
///
/// How values flow: the reporter is the recorder's `metricsObserver`. After
/// every poll, and once more at shutdown, it compares the recorder's metrics
/// with what it last reported and increments each counter by the
/// difference: no allocation, no lock of the recorder's held, nothing that
/// can fail. So a backend always shows what the recorder has done up to its
/// last poll (a drain's or a flush's writes show at the next poll).
///
/// A class: the counters and what was last reported are shared with the
/// recorder's poller. Sendable: that state sits behind a lock; the
/// swift-metrics counters are Sendable.
public final class RecorderMetricsReporter: Sendable {
    /// Each metric's name and the `RecorderMetrics` field it reports, in
    /// the order of the table above.
    static let metrics: [(name: String, field: any WritableKeyPath<RecorderMetrics, Int> & Sendable)] = [
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

    /// The counters, by position in `metrics`.
    private let counters: [Counter]
    /// What has been reported so far.
    private let reported = Lock(RecorderMetrics())

    init(dimensions: [(String, String)], factory: any MetricsFactory) {
        counters = Self.metrics.map { Counter(label: $0.name, dimensions: dimensions, factory: factory) }
    }

    /// Reports what `metrics` adds to what was reported: each counter is
    /// incremented by its field's growth. Metrics older than those already
    /// reported (polls on two threads) add nothing.
    ///
    /// - Parameter metrics: a recorder's metrics.
    public func report(_ metrics: RecorderMetrics) {
        reported.withLock { reported in
            for (index, metric) in Self.metrics.enumerated() {
                let now = metrics[keyPath: metric.field]
                let before = reported[keyPath: metric.field]
                guard now > before else { continue }
                counters[index].increment(by: Int64(now - before))
                reported[keyPath: metric.field] = now
            }
        }
    }
}

// CoreMetrics has a `Recorder` too (a histogram): this is the package's.
extension SockStatRecorder.Recorder {
    /// Reports this recorder's metrics through swift-metrics from now on:
    /// what it has done so far at once, then after every poll and at
    /// shutdown (`RecorderMetricsReporter` lists the metrics).
    ///
    /// The reporter becomes the recorder's `metricsObserver` (replacing any
    /// other) and lives as long as the recorder; keeping the result is not
    /// needed.
    ///
    /// - Parameters:
    ///   - dimensions: dimensions on every metric, such as
    ///     `[("recorder", "api")]` for an app with several recorders.
    ///   - factory: the metrics backend; by default the one the app
    ///     bootstrapped (`MetricsSystem.factory`). Tests pass their own.
    /// - Returns: the reporter.
    @discardableResult
    public func reportMetrics(dimensions: [(String, String)] = [],
                              factory: any MetricsFactory = MetricsSystem.factory) -> RecorderMetricsReporter {
        let reporter = RecorderMetricsReporter(dimensions: dimensions, factory: factory)
        metricsObserver = { [reporter] metrics in reporter.report(metrics) }
        reporter.report(self.metrics)
        return reporter
    }
}
#endif
