import SockStatFormat

/// Segment file names: `sockstat-` + the sequence number in 20 decimal
/// digits + `.sslog` for recorded events, and `sockstat-` + the window's
/// text + `-` + 20 digits + `.sslog` for a rollup tier
/// (`sockstat-1m-00000000000000000003.sslog`), so that names sort in
/// sequence order within a tier and a directory listing reads like the
/// log. Files with other names are never touched.
public enum SegmentName: Sendable {
    /// The name prefix.
    public static let prefix = "sockstat-"
    /// The name suffix.
    public static let suffix = ".sslog"

    /// What a segment file name says.
    public struct Parsed: Hashable, Sendable {
        /// The rollup tier's window in milliseconds; 0 for recorded events.
        public var window: Int64
        /// The sequence number within the tier.
        public var sequence: UInt64
    }

    /// The file name for segment `sequence` of recorded events.
    public static func fileName(sequence: UInt64) -> String {
        fileName(sequence: sequence, window: 0)
    }

    /// The file name for segment `sequence` of the tier with `window` (0: recorded events).
    public static func fileName(sequence: UInt64, window: Int64) -> String {
        let digits = String(sequence)
        let tier = window == 0 ? "" : text(ofWindow: window) + "-"
        return prefix + tier + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    /// The sequence number a file name of recorded events carries, or nil
    /// for other names (rollup tier names included).
    public static func sequence(fromFileName name: String) -> UInt64? {
        guard let parsed = parse(name), parsed.window == 0 else { return nil }
        return parsed.sequence
    }

    /// The tier and sequence number a segment file name carries, or nil
    /// for names that are not exactly a segment's.
    public static func parse(_ name: String) -> Parsed? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let middle = Array(name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count))
        guard middle.count >= 20 else { return nil }
        let digits = middle[(middle.count - 20)...]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let sequence = UInt64(String(decoding: digits, as: UTF8.self)) else { return nil }
        if middle.count == 20 { return Parsed(window: 0, sequence: sequence) }
        guard middle[middle.count - 21] == UInt8(ascii: "-"),
              let window = window(fromText: String(decoding: middle[..<(middle.count - 21)], as: UTF8.self))
        else { return nil }
        return Parsed(window: window, sequence: sequence)
    }

    // MARK: Window text

    private static let units: [(name: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// A window's text in names: a whole number and the largest of the units
    /// d, h, m, s, ms that divides it (`1m`, `1h`, `90s`, `1500ms`).
    public static func text(ofWindow window: Int64) -> String {
        for unit in units where window % unit.milliseconds == 0 {
            return String(window / unit.milliseconds) + unit.name
        }
        return String(window) + "ms"
    }

    /// The window a name's text gives, when it is exactly `text(ofWindow:)`
    /// of a valid rollup window; nil otherwise (so that a window has one name).
    public static func window(fromText text: String) -> Int64? {
        for unit in units where text.hasSuffix(unit.name) {
            let digits = text.dropLast(unit.name.count)
            guard !digits.isEmpty, digits.first != "0", digits.count <= 12,
                  digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let count = Int64(digits) else { continue }
            let window = count * unit.milliseconds
            guard window >= 1, window <= RollupTier.maxWindow, Self.text(ofWindow: window) == text else { return nil }
            return window
        }
        return nil
    }
}
