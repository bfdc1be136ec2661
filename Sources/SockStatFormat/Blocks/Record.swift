/// Record types inside a block payload.
///
/// Every record starts with one varint `h`: `h & 7` is the type and `h >> 3`
/// the length of the body that follows. A reader skips a type it does not
/// know by its length, which is how later versions add records.
public enum RecordType {
    /// Defines a label for this block: varint id, then the label bytes.
    public static let label: UInt64 = 1
    /// An event on a non-cellular interface.
    public static let event: UInt64 = 2
    /// An event on a cellular interface (`"c":1`).
    public static let cellularEvent: UInt64 = 3
    /// An event that starts where the previous one ended (gap 0, not stored).
    public static let adjacentEvent: UInt64 = 4
    /// A cellular event that starts where the previous one ended.
    public static let adjacentCellularEvent: UInt64 = 5
}

/// An event the format cannot hold: a limit exceeded or a label repeated.
public struct EventError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A one-line explanation.
    public var reason: String
    /// Whether the event would fit in a fresh segment (the label dictionary is
    /// full, not the event at fault).
    public var needsNewSegment: Bool

    init(_ reason: String, needsNewSegment: Bool = false) {
        self.reason = reason
        self.needsNewSegment = needsNewSegment
    }

    public var description: String { reason }
}
