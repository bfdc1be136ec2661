import SockStatFormat

/// Bytes sent and received, in all and on cellular: exact totals.
public struct TrafficTotals: Hashable, Sendable {
    /// Bytes sent.
    public internal(set) var tx = ByteTotal()
    /// Bytes received.
    public internal(set) var rx = ByteTotal()
    /// Bytes sent in cellular events (`"c":1`), part of `tx`.
    public internal(set) var cellularTX = ByteTotal()
    /// Bytes received in cellular events, part of `rx`.
    public internal(set) var cellularRX = ByteTotal()

    /// No bytes.
    public init() {}

    /// Sent and received.
    public var total: ByteTotal { tx + rx }
    /// Sent and received on cellular.
    public var cellular: ByteTotal { cellularTX + cellularRX }

    @inline(__always) mutating func add(tx sent: UInt64, rx received: UInt64, cellular: Bool) {
        tx.add(sent)
        rx.add(received)
        if cellular {
            cellularTX.add(sent)
            cellularRX.add(received)
        }
    }

    /// Adds `other`.
    public mutating func add(_ other: TrafficTotals) {
        tx.add(other.tx)
        rx.add(other.rx)
        cellularTX.add(other.cellularTX)
        cellularRX.add(other.cellularRX)
    }
}

/// What one label did over a summary's range (or one bucket of it).
///
/// Rates are over 1 s windows aligned to whole UTC seconds (an event counts
/// in the second its `t` falls in); a window is *active* for a label when the
/// label moved at least one byte in it, either way. `rate` is sent and
/// received together, `txRate` and `rxRate` each direction over the same
/// active windows (so a window that only received counts as 0 in `txRate`).
public struct LabelFigures: Sendable {
    /// The label.
    public let label: Label
    /// Its bytes.
    public internal(set) var totals = TrafficTotals()
    /// Active 1 s windows.
    public internal(set) var secondsActive: UInt64 = 0
    /// Bytes per active window, sent and received together.
    public internal(set) var rate = RateDistribution()
    /// Bytes sent per active window.
    public internal(set) var txRate = RateDistribution()
    /// Bytes received per active window.
    public internal(set) var rxRate = RateDistribution()

    /// Whether the label had an entry (even of 0 bytes).
    var appeared = false

    init(label: Label) { self.label = label }

    @inline(__always) mutating func add(tx: UInt64, rx: UInt64, cellular: Bool) {
        totals.add(tx: tx, rx: rx, cellular: cellular)
        appeared = true
    }

    mutating func compact() {
        rate.compact()
        txRate.compact()
        rxRate.compact()
    }

    mutating func closeWindow(tx: ByteTotal, rx: ByteTotal) {
        secondsActive &+= 1
        rate.record(tx + rx)
        txRate.record(tx)
        rxRate.record(rx)
    }
}

/// A stretch with no events longer than the gap threshold: `start` is the
/// latest end (`t + d`) before it, `length` milliseconds up to the next `t`.
public struct Gap: Hashable, Sendable {
    /// Unix ms.
    public var start: Int64
    /// Milliseconds.
    public var length: Int64
    /// Unix ms of the next event.
    public var end: Int64 { start.addingClamped(length) }
}

/// The gaps of a summary.
public struct GapFigures: Hashable, Sendable {
    /// Gaps counted: those longer than this many milliseconds.
    public var threshold: Int64
    /// How many.
    public internal(set) var count = 0
    /// Their total length, ms.
    public internal(set) var totalLength = ByteTotal()
    /// The longest few, longest first (ties: earliest first).
    public internal(set) var longest: [Gap] = []

    mutating func record(_ gap: Gap, keeping kept: Int) {
        count += 1
        totalLength.add(UInt64(gap.length))
        guard kept > 0 else { return }
        let position = longest.firstIndex { $0.length < gap.length } ?? longest.count
        if position < kept {
            longest.insert(gap, at: position)
            if longest.count > kept { longest.removeLast() }
        }
    }
}

/// One bucket of a `--by` summary: `[start, end)` in Unix ms.
public struct BucketFigures: Sendable {
    /// Unix ms of the bucket's first instant.
    public var start: Int64
    /// Unix ms just after its last.
    public var end: Int64
    /// Events with `t` in it.
    public internal(set) var events = 0
    /// Its labels, largest total first (ties: bytewise label order).
    public internal(set) var labels: [LabelFigures] = []
    /// While summing: each label's index in `labels`, by the summary's label index.
    var indexOfLabel: [Int: Int] = [:]
    /// All labels together.
    public var totals: TrafficTotals { labels.reduce(into: TrafficTotals()) { $0.add($1.totals) } }
}

/// A stretch of a summary's input read at one resolution: consecutive
/// segments (in reading order) of one rollup tier, or of recorded events.
public struct ResolutionPeriod: Hashable, Sendable {
    /// The tier's window, milliseconds; 0 for events as recorded.
    public var window: Int64
    /// The earliest `t` of its events (in the range), Unix ms.
    public internal(set) var firstTime: Int64
    /// The latest `t + d` of its events, Unix ms.
    public internal(set) var endTime: Int64
    /// Its events.
    public internal(set) var events = 0
    /// The shortest positive `d` of its events (with the longest, what "as
    /// recorded" was: 100 ms for a phone); nil when none had one.
    public internal(set) var shortestDuration: Int64?
    /// The longest positive `d` of its events; nil when none had one.
    public internal(set) var longestDuration: Int64?

    /// For people: `1 h`, `1 min`, `as recorded (100 ms)`, `as recorded (100 ms to 10 s)`.
    public var resolutionText: String {
        guard window == 0 else { return HumanUnits.window(window) }
        guard let shortest = shortestDuration, let longest = longestDuration else { return "as recorded" }
        return shortest == longest ? "as recorded (\(HumanUnits.window(shortest)))"
            : "as recorded (\(HumanUnits.window(shortest)) to \(HumanUnits.window(longest)))"
    }
}

/// What a summary found: a snapshot of a `TrafficSummary`.
public struct SummaryFigures: Sendable {
    /// The options it was made with.
    public var options: SummaryOptions
    /// Events counted (those with `t` in the range).
    public internal(set) var events = 0
    /// The earliest `t`, Unix ms; nil when there were no events.
    public internal(set) var firstTime: Int64?
    /// The latest `t + d`, Unix ms; nil when there were no events.
    public internal(set) var endTime: Int64?
    /// Every label, largest total first (ties: bytewise label order).
    public internal(set) var labels: [LabelFigures] = []
    /// Gaps with no events.
    public internal(set) var gaps: GapFigures
    /// The buckets holding events, in time order; empty for `.total`.
    public internal(set) var buckets: [BucketFigures] = []
    /// Which resolution each period of the input has, in reading order
    /// (for a directory with rollup tiers: coarse tiers first, which is
    /// time order); only periods with events in the range.
    public internal(set) var resolutions: [ResolutionPeriod] = []

    /// All labels together.
    public var totals: TrafficTotals { labels.reduce(into: TrafficTotals()) { $0.add($1.totals) } }

    /// Whether no label moved a byte (an idle host, or no events at all).
    public var hasNoTraffic: Bool { totals.total.isZero }
}
