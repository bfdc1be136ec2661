/// The byte counts of a label's active 1 s windows: how many, the largest
/// (exact) and percentiles from a bounded log-bucketed histogram.
///
/// Values below 128 are counted exactly; above, each power of two is split
/// into 128 buckets, so a percentile is the lower bound of the bucket that
/// holds it: never above the exact value and less than 1/128 (0.79%) below
/// it. The histogram is sparse (one 128-entry group per power of two in use)
/// and bounded (at most 58 groups), so memory does not grow with the input
/// and many labels stay cheap. Values past 2^64−1 (hostile logs only) are
/// counted as 2^64−1; `peak` stays exact.
public struct RateDistribution: Sendable {
    /// Windows counted.
    public private(set) var windows: UInt64 = 0
    /// The largest window, exact.
    public private(set) var peak = ByteTotal()
    /// Counts by bucket: `groups[g][s]`; group 0 holds 0...127 exactly,
    /// group g ≥ 1 the values with their highest bit at position g + 6.
    private var groups: [[UInt64]] = []

    static let subBuckets = 128

    /// An empty distribution.
    public init() {}

    /// Counts one window of `bytes`.
    public mutating func record(_ bytes: ByteTotal) {
        windows &+= 1
        if bytes > peak { peak = bytes }
        let (group, sub) = Self.bucket(of: bytes.clampedUInt64)
        if group >= groups.count { groups.append(contentsOf: repeatElement([], count: group + 1 - groups.count)) }
        if groups[group].isEmpty { groups[group] = Array(repeating: 0, count: Self.subBuckets) }
        groups[group][sub] &+= 1
    }

    /// Adds the windows of `other`.
    public mutating func merge(_ other: RateDistribution) {
        windows &+= other.windows
        if other.peak > peak { peak = other.peak }
        for (group, counts) in other.groups.enumerated() where !counts.isEmpty {
            if group >= groups.count { groups.append(contentsOf: repeatElement([], count: group + 1 - groups.count)) }
            if groups[group].isEmpty { groups[group] = Array(repeating: 0, count: Self.subBuckets) }
            for sub in 0..<Self.subBuckets { groups[group][sub] &+= counts[sub] }
        }
    }

    /// The bucket of `value`: its group and position in the group.
    static func bucket(of value: UInt64) -> (group: Int, sub: Int) {
        if value < UInt64(subBuckets) { return (0, Int(value)) }
        let highestBit = 63 - value.leadingZeroBitCount
        let shift = highestBit - 7
        return (highestBit - 6, Int(value >> UInt64(shift)) - subBuckets)
    }

    /// The smallest value in bucket (`group`, `sub`).
    static func lowerBound(group: Int, sub: Int) -> UInt64 {
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
        for (group, counts) in groups.enumerated() where !counts.isEmpty {
            for sub in 0..<Self.subBuckets {
                seen &+= counts[sub]
                if seen >= rank { return min(Self.lowerBound(group: group, sub: sub), peak.clampedUInt64) }
            }
        }
        return peak.clampedUInt64
    }

    /// The 95th percentile (see `percentile(_:)`).
    public var percentile95: UInt64 { percentile(95) }
}
