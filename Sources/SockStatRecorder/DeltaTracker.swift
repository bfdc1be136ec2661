import SockStatFormat

/// Turns successive cumulative snapshots into per-label deltas.
///
/// The rules (Spec/RECORDER.md, "Deltas"), per counter, tx and rx apart:
/// - a label absent from the previous snapshot counts from zero: delta = new;
/// - new ≥ old: delta = new − old;
/// - new < old is a 32-bit wrap when old and new are below 2^32, old is in the
///   top quarter of that range and new in the bottom quarter:
///   delta = new + 2^32 − old;
/// - any other new < old is a reset (source restarted, interface re-created):
///   delta = new, never the near-2^64 difference.
/// A label whose deltas are both zero is left out; labels missing from a
/// snapshot are forgotten.
public struct DeltaTracker {
    private struct Previous {
        var tx: UInt64
        var rx: UInt64
        var generation: UInt64
    }

    private var previous: [Label: Previous] = [:]
    private var generation: UInt64 = 0
    private var stale: [Label] = []

    /// Counters that went backwards and were taken as resets.
    public private(set) var resets = 0
    /// Counters that went backwards and were taken as 32-bit wraps.
    public private(set) var wraps = 0
    /// Whether a baseline snapshot has been taken.
    public private(set) var hasBaseline = false

    /// Creates a tracker with no baseline.
    public init() {}

    /// Forgets every previous value: the next snapshot is a baseline.
    public mutating func reset() {
        previous.removeAll(keepingCapacity: true)
        hasBaseline = false
    }

    /// Compares `snapshot` with the previous one and replaces `counts` with the
    /// labels that changed, sorted by label. Returns false for the baseline.
    public mutating func update(with snapshot: CounterSnapshot, into counts: inout [LabelCounts]) -> Bool {
        counts.removeAll(keepingCapacity: true)
        generation &+= 1
        let isBaseline = !hasBaseline
        hasBaseline = true
        for index in 0..<snapshot.count {
            let label = snapshot.labels[index]
            let tx = snapshot.tx[index]
            let rx = snapshot.rx[index]
            if let old = previous[label] {
                let sent = delta(old: old.tx, new: tx)
                let received = delta(old: old.rx, new: rx)
                previous[label] = Previous(tx: tx, rx: rx, generation: generation)
                if !isBaseline, sent != 0 || received != 0 {
                    counts.append(LabelCounts(label: label, tx: sent, rx: received))
                }
            } else {
                previous[label] = Previous(tx: tx, rx: rx, generation: generation)
                if !isBaseline, tx != 0 || rx != 0 {
                    counts.append(LabelCounts(label: label, tx: tx, rx: rx))
                }
            }
        }
        if previous.count > snapshot.count {
            // Some labels vanished: forget them, so that they count from zero if they return.
            stale.removeAll(keepingCapacity: true)
            for (label, value) in previous where value.generation != generation { stale.append(label) }
            for label in stale { previous[label] = nil }
        }
        if counts.count > 1 { counts.sort { $0.label < $1.label } }
        return !isBaseline && !counts.isEmpty
    }

    private mutating func delta(old: UInt64, new: UInt64) -> UInt64 {
        if new >= old { return new - old }
        let twoTo30: UInt64 = 1 << 30
        if old <= UInt64(UInt32.max), old >= 3 * twoTo30, new < twoTo30 {
            wraps += 1
            return new + (1 << 32) - old
        }
        resets += 1
        return new
    }
}
