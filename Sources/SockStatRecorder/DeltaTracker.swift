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
public struct DeltaTracker: Sendable {
    // The previous poll, in the source's order. Sources keep their labels in
    // a stable order, so a poll is normally matched index by index with no
    // hashing; a dictionary is built only when the order changes.
    private var labels: [Label] = []
    private var tx: [UInt64] = []
    private var rx: [UInt64] = []
    private var index: [Label: Int] = [:]
    /// The source's mark on the labels of the previous poll: the same mark
    /// again means the same labels, which then need no comparing.
    private var labelsMark: LabelsMark?

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
        labels.removeAll(keepingCapacity: true)
        tx.removeAll(keepingCapacity: true)
        rx.removeAll(keepingCapacity: true)
        labelsMark = nil
        hasBaseline = false
    }

    /// Compares `snapshot` with the previous one and replaces `counts` with the
    /// labels that changed, sorted by label. Returns false for the baseline.
    public mutating func update(with snapshot: CounterSnapshot, into counts: inout [LabelCounts]) -> Bool {
        // Entries are overwritten in place; one already holding the label
        // keeps it, so a label that changes poll after poll costs no
        // reference counting.
        var used = 0
        let isBaseline = !hasBaseline
        hasBaseline = true
        let count = snapshot.count
        let known = labels.count
        // Fast path: the previous labels are a prefix of this poll's, in order.
        var aligned = count >= known
        if aligned, snapshot.labelsMark == nil || snapshot.labelsMark != labelsMark {
            for position in 0..<known where snapshot.labels[position] != labels[position] {
                aligned = false
                break
            }
        }
        if !aligned { indexPreviousPoll() }
        for position in 0..<count {
            let newTX = snapshot.tx[position]
            let newRX = snapshot.rx[position]
            let sent: UInt64
            let received: UInt64
            if let previous = aligned ? (position < known ? position : nil) : index[snapshot.labels[position]] {
                sent = delta(old: tx[previous], new: newTX)
                received = delta(old: rx[previous], new: newRX)
            } else {
                sent = newTX  // a label not in the previous poll counts from zero
                received = newRX
            }
            if !isBaseline, sent != 0 || received != 0 {
                if used < counts.count, counts[used].label == snapshot.labels[position] {
                    counts[used].tx = sent
                    counts[used].rx = received
                } else {
                    let entry = LabelCounts(label: snapshot.labels[position], tx: sent, rx: received)
                    if used < counts.count { counts[used] = entry } else { counts.append(entry) }
                }
                used += 1
            }
        }
        // Remember this poll. Values are copied in place; labels only when they changed.
        if !aligned || count != known {
            labels.removeAll(keepingCapacity: true)
            labels.append(contentsOf: snapshot.labels)
            tx.removeAll(keepingCapacity: true)
            tx.append(contentsOf: snapshot.tx)
            rx.removeAll(keepingCapacity: true)
            rx.append(contentsOf: snapshot.rx)
        } else {
            for position in 0..<count {
                tx[position] = snapshot.tx[position]
                rx[position] = snapshot.rx[position]
            }
        }
        if counts.count > used { counts.removeSubrange(used...) }
        labelsMark = snapshot.labelsMark
        if counts.count > 1 { counts.sort { $0.label < $1.label } }
        return !isBaseline && !counts.isEmpty
    }

    /// Indexes the previous poll by label, for a poll whose order differs.
    /// Labels missing from the new poll are forgotten by not being carried over.
    private mutating func indexPreviousPoll() {
        index.removeAll(keepingCapacity: true)
        for (position, label) in labels.enumerated() { index[label] = position }
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
