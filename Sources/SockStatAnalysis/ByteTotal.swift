/// An exact count of bytes: 128 bits, so that adding up `UInt64` counters
/// never wraps or traps, even when a hostile log has counters near 2^64.
///
/// 2^128 bytes would take more than 2^64 entries of 2^64−1 each; no input
/// this tool reads holds that many, so a total is always exact. `description`
/// is the exact decimal; JSON output writes it as a plain integer however
/// large (JSON numbers have no size limit; a consumer that parses them into
/// 64-bit integers or doubles should check for values past 2^64−1).
public struct ByteTotal: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The upper 64 bits.
    public private(set) var high: UInt64
    /// The lower 64 bits.
    public private(set) var low: UInt64

    /// A total of `value` bytes.
    public init(_ value: UInt64 = 0) {
        high = 0
        low = value
    }

    /// The total `high` × 2^64 + `low`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Adds `value`.
    public mutating func add(_ value: UInt64) {
        let (sum, carried) = low.addingReportingOverflow(value)
        low = sum
        if carried { high &+= 1 }
    }

    /// Adds `other`.
    public mutating func add(_ other: ByteTotal) {
        add(other.low)
        high &+= other.high
    }

    /// The sum of two totals.
    public static func + (lhs: ByteTotal, rhs: ByteTotal) -> ByteTotal {
        var sum = lhs
        sum.add(rhs)
        return sum
    }

    /// Whether the total is zero.
    public var isZero: Bool { high == 0 && low == 0 }

    /// The total as a `UInt64`, or nil when it is 2^64 or more.
    public var exactUInt64: UInt64? { high == 0 ? low : nil }

    /// The total as a `UInt64`, 2^64−1 when it is larger.
    public var clampedUInt64: UInt64 { high == 0 ? low : .max }

    /// The nearest `Double` (for shares and human units).
    public var doubleValue: Double { Double(high) * 18_446_744_073_709_551_616.0 + Double(low) }

    /// Numeric order.
    public static func < (lhs: ByteTotal, rhs: ByteTotal) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The exact decimal.
    public var description: String {
        guard high != 0 else { return String(low) }
        // Divide by 10^19 (the largest power of ten in a UInt64) repeatedly.
        let chunk: UInt64 = 10_000_000_000_000_000_000
        var (high, low) = (self.high, self.low)
        var chunks: [UInt64] = []
        while high != 0 {
            let quotientHigh = high / chunk
            let (quotientLow, remainder) = chunk.dividingFullWidth((high % chunk, low))
            chunks.append(remainder)
            (high, low) = (quotientHigh, quotientLow)
        }
        var text = String(low)
        for remainder in chunks.reversed() {
            let digits = String(remainder)
            text += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return text
    }
}
