/// The byte counts of a label's active 1 s windows: how many, the largest
/// (exact) and percentiles from a bounded log-bucketed histogram.
///
/// Values below 128 are counted exactly; above, each power of two is split
/// into 128 buckets, so a percentile is the lower bound of the bucket that
/// holds it: never above the exact value and less than 1/128 (0.79%) below
/// it. The histogram is bounded (7,424 buckets at most), so memory does not
/// grow with the input, and sparse: dense 128-bucket groups for the powers
/// of two in use once it has more than a few distinct buckets, or, before
/// that and once `compact()` is called (a summary does so for buckets of
/// time it has moved past), only the buckets in use, sorted: a label seen
/// in a few windows costs a few bytes, not a kilobyte per group. Values past 2^64−1 (hostile logs only) are
/// counted as 2^64−1; `peak` stays exact.
public struct RateDistribution: Sendable {
    /// Windows counted.
    public private(set) var windows: UInt64 = 0
    /// The largest window, exact.
    public private(set) var peak = ByteTotal()
    /// Dense form: counts of group g (128 buckets) at `dense[start[g]...]`,
    /// `start[g]` −1 for a group not in use; group 0 holds 0...127 exactly,
    /// group g ≥ 1 the values with their highest bit at g + 6. One flat
    /// array: a window costs two loads and an add.
    private var start: [Int32] = []
    private var dense: [UInt64] = []
    /// Compact form: the buckets in use (g × 128 + s), ascending, and their counts.
    private var keys: [UInt16] = []
    private var counts: [UInt64] = []
    private var isCompact = true
    /// Set by `compact()`: stay compact however many buckets come.
    private var staysCompact = false
    /// The compact form turns dense when it holds more buckets than this.
    static let compactBucketLimit = 32

    static let subBuckets = 128

    /// An empty distribution.
    public init() {}

    /// Counts one window of `bytes`.
    public mutating func record(_ bytes: ByteTotal) {
        windows &+= 1
        if bytes > peak { peak = bytes }
        add(Self.key(of: bytes.clampedUInt64), count: 1)
    }

    /// Adds the windows of `other`.
    public mutating func merge(_ other: RateDistribution) {
        windows &+= other.windows
        if other.peak > peak { peak = other.peak }
        other.forEachBucket { key, count in
            add(key, count: count)
            return true
        }
    }

    /// Keeps only the buckets in use, for a distribution that will get few
    /// or no more windows; recording into it still works, more slowly.
    public mutating func compact() {
        guard !isCompact else { return }
        var keys: [UInt16] = [], counts: [UInt64] = []
        forEachBucket { key, count in
            keys.append(UInt16(key))
            counts.append(count)
            return true
        }
        (self.keys, self.counts, start, dense, isCompact) = (keys, counts, [], [], true)
        staysCompact = true
    }

    /// Moves the compact form's buckets into dense groups.
    private mutating func expand() {
        let (keys, counts) = (self.keys, self.counts)
        (self.keys, self.counts, isCompact) = ([], [], false)
        for (key, count) in zip(keys, counts) { add(Int(key), count: count) }
    }

    private mutating func add(_ key: Int, count: UInt64) {
        if isCompact {
            // Binary search for the key; insert it when new.
            var (low, high) = (0, keys.count)
            while low < high {
                let middle = (low + high) / 2
                if Int(keys[middle]) < key { low = middle + 1 } else { high = middle }
            }
            if low < keys.count, Int(keys[low]) == key {
                counts[low] &+= count
            } else {
                keys.insert(UInt16(key), at: low)
                counts.insert(count, at: low)
                if !staysCompact && keys.count > Self.compactBucketLimit { expand() }
            }
            return
        }
        let group = key &>> 7
        if group >= start.count { start.append(contentsOf: repeatElement(-1, count: group + 1 - start.count)) }
        if start[group] < 0 {
            start[group] = Int32(dense.count)
            dense.append(contentsOf: repeatElement(0, count: Self.subBuckets))
        }
        dense[Int(start[group]) &+ (key & 127)] &+= count
    }

    /// Calls `body` with each bucket in use and its count, ascending, until it returns false.
    private func forEachBucket(_ body: (_ key: Int, _ count: UInt64) -> Bool) {
        if isCompact {
            for (key, count) in zip(keys, counts) where !body(Int(key), count) { return }
            return
        }
        for (group, first) in start.enumerated() where first >= 0 {
            for sub in 0..<Self.subBuckets where dense[Int(first) + sub] != 0 {
                if !body(group * Self.subBuckets + sub, dense[Int(first) + sub]) { return }
            }
        }
    }

    /// The bucket of `value`: group × 128 + position in the group.
    static func key(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount
        let shift = highestBit - 7
        return (highestBit - 6) * subBuckets + Int(value >> UInt64(shift)) - subBuckets
    }

    /// The smallest value in bucket `key`.
    static func lowerBound(of key: Int) -> UInt64 {
        let (group, sub) = key.quotientAndRemainder(dividingBy: subBuckets)
        if group == 0 { return UInt64(sub) }
        return UInt64(sub + subBuckets) << UInt64(group - 1)
    }

    /// The nearest-rank `percent`th percentile (the value at rank
    /// ⌈percent/100 × windows⌉ in ascending order), to the precision above;
    /// 0 when there are no windows.
    public func percentile(_ percent: Int) -> UInt64 {
        guard windows > 0 else { return 0 }
        let percent = UInt64(min(max(percent, 1), 100))
        // ⌈windows × percent / 100⌉ without overflow.
        let product = windows.multipliedFullWidth(by: percent)
        var (rank, remainder) = UInt64(100).dividingFullWidth(product)
        if remainder != 0 { rank += 1 }
        var seen: UInt64 = 0
        var found = peak.clampedUInt64
        forEachBucket { key, count in
            seen &+= count
            guard seen >= rank else { return true }
            found = min(Self.lowerBound(of: key), found)
            return false
        }
        return found
    }

    /// The 95th percentile (see `percentile(_:)`).
    public var percentile95: UInt64 { percentile(95) }
}
