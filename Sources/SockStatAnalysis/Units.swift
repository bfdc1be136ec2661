/// Numbers written for people: binary byte units, rates, lengths of time.
public enum HumanUnits: Sendable {
    private static let byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]

    /// `part` as a percentage of `whole` with one decimal (`12.5%`); a part
    /// that moved bytes is never shown as 0.0% (`<0.1%`), and `-` when the
    /// whole is zero. Summary's table and the report's share this.
    public static func share(_ part: ByteTotal, of whole: ByteTotal) -> String {
        let whole = whole.doubleValue
        guard whole > 0 else { return "-" }
        let percent = part.doubleValue / whole * 100
        return percent > 0 && percent < 0.05 ? "<0.1%" : fixed(percent, decimals: 1) + "%"
    }

    /// `bytes` in B below 1 KiB (exact), else in KiB, MiB, GiB… (powers of
    /// 1024) with three significant digits: `512 B`, `1.50 KiB`, `15.0 MiB`, `150 GiB`.
    public static func bytes(_ bytes: ByteTotal) -> String {
        if let small = bytes.exactUInt64, small < 1024 { return "\(small) B" }
        var value = bytes.doubleValue
        var unit = 0
        while value >= 1024, unit < byteUnits.count - 1 {
            value /= 1024
            unit += 1
        }
        // 1023.995 KiB rounds to "1024 KiB": say 1.00 MiB instead.
        if value >= 999.5, unit < byteUnits.count - 1 {
            value /= 1024
            unit += 1
        }
        let decimals = value < 9.995 ? 2 : value < 99.95 ? 1 : 0
        return fixed(value, decimals: decimals) + " " + byteUnits[unit]
    }

    /// A rate of `bytes` per second: `bytes(_:)` with `/s`.
    public static func rate(_ bytes: ByteTotal) -> String { Self.bytes(bytes) + "/s" }

    /// `milliseconds` as `250 ms`, `42 s`, `1.5 s`, `3m 05s`, `2h 03m 05s`, `1d 04h 20m`.
    public static func duration(_ milliseconds: ByteTotal) -> String {
        guard let ms = milliseconds.exactUInt64 else { return "\(milliseconds) ms" }
        if ms < 1000 { return "\(ms) ms" }
        let seconds = ms / 1000
        func two(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 60 { return ms % 1000 == 0 ? "\(seconds) s" : fixed(Double(ms) / 1000, decimals: 1) + " s" }
        let (minutes, hours, days) = (seconds / 60 % 60, seconds / 3600 % 24, seconds / 86400)
        if days > 0 { return "\(days)d \(two(hours))h \(two(minutes))m" }
        if hours > 0 { return "\(hours)h \(two(minutes))m \(two(seconds % 60))s" }
        return "\(minutes)m \(two(seconds % 60))s"
    }

    /// A window length as a whole number of the largest unit that divides
    /// it: `1 h`, `1 min`, `90 s`, `1500 ms`, `7 d` (a tier's resolution).
    public static func window(_ milliseconds: Int64) -> String {
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1_000)] as [(String, Int64)]
        where milliseconds >= size && milliseconds % size == 0 {
            return "\(milliseconds / size) \(unit)"
        }
        return "\(milliseconds) ms"
    }

    /// `value` rounded to `decimals` places (no exponent; non-negative values).
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite, value >= 0 else { return value.isNaN ? "0" : "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard scaled < 1e18 else { return "\(value)" }
        let whole = UInt64(scaled)
        let unit = UInt64(scale)
        guard decimals > 0 else { return String(whole) }
        let fraction = String(whole % unit)
        return "\(whole / unit)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
