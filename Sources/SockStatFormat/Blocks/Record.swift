/// Record types inside a block payload.
///
/// Every record starts with one varint `h`: `h & 7` is the type and `h >> 3`
/// the length of the body that follows. A reader skips a type it does not
/// know by its length, which is how later versions add records.
public enum RecordType: Sendable {
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
    /// What about the event the format cannot hold.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A label longer than `FormatLimits.maxLabelBytes`.
        public static let labelTooLong = Code("label too long")
        /// More than `FormatLimits.maxLabelsPerEvent` labels.
        public static let tooManyLabels = Code("too many labels")
        /// The same label twice.
        public static let repeatedLabel = Code("repeated label")
        /// The segment's label ids are used up: the event fits in a new segment.
        public static let dictionaryFull = Code("dictionary full")

        public var description: String { name }
    }

    /// What about the event the format cannot hold.
    public var code: Code
    /// A one-line explanation.
    public var reason: String

    /// Whether the event would fit in a fresh segment (the label dictionary is
    /// full, not the event at fault).
    public var needsNewSegment: Bool { code == .dictionaryFull }

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
