/// A segment, or part of one, that cannot be read.
///
/// A struct with a public code rather than an enum, so that new reasons can be
/// added without breaking callers; the reason text is for people.
public struct SegmentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The bytes are not a SockStatLog segment (empty, text, random).
        public static let notASegment = Code("not a segment")
        /// A version or incompatible feature this reader does not know.
        public static let unsupported = Code("unsupported")
        /// A region of the segment failed its checks and was skipped.
        public static let damaged = Code("damaged")
        /// The segment exceeds `FormatLimits.maxSegmentBytes`.
        public static let tooLarge = Code("too large")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// Byte offset in the segment where the problem is.
    public var offset: Int
    /// A one-line explanation.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, _ reason: String) {
        self.code = code
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "offset \(offset): \(reason)" }
}
