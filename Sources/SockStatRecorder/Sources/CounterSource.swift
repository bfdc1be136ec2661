import Synchronization
import SockStatFormat

/// Cumulative byte counters per label at one moment, and whether the current
/// interface is cellular.
///
/// A source refills the same snapshot every poll, so that polling allocates
/// nothing once the arrays have grown.
public struct CounterSnapshot: Sendable {
    /// The labels, in any order, each once.
    public private(set) var labels: [Label] = []
    /// Cumulative bytes sent, by position in `labels`.
    public private(set) var tx: [UInt64] = []
    /// Cumulative bytes received, by position in `labels`.
    public private(set) var rx: [UInt64] = []
    /// Whether traffic now goes over a cellular interface.
    public var isCellular = false
    /// How many labels the source has refused so far because the format
    /// cannot store them (longer than `FormatLimits.maxLabelBytes`): a total
    /// that only grows, each label counted once. The recorder counts and
    /// says what it adds.
    public var refusedLabels = 0
    /// Which source last filled the labels, and its version of them: a
    /// source that finds its own mark may copy only the counters. Every
    /// public change of the labels clears it.
    var labelsMark: LabelsMark?

    /// Creates an empty snapshot.
    public init() {}

    /// The number of labels.
    public var count: Int { labels.count }

    /// Empties the snapshot, keeping its storage.
    public mutating func removeAll() {
        labelsMark = nil
        labels.removeAll(keepingCapacity: true)
        tx.removeAll(keepingCapacity: true)
        rx.removeAll(keepingCapacity: true)
        isCellular = false
        refusedLabels = 0
    }

    /// Adds one label's cumulative counters.
    public mutating func append(_ label: Label, tx sent: UInt64, rx received: UInt64) {
        labelsMark = nil
        labels.append(label)
        tx.append(sent)
        rx.append(received)
    }
}

/// A source's mark on the labels of a snapshot it filled.
struct LabelsMark: Equatable, Sendable {
    /// From `nextIdentity`, never an address: a freed source's address can
    /// come back as another source's, and its marks must not match.
    var source: UInt64
    var version: Int

    /// Numbers the sources that mark snapshots, once each, process-wide.
    static func nextIdentity() -> UInt64 {
        identities.add(1, ordering: .relaxed).newValue
    }
    private static let identities = Atomic<UInt64>(0)
}

extension CounterSnapshot {
    /// Lends the counters for rewriting in place, labels and mark left alone;
    /// for sources that found their mark and set every counter at once.
    mutating func withCounters<Result>(
        _ body: (UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt64>) -> Result
    ) -> Result {
        tx.withUnsafeMutableBufferPointer { tx in
            rx.withUnsafeMutableBufferPointer { rx in body(tx, rx) }
        }
    }
}

/// Where the recorder gets its counters: in-process instrumentation, this
/// host's interfaces, or a replay of recorded events.
public protocol CounterSource: Sendable {
    /// Replaces the contents of `snapshot` with the current cumulative counters.
    ///
    /// - Throws: when the counters cannot be read this time; the recorder
    ///   logs, counts it, and tries again at the next poll.
    func read(into snapshot: inout CounterSnapshot) throws

    /// Whether a recorder being created may take all-zero counters as its
    /// baseline instead of reading one, so that its first poll records every
    /// byte counted so far, even before `Recorder.start()`. Called once by
    /// each `Recorder` as it is created.
    ///
    /// True only for a source whose counters all start at zero and whose
    /// bytes no other recorder has taken: `InProcessCounters` says true to
    /// its first recorder and false to any later one (which then reads its
    /// baseline at `start()`, so no byte is recorded twice). The default is
    /// false: interface counters, for one, count from boot.
    func claimZeroBaseline() -> Bool
}

extension CounterSource {
    /// False: the recorder reads its baseline (at `start()` or its first poll).
    public func claimZeroBaseline() -> Bool { false }
}
