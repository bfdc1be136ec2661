/// A shell-style pattern over interface names: `*` matches any run of bytes
/// (including none), `?` exactly one byte, anything else itself.
///
/// Matching is bytewise: Linux interface names are at most 15 bytes and, in
/// practice, ASCII, so "one byte" and "one character" agree. There is no
/// escape and no bracket syntax; a pattern matches the whole name.
public struct InterfacePattern: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The pattern's UTF-8 bytes.
    private let bytes: [UInt8]

    /// Creates a pattern.
    ///
    /// - Parameter pattern: the pattern text; `*` and `?` are wildcards. The
    ///   empty pattern matches only the empty name.
    public init(_ pattern: String) {
        bytes = Array(pattern.utf8)
    }

    /// Creates a pattern from a literal, as in `cellularPatterns = ["wwan*"]`.
    ///
    /// - Parameter value: the pattern text.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The pattern as written.
    public var description: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the whole of `name` matches the pattern.
    ///
    /// Linear in the name for patterns with at most one `*`; at worst the
    /// product of both lengths, which for interface names is tiny. Allocates
    /// nothing.
    ///
    /// - Parameter name: the interface name's bytes.
    /// - Returns: true when the pattern matches all of `name`.
    public func matches(_ name: some Collection<UInt8>) -> Bool {
        let star = UInt8(ascii: "*")
        let any = UInt8(ascii: "?")
        var p = 0
        var n = name.startIndex
        // Where the last `*` was, and the name position it now swallows up to;
        // on a mismatch we let that star take one more byte and retry.
        var lastStar: Int?
        var starResume = name.startIndex
        while n != name.endIndex {
            if p < bytes.count, bytes[p] == star {
                lastStar = p
                starResume = n
                p += 1
            } else if p < bytes.count, bytes[p] == any || bytes[p] == name[n] {
                p += 1
                n = name.index(after: n)
            } else if let lastStar {
                p = lastStar + 1
                starResume = name.index(after: starResume)
                n = starResume
            } else {
                return false
            }
        }
        while p < bytes.count, bytes[p] == star {
            p += 1
        }
        return p == bytes.count
    }

    /// Whether the whole of `name` matches the pattern.
    ///
    /// - Parameter name: the interface name.
    /// - Returns: true when the pattern matches all of `name`'s UTF-8 bytes.
    public func matches(_ name: String) -> Bool {
        matches(name.utf8)
    }

    /// Parses a comma-separated list, as given to a command-line flag:
    /// `"wwan*, rmnet*"`.
    ///
    /// Spaces and tabs around each item are trimmed. An empty item (`"a,,b"`,
    /// a trailing comma, or an empty text) is an error rather than a pattern
    /// that matches only the empty name, which is never what was meant.
    ///
    /// - Parameter text: the list.
    /// - Returns: the patterns, in order.
    /// - Throws: `InterfacePatternError` with code `.emptyItem` for an empty item.
    public static func list(_ text: String) throws(InterfacePatternError) -> [InterfacePattern] {
        var patterns: [InterfacePattern] = []
        for (index, item) in text.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).enumerated() {
            var trimmed = item
            while let first = trimmed.first, isBlank(first) { trimmed = trimmed.dropFirst() }
            while let last = trimmed.last, isBlank(last) { trimmed = trimmed.dropLast() }
            guard !trimmed.isEmpty else {
                throw InterfacePatternError(
                    code: .emptyItem,
                    reason: "item \(index + 1) of \"\(text)\" is empty; give patterns separated by commas"
                )
            }
            patterns.append(InterfacePattern(String(decoding: trimmed, as: UTF8.self)))
        }
        return patterns
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}

/// Why a list of interface patterns could not be parsed.
public struct InterfacePatternError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it was.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// An item of the list is empty or only blanks.
        public static let emptyItem = Code("emptyItem")

        /// The code's name.
        public var description: String { name }
    }

    /// What kind of problem it was.
    public let code: Code
    /// A one-line explanation naming the offending item.
    public let reason: String

    init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
