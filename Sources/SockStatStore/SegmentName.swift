/// Segment file names: `sockstat-` + the sequence number in 20 decimal
/// digits + `.sslog`, so that names sort in sequence order and a directory
/// listing reads like the log. Files with other names are never touched.
public enum SegmentName: Sendable {
    /// The name prefix.
    public static let prefix = "sockstat-"
    /// The name suffix.
    public static let suffix = ".sslog"

    /// The file name for segment `sequence`.
    public static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    /// The sequence number a segment file name carries, or nil for other names.
    public static func sequence(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}
