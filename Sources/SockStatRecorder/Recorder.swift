import Dispatch
import Logging
import SockStatFormat
import SockStatStore
import Synchronization
import SystemPackage

/// How a `Recorder` polls, buffers, rotates and retains.
public struct RecorderOptions: Hashable, Sendable {
    /// The log directory (created 0700; segments are 0600).
    public var directory: String
    /// Milliseconds between polls. Default 100 (10 Hz).
    public var pollIntervalMilliseconds: Int64 = 100
    /// Events are written as one block per this many milliseconds. Default 10 s.
    public var flushIntervalMilliseconds: Int64 = 10_000
    /// Segments rotate before passing this size. Default 256 KiB, or, when
    /// `maxTotalBytes` is under 1 MiB and no size was set, a quarter of it
    /// (at least 4 KiB): a small cap gets small segments rather than being
    /// refused, and retention, which deletes whole segments, still keeps
    /// about three quarters of the cap.
    public var maxSegmentBytes: Int {
        get { chosenSegmentBytes ?? Self.defaultSegmentBytes(forCap: maxTotalBytes) }
        set { chosenSegmentBytes = newValue }
    }
    /// The segment size set by the caller, if any.
    private var chosenSegmentBytes: Int?

    /// The segment size used when none is set: 256 KiB, or a quarter of a
    /// directory cap under 1 MiB, but not below 4 KiB.
    public static func defaultSegmentBytes(forCap maxTotalBytes: Int) -> Int {
        SegmentLogOptions.segmentBytes(forCap: maxTotalBytes)
    }
    /// Segments also rotate at this age, if set.
    public var maxSegmentAgeMilliseconds: Int64?
    /// Retention keeps the directory's segments at or under this. Default 5 MiB.
    public var maxTotalBytes: Int = 5 * 1024 * 1024
    /// The rollup tiers after the recorded events, finest first, each with
    /// its window and share of `maxTotalBytes` (the recorded events keep the
    /// rest): when a tier would pass its share its oldest segment is rolled
    /// up into the next tier, the last tier deletes its oldest
    /// (`Spec/RECORDER.md` 4.1). Empty: no rollups, the oldest recorded
    /// segment is deleted.
    ///
    /// Default `RollupTierShare.defaults` (1 min with 29%, 1 h with 26%; the
    /// recorded events 45%), when the cap holds them
    /// (`defaultTiers(forCap:segmentBytes:)`); a cap too small for them
    /// records without rollups. Tiers set here are kept as set and checked
    /// by `problem`.
    public var tiers: [RollupTierShare] {
        get { chosenTiers ?? Self.defaultTiers(forCap: maxTotalBytes, segmentBytes: maxSegmentBytes) }
        set { chosenTiers = newValue }
    }
    /// The tiers set by the caller, if any.
    private var chosenTiers: [RollupTierShare]?

    /// The tiers used when none are set: `RollupTierShare.defaults` when
    /// `maxTotalBytes` holds them with recorded segments of `segmentBytes`
    /// (`TieredRetentionOptions.problem(recordedSegmentBytes:)`), else none.
    public static func defaultTiers(forCap maxTotalBytes: Int, segmentBytes: Int) -> [RollupTierShare] {
        RollupTierShare.defaults(forCap: maxTotalBytes, recordedSegmentBytes: segmentBytes)
    }

    /// How retention keeps the directory: the cap shared out among the tiers.
    public var tieredRetentionOptions: TieredRetentionOptions {
        TieredRetentionOptions(maxTotalBytes: maxTotalBytes, tiers: tiers, maxAgeMilliseconds: maxAgeMilliseconds)
    }
    /// Retention also deletes closed segments last written longer ago than this, if set.
    public var maxAgeMilliseconds: Int64?
    /// Blocks that could not be written are held up to this many bytes. Default 1 MiB.
    public var maxBacklogBytes: Int = 1 << 20
    /// `shutdown()` returns within this many milliseconds. Default 1 s.
    public var shutdownTimeoutMilliseconds: Int64 = 1000
    /// Whether each block is fsynced as it is written (default), so that a
    /// completed flush survives power loss; replays, which can be rerun,
    /// sync only each segment as it closes.
    public var syncEachBlock = true

    /// Defaults, recording into `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// How the recorder's writer cuts blocks and segments.
    var segmentLogOptions: SegmentLogOptions {
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = flushIntervalMilliseconds
        options.maxSegmentBytes = maxSegmentBytes
        options.maxSegmentAgeMilliseconds = maxSegmentAgeMilliseconds
        options.maxBacklogBytes = maxBacklogBytes
        options.syncEachBlock = syncEachBlock
        return options
    }

    /// Why a recorder cannot use these options, or nil when it can: the
    /// writer's rules (`SegmentLogOptions.problem`: no segment larger than
    /// readers accept) and the recorder's own.
    public var problem: String? {
        if pollIntervalMilliseconds < 1 { return "the poll interval must be at least 1 ms, not \(pollIntervalMilliseconds)" }
        if let problem = segmentLogOptions.problem { return problem }
        if maxTotalBytes < maxSegmentBytes {
            return "the directory cap (\(maxTotalBytes) bytes) must be at least the segment size (\(maxSegmentBytes) bytes)"
        }
        if let problem = RollupTierShare.problem(of: tiers) { return problem }
        if let problem = tieredRetentionOptions.problem(recordedSegmentBytes: maxSegmentBytes) { return problem }
        if let age = maxAgeMilliseconds, age < 1 { return "the age limit must be at least 1 ms, not \(age)" }
        if shutdownTimeoutMilliseconds < 0 { return "the shutdown timeout cannot be negative (\(shutdownTimeoutMilliseconds) ms)" }
        return nil
    }
}

/// What a recorder has done. All counts since it started.
public struct RecorderMetrics: Hashable, Sendable {
    /// Polls taken: the baseline that `start()` or enabling takes, and the
    /// last one `shutdown()` takes, included. A source whose counters start
    /// at zero (`CounterSource.claimZeroBaseline()`) needs no baseline poll.
    public var polls = 0
    /// Events recorded (handed to the writer).
    public var events = 0
    /// Events lost: unwritable blocks beyond the backlog, or no segment could be opened.
    public var eventsDropped = 0
    /// Blocks written.
    public var blocks = 0
    /// Bytes written, headers and frames included.
    public var bytes = 0
    /// Segments created (the first, then one per rotation).
    public var segments = 0
    /// Segments deleted by retention: of every tier, rolled up into the
    /// next tier first or not (`segmentsRolledUp` of them were).
    public var segmentsDeleted = 0
    /// Times retention made room by rolling segments up (one pass can roll
    /// segments through several tiers).
    public var rollupPasses = 0
    /// Segments rolled up into the next tier before they were deleted.
    public var segmentsRolledUp = 0
    /// Bytes of rollup tier segments written (each rewrite of a tier's tail whole).
    public var rollupBytes = 0
    /// Counters that went backwards, taken as resets.
    public var counterResets = 0
    /// Counters that went backwards, taken as 32-bit wraps.
    public var counterWraps = 0
    /// Polls whose source could not be read.
    public var sourceErrors = 0
    /// Failed writes.
    public var writeErrors = 0
    /// Labels that could not be recorded because the format cannot store
    /// them: refused by the source where they entered
    /// (`CounterSnapshot.refusedLabels`, counted as they appear), or by the
    /// recorder (longer than 1024 bytes, or given twice in one snapshot;
    /// each label counted once). Their bytes are not recorded; every other
    /// label of the same events is.
    public var labelsRefused = 0
    /// Events with more than 1024 changed labels, recorded as several
    /// events with the same `t`, `d` and `c` (no byte is lost).
    public var eventsSplit = 0

    /// All counts zero: what a recorder has done before its first poll.
    public init() {}
}

/// What a poll reads and computes.
struct PollState {
    var tracker = DeltaTracker()
    var snapshot = CounterSnapshot()
    var event = Event(time: 0, duration: 0, counts: [])

    /// Reads `source` and sets `event` to the deltas since the previous
    /// poll; returns whether there is an event to record.
    mutating func read(_ source: any CounterSource, at reading: ClockReading, after previous: ClockReading?) throws -> Bool {
        try source.read(into: &snapshot)
        guard tracker.update(with: snapshot, into: &event.counts), let previous else { return false }
        let elapsed = Int64(bitPattern: reading.monotonicMilliseconds &- previous.monotonicMilliseconds)
        event.time = previous.wallMilliseconds
        event.duration = max(elapsed, 0)
        event.isCellular = snapshot.isCellular
        return true
    }
}

/// The recorder's state, driven one poll at a time. Not thread-safe: the
/// `Recorder` serializes access; tests and replays drive it directly.
///
/// @unchecked Sendable: a core lives inside its `Recorder`'s `Lock` and is
/// touched only in `withLock`, one thread at a time; nothing hands it out.
final class RecorderCore: @unchecked Sendable {
    let options: RecorderOptions
    let source: any CounterSource
    let logger: Logger
    private let writer: SegmentLogWriter
    private let retention: TieredRetention
    /// One struct, so a poll works on it in place: a class's stored
    /// properties passed to one another are copied (retained) at every poll.
    /// The class is used by one thread at a time (the `Recorder`'s lock), so
    /// the run-time exclusivity check of the state a poll works on in place
    /// is switched off: it cost 1.7% of a replay's instructions (1 h of the
    /// reference workload, 136.0 M against 133.7 M, callgrind). The other
    /// properties' checks cost nothing measurable and are kept.
    @exclusivity(unchecked) private var polling = PollState()
    private var previous: ClockReading?
    private var blockStart: UInt64?
    private var metricsBase = RecorderMetrics()
    private var lastWall: Int64 = 0
    /// Set by `closeForShutdown(lastPollAt:)`: from then on every call is a no-op.
    private(set) var isClosed = false
    /// Labels this recorder refused, to count and log each once (a few:
    /// past `maxRememberedRefusals`, refusals are counted without remembering).
    private var refused: Set<Label> = []
    private static let maxRememberedRefusals = 4096
    /// What the source said it refused at its last poll.
    private var sourceRefusals = 0
    /// States logged when they begin and when they end, never per poll.
    private var splitting = false
    private var sourceFailing = false
    private var writeFailing = false
    /// The live view's subscribers (RecordedEvents.swift): each event the
    /// writer takes is handed to them.
    let recordedEvents = RecordedEventBroadcaster()

    init(source: any CounterSource, options: RecorderOptions, wallClock: @escaping @Sendable () -> Int64, logger: Logger) throws(StoreError) {
        self.options = options
        self.source = source
        self.logger = logger
        if let problem = options.problem { throw StoreError(.invalidOptions, path: options.directory, problem) }
        retention = try TieredRetention(directory: options.directory, options: options.tieredRetentionOptions)
        writer = try SegmentLogWriter(directory: options.directory, options: options.segmentLogOptions, creationTime: wallClock,
                                      firstSequence: retention.firstFreeRecordedSequence)
        polling.event.counts.reserveCapacity(16)
        let retention = self.retention
        writer.willWrite = { [unowned self] bytes, open, openBytes in
            metricsBase.segmentsDeleted += retention.makeRoom(for: bytes, openSegment: open, openBytes: openBytes, now: lastWall)
        }
    }

    /// Whether polls record (see `Recorder.isEnabled`).
    private(set) var isEnabled = true

    /// Enables or disables recording: disabling writes the buffered block,
    /// enabling takes a new baseline at `reading`, so that what is counted
    /// from then on is recorded and what was counted during the pause is not.
    func setEnabled(_ enabled: Bool, at reading: ClockReading) {
        guard !isClosed, enabled != isEnabled else { return }
        if enabled { rebaseline() } else { flush() }
        isEnabled = enabled
        if enabled { takeBaselineIfNone(at: reading) }
    }

    /// Whether the next poll records deltas, rather than being a baseline.
    var hasBaseline: Bool { previous != nil }

    /// Takes the baseline now, if there is none: a poll that records
    /// nothing and from which the next one counts. (A failing source leaves
    /// it to the next poll, as a failed poll always does.)
    func takeBaselineIfNone(at reading: ClockReading) {
        if !hasBaseline { poll(at: reading) }
    }

    /// Takes all-zero counters at `reading` as the baseline: for a source
    /// whose counters all start at zero (`CounterSource.claimZeroBaseline()`),
    /// so the first poll records every byte counted so far.
    func takeZeroBaseline(at reading: ClockReading) {
        guard !isClosed, !hasBaseline else { return }
        _ = polling.tracker.update(with: CounterSnapshot(), into: &polling.event.counts)
        previous = reading
    }

    /// Takes one poll at `reading`.
    func poll(at reading: ClockReading) {
        guard isEnabled, !isClosed else { return }
        metricsBase.polls += 1
        lastWall = reading.wallMilliseconds
        // Whatever happens below, a block whose time is up is written.
        defer {
            if let start = blockStart,
               Int64(bitPattern: reading.monotonicMilliseconds &- start) >= options.flushIntervalMilliseconds {
                flush()
            }
        }
        let hasEvent: Bool
        do {
            hasEvent = try polling.read(source, at: reading, after: previous)
        } catch {
            metricsBase.sourceErrors += 1
            if !sourceFailing {
                sourceFailing = true
                logger.warning("sockstatlog: cannot read counters: \(error) (said once; polling goes on)")
            }
            return
        }
        if sourceFailing {
            sourceFailing = false
            logger.notice("sockstatlog: counters readable again")
        }
        if polling.snapshot.refusedLabels != sourceRefusals { noteSourceRefusals(polling.snapshot.refusedLabels) }
        previous = reading
        if hasEvent { append(polling.event, at: reading) }
    }

    private func append(_ event: Event, at reading: ClockReading) {
        defer {
            // The flush interval runs from the first event of the block being
            // built, whichever rule started that block.
            if writer.bufferedEvents == 1 { blockStart = reading.monotonicMilliseconds }
        }
        do {
            try appendToWriter(event)
            if splitting {
                splitting = false
                logger.notice("sockstatlog: events fit in one record again")
            }
        } catch where error.code == .refused {
            appendWhatCanBeStored(of: event)
        } catch {
            noteWriteFailure(error)
        }
    }

    /// An event the format refused whole: its labels the format cannot
    /// store are left out (and counted), and an event of more than 1024
    /// labels is recorded as several with the same `t`, `d` and `c`.
    private func appendWhatCanBeStored(of event: Event) {
        // The tracker sorted the labels: the copies of a label given twice
        // are adjacent. None of them is kept: which copy is which, and so
        // their deltas, cannot be told.
        var kept: [LabelCounts] = []
        kept.reserveCapacity(event.counts.count)
        let counts = event.counts
        for index in counts.indices {
            let label = counts[index].label
            if label.bytes.count > FormatLimits.maxLabelBytes {
                refuse(label, "longer than \(FormatLimits.maxLabelBytes) bytes")
            } else if (index > 0 && counts[index - 1].label == label)
                        || (index + 1 < counts.count && counts[index + 1].label == label) {
                refuse(label, "given more than once in one snapshot")
            } else {
                kept.append(counts[index])
            }
        }
        if kept.count > FormatLimits.maxLabelsPerEvent {
            metricsBase.eventsSplit += 1
            if !splitting {
                splitting = true
                logger.warning("sockstatlog: an event of \(kept.count) labels is recorded as several of at most \(FormatLimits.maxLabelsPerEvent) (said once until events fit again)")
            }
        }
        var start = 0
        while start < kept.count {
            let end = min(start + FormatLimits.maxLabelsPerEvent, kept.count)
            let piece = Event(time: event.time, duration: event.duration, isCellular: event.isCellular,
                              counts: Array(kept[start..<end]))
            do {
                try appendToWriter(piece)
            } catch where error.code == .refused {
                // Nothing left to take out: the event itself is at fault.
                metricsBase.eventsDropped += 1
                logger.error("sockstatlog: event not recordable: \(error)")
            } catch {
                noteWriteFailure(error)
            }
            start = end
        }
    }

    /// Appends to the writer, and hands an event it took (written, or
    /// waiting in its backlog) to the live view, if anyone watches. Inlined:
    /// as a call of its own it cost 26 instructions an event with nobody
    /// watching; inlined, about 7 of a replay's 5,500 (callgrind).
    @inline(__always)
    private func appendToWriter(_ event: Event) throws(AppendError) {
        if recordedEvents.hasSubscribers {
            try appendAndPublish(event)
        } else {
            try writer.append(event)
        }
    }

    private func appendAndPublish(_ event: Event) throws(AppendError) {
        let taken = writer.metrics.events
        defer { if writer.metrics.events > taken { recordedEvents.publish(event) } }
        try writer.append(event)
    }

    /// Counts a label the recorder leaves out, and says so the first time
    /// (past `maxRememberedRefusals` labels, refusals are counted each time
    /// and said no more).
    private func refuse(_ label: Label, _ why: String) {
        guard !refused.contains(label) else { return }
        metricsBase.labelsRefused += 1
        guard refused.count < Self.maxRememberedRefusals else { return }
        refused.insert(label)
        let shown = label.bytes.count > 64 ? String(decoding: label.bytes.prefix(64), as: UTF8.self) + "…" : label.description
        logger.warning("sockstatlog: label \"\(shown)\" (\(label.bytes.count) bytes) cannot be recorded: \(why); its bytes are left out, the other labels recorded")
        if refused.count == Self.maxRememberedRefusals {
            logger.warning("sockstatlog: \(Self.maxRememberedRefusals) labels refused; more are counted, not said")
        }
    }

    /// The source's count of labels it refused changed: what it added is
    /// counted and said (each label once: the source counts each once).
    private func noteSourceRefusals(_ count: Int) {
        if count > sourceRefusals {
            metricsBase.labelsRefused += count - sourceRefusals
            logger.warning("sockstatlog: the counter source refused \(count - sourceRefusals) more labels the format cannot store (longer than \(FormatLimits.maxLabelBytes) bytes), \(count) in all; their bytes are not recorded")
        }
        sourceRefusals = count
    }

    private func noteWriteFailure(_ error: any Error) {
        if !writeFailing {
            writeFailing = true
            logger.warning("sockstatlog: write failed, holding data: \(error) (said once until writing works)")
        }
    }

    /// Writes the buffered block now.
    func flush() {
        guard !isClosed else { return }
        blockStart = nil
        do {
            try writer.flush()
            if writeFailing, writer.pendingEvents == 0 {
                writeFailing = false
                logger.notice("sockstatlog: writing works again; everything waiting is written")
            }
        } catch {
            noteWriteFailure(error)
        }
    }

    /// Writes the buffered block and closes the open segment, so that every
    /// event so far is in a closed segment.
    func closeSegment() throws(StoreError) {
        guard !isClosed else { return }
        blockStart = nil
        try writer.close()
    }

    /// Releases the rollup tiers' tails, so that a collector takes them too;
    /// the next rollup into a tier starts a new tail.
    func closeTails() {
        retention.closeTails()
    }

    /// Test seam: see `TieredRetention.willRenameTemporaryFile`.
    func onRollupTemporaryFile(_ hook: ((String) -> Void)?) {
        retention.willRenameTemporaryFile = hook
    }

    /// Writes the buffered block and the segment's size so far, without
    /// closing it: where a reader finds every complete block.
    func flushAndLocateOpenSegment() -> (path: String, bytes: Int)? {
        flush()
        guard let path = writer.openSegmentPath, let bytes = writer.openSegmentBytes else { return nil }
        return (path, bytes)
    }

    /// Takes a last poll at `reading` (what was counted since the previous
    /// one is recorded), then closes the segment for good; what cannot be
    /// written is counted as dropped. Every later call is a no-op.
    func closeForShutdown(lastPollAt reading: ClockReading) {
        guard !isClosed else { return }
        defer {
            // Nothing is rolled up any more: the tails are collectors' to take.
            retention.closeTails()
            isClosed = true
            recordedEvents.finish()  // live views end: nothing more is recorded
        }
        // Only over a baseline: a first poll now would record nothing.
        if hasBaseline { poll(at: reading) }
        do {
            try closeSegment()
        } catch {
            let lost = writer.pendingEvents
            metricsBase.eventsDropped += lost
            writer.discardPending()
            logger.error("sockstatlog: final write failed, \(lost) events lost: \(error)")
        }
    }

    /// Forgets the previous snapshot: the next poll is a baseline (after a pause).
    func rebaseline() {
        polling.tracker.reset()
        previous = nil
    }

    /// Test hook: see `SegmentLogWriter.injectWriteFailure`.
    func injectWriteFailure(_ hook: ((Int) -> Errno?)?) {
        writer.injectWriteFailure = hook
    }

    var metrics: RecorderMetrics {
        var result = metricsBase
        let written = writer.metrics
        result.events = written.events
        result.eventsDropped += written.eventsDropped
        result.blocks = written.blocks
        result.bytes = written.bytes
        result.segments = written.segments
        result.writeErrors = written.writeErrors
        result.counterResets = polling.tracker.resets
        let rollups = retention.metrics
        result.rollupPasses = rollups.passes
        result.segmentsRolledUp = rollups.segmentsRolledUp
        result.rollupBytes = rollups.bytesWritten
        result.counterWraps = polling.tracker.wraps
        return result
    }
}

/// Records a counter source into a directory of segments, polling on its own
/// thread.
///
/// A class: it owns the poller and the open segment. All state sits behind
/// one mutex; the poller takes it once per poll.
public final class Recorder: Sendable {
    /// The options in force.
    public let options: RecorderOptions
    private let core: Lock<RecorderCore>
    private let clock: any RecorderClock
    let logger: Logger
    private let state = Lock(State())
    /// Set first thing by `shutdown()`: from then on every call is a no-op.
    private let shutDown = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let observer = Lock<(@Sendable (RecorderMetrics) -> Void)?>(nil)

    private struct State {
        var running = false
        var stopping = false
    }

    /// Opens `options.directory` for recording from `source`.
    ///
    /// - Throws: `StoreError` when the directory cannot be created or listed,
    ///   or (code `.invalidOptions`) when `options.problem` says why the
    ///   options cannot be used.
    public init(source: any CounterSource, options: RecorderOptions, clock: any RecorderClock = SystemClock(),
                logger: Logger = Logger(label: "sockstatlog")) throws(StoreError) {
        self.options = options
        self.clock = clock
        self.logger = logger
        core = Lock(try RecorderCore(source: source, options: options,
                                     wallClock: { clock.now().wallMilliseconds }, logger: logger))
        if source.claimZeroBaseline() {
            core.withLock { $0.takeZeroBaseline(at: clock.now()) }
        }
    }

    /// Whether `shutdown()` was called. After it the recorder records
    /// nothing: `poll`, `poll(at:)`, `start`, `flush` and setting
    /// `isEnabled` are no-ops (no segment is created, no event is taken and
    /// lost), and `metrics` stays at its final values. `drain` and `read`
    /// still deliver what is on disk: they write no segment, and shutting
    /// down, then draining, is how an app collects everything.
    public var isShutDown: Bool { shutDown.load(ordering: .acquiring) }

    /// Starts polling every `pollIntervalMilliseconds` on a background
    /// thread. Does nothing if it is polling already, or after `shutdown()`.
    ///
    /// Nothing counted from the moment `start()` is called is lost: if the
    /// recorder has no baseline yet, `start()` reads the source as its
    /// baseline before it returns (not later, on the poller's thread). A
    /// source whose counters start at zero (`InProcessCounters`) needs no
    /// baseline: its first recorder records even what was counted before
    /// `start()` (see `CounterSource.claimZeroBaseline()`).
    public func start() {
        guard !isShutDown else { return }
        let alreadyRunning = state.withLock { state -> Bool in
            defer { state.running = true }
            return state.running || state.stopping
        }
        guard !alreadyRunning else { return }
        core.withLock { $0.takeBaselineIfNone(at: clock.now()) }
        let thread = DispatchQueue(label: "sockstatlog.poller", qos: .utility)
        thread.async { [self] in runLoop() }
    }

    private func runLoop() {
        let interval = UInt64(max(options.pollIntervalMilliseconds, 1))
        // The baseline was taken by start(): the first poll is one interval on.
        var next = clock.now().monotonicMilliseconds &+ interval
        while true {
            let now = clock.now().monotonicMilliseconds
            if Int64(bitPattern: next &- now) > 0 {
                _ = wakeup.wait(timeout: .now() + .milliseconds(Int(next &- now)))
            }
            if state.withLock({ $0.stopping }) { break }
            poll()
            next &+= interval
            let after = clock.now().monotonicMilliseconds
            // A stalled process skips the missed ticks: the next event has one long d.
            if Int64(bitPattern: after &- next) > 0 { next = after &+ interval }
        }
        // The last poll and the final flush on the poller thread, so that
        // writes never overlap.
        withCoreThenObserver { $0.closeForShutdown(lastPollAt: clock.now()) }
        stopped.signal()
    }

    /// Takes one poll now (the poller does this on its own; tests and
    /// replays may call it directly, or `poll(at:)` with their own times).
    public func poll() {
        guard !isShutDown else { return }
        // The clock is read under the lock: a poll that waited for a drain
        // must not stamp counters read now with the time it started waiting.
        withCoreThenObserver { $0.poll(at: clock.now()) }
    }

    /// Takes one poll with the given clock reading.
    public func poll(at reading: ClockReading) {
        guard !isShutDown else { return }
        withCoreThenObserver { $0.poll(at: reading) }
    }

    /// Called with `metrics` after every poll and once more when
    /// `shutdown()` has closed the segment (its final values): how an
    /// integration such as SockStatMetrics reports them. One observer;
    /// setting another replaces it, nil removes it.
    ///
    /// It runs on the thread that polled (the poller's, or the caller of
    /// `poll()`), outside the recorder's lock, so it never holds up a drain
    /// or another poll; but the poller waits for it, so it must be quick
    /// (swift-metrics handlers are: an atomic add). Polls from several
    /// threads may call it at once, and hand it metrics out of order: every
    /// count only grows, so an observer keeps the largest it has seen.
    /// Costs nothing per poll when nil beyond reading it.
    public var metricsObserver: (@Sendable (RecorderMetrics) -> Void)? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }

    /// Runs `body` on the core under its lock, then hands the metrics after
    /// it to the observer, if there is one, outside the lock.
    private func withCoreThenObserver(_ body: (RecorderCore) -> Void) {
        guard let observer = metricsObserver else {
            core.withLock { body($0) }
            return
        }
        let metrics = core.withLock { core -> RecorderMetrics in
            body(core)
            return core.metrics
        }
        observer(metrics)
    }

    /// Whether polling records. Disabling writes the buffered block; enabling
    /// takes a new baseline then and there, so the pause is not one long
    /// event and what is counted from the moment of enabling is recorded. The
    /// switch happens under the same lock as polls, so no poll straddles it.
    /// False, and not settable, after `shutdown()`.
    public var isEnabled: Bool {
        get { !isShutDown && core.withLock { $0.isEnabled } }
        set {
            guard !isShutDown else { return }
            // The clock is read under the lock, as by a poll.
            core.withLock { $0.setEnabled(newValue, at: clock.now()) }
        }
    }

    /// Writes the buffered block now.
    public func flush() {
        guard !isShutDown else { return }
        core.withLock { $0.flush() }
    }

    /// Test hook: makes block writes fail (or stall) as `hook` says.
    package func injectWriteFailure(_ hook: (@Sendable (Int) -> Errno?)?) {
        core.withLock { $0.injectWriteFailure(hook) }
    }

    /// Writes the buffered block and closes the open segment; the next event
    /// starts a new one. The rollup tiers' tails are released too, so that a
    /// collection takes every tier (even when the segment cannot be closed).
    func closeOpenSegment() throws(StoreError) {
        var failure: StoreError?
        core.withLock { core in
            do throws(StoreError) { try core.closeSegment() } catch { failure = error }
            core.closeTails()
        }
        if let failure { throw failure }
    }

    /// Test seam: called with each rollup's temporary file before it is renamed into place.
    package func onRollupTemporaryFile(_ hook: (@Sendable (String) -> Void)?) {
        core.withLock { $0.onRollupTemporaryFile(hook) }
    }

    /// Writes the buffered block; returns the open segment and its size, if
    /// one is open (a read takes its complete blocks without closing it).
    func flushAndLocateOpenSegment() -> (path: String, bytes: Int)? {
        core.withLock { $0.flushAndLocateOpenSegment() }
    }

    /// What a read takes, at one moment: this user's segments in order, the
    /// open one (its buffered block written first) up to its size then.
    /// Each is opened then, under the lock polls take: a rollup after it
    /// (which moves a recorded segment's events into a tier's tail, read
    /// earlier, coarse tiers first) cannot make a read miss or repeat them.
    func snapshotForRead() throws(StoreError) -> [(segment: OpenedSegment, prefix: Int?)] {
        try core.withLock { (core: inout RecorderCore) throws(StoreError) -> [(segment: OpenedSegment, prefix: Int?)] in
            let open = core.flushAndLocateOpenSegment()
            var inputs: [(segment: OpenedSegment, prefix: Int?)] = []
            for file in try SegmentDirectory.segments(in: options.directory) where file.isCollectable && file.heldBy == nil {
                guard let opened = SegmentDirectory.open(file.path) else { continue }
                inputs.append((opened, open.flatMap { file.path == $0.path ? $0.bytes : nil }))
            }
            return inputs
        }
    }

    /// The live view's subscribers (RecordedEvents.swift).
    var recordedEventBroadcaster: RecordedEventBroadcaster { core.withLock { $0.recordedEvents } }

    /// What the recorder has done so far (after `shutdown()`, its final values).
    public var metrics: RecorderMetrics {
        core.withLock { $0.metrics }
    }

    /// Stops polling, takes one last poll (what was counted since the
    /// previous poll is recorded), writes what is buffered and closes the
    /// segment. Returns within `shutdownTimeoutMilliseconds` even if the disk
    /// is slow; returns false if the last poll and final write had not
    /// finished by then (they go on).
    ///
    /// Terminal: the recorder records nothing after it (`isShutDown` says
    /// what still works); a second `shutdown()` says whether the first
    /// one's final write finished.
    @discardableResult
    public func shutdown() -> Bool {
        shutDown.store(true, ordering: .releasing)
        let (wasRunning, alreadyStopping) = state.withLock { state -> (Bool, Bool) in
            defer { state.stopping = true }
            return (state.running, state.stopping)
        }
        let deadline = DispatchTime.now() + .milliseconds(Int(options.shutdownTimeoutMilliseconds))
        if alreadyStopping {
            // A second call: done once the first one's final write is.
            let finished = stopped.wait(timeout: deadline) == .success
            if finished { stopped.signal() }
            return finished
        }
        if wasRunning {
            wakeup.signal()
        } else {
            // A queue of its own, not a global one: the global queues run
            // as many work items as there are cores, so under load (other
            // work blocked on them) the final write could wait past the
            // bound. A serial queue gets a thread of its own at once.
            DispatchQueue(label: "sockstatlog.shutdown", qos: .utility).async { [self] in
                withCoreThenObserver { $0.closeForShutdown(lastPollAt: clock.now()) }
                stopped.signal()
            }
        }
        let finished = stopped.wait(timeout: deadline) == .success
        if finished { stopped.signal() }  // for later calls
        return finished
    }
}
