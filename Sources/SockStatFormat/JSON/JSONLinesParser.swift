/// Why a JSON line could not be parsed, and where.
public struct JSONLineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem the line has.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Not JSON, or not an object of members.
        public static let syntax = Code("syntax")
        /// A value the event cannot hold as Go reads it: a fraction, a
        /// number out of range, `c` other than 0 or 1, counts that are not
        /// two integers, a missing `t` or `d`.
        public static let value = Code("value")
        /// A member or a label given twice (Go would keep one silently).
        public static let duplicate = Code("duplicate")
        /// Past a limit of the format: a label over 1024 bytes, more than
        /// 1024 labels, nesting deeper than 128.
        public static let limit = Code("limit")

        public var description: String { name }
    }

    /// What kind of problem the line has.
    public var code: Code
    /// The line number, 1-based, as given by the caller.
    public var line: Int
    /// The 1-based byte column of the offending byte, or one past the last
    /// byte when the line ended too early.
    public var column: Int
    /// A short lowercase explanation, e.g. "expected ':' after member name".
    public var reason: String

    /// Creates an error.
    public init(_ code: Code = .syntax, line: Int, column: Int, reason: String) {
        self.code = code
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// "line L, column C: reason".
    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// Parses sockstat JSON lines into events.
///
/// Every line it accepts, Go's `json.Unmarshal` reads without error into
/// the same `event` struct (a test runs Go's own decoder to check); any
/// other line is an error with its line and column, except a blank one,
/// which is no event. Nothing is dropped from a line that is accepted.
///
/// Accepted beyond canonical lines (`CanonicalJSON`): any whitespace,
/// members in any order, `t` and `d` as -0, `c` as 0, 1, -0 or null, `s`
/// null or missing (no labels), and unknown members (such as logtail's
/// metadata) of any JSON type, which are validated and skipped. Member names
/// match as Go matches struct fields: after unescaping, and regardless of
/// case, with Go's folding, so `T`, `"\u0053"` and `ſ` (U+017F) name `t` and
/// `s`; any other name is an unknown member.
///
/// Errors where Go would read the line but a guess would be needed: a member
/// given twice, under any of its names (Go keeps the last `t`, `d` or `c`
/// and merges the objects of `s`); a label given twice (Go keeps the last);
/// a missing `t` or `d`, or `null` for one (Go leaves 0); `c` other than 0,
/// 1 or null (Go keeps any int); counts that are not an array of exactly
/// two integers (Go zero-fills short arrays and nulls, drops extra
/// entries); a line that is `null`. Errors where Go fails too: numbers
/// that are not integers in range for their field (fractions, exponents,
/// and -0 for a count included), other wrong JSON types, bad JSON. Limits of
/// our own: labels over `FormatLimits.maxLabelBytes` bytes, more than
/// `FormatLimits.maxLabelsPerEvent` labels, nesting deeper than 128.
///
/// Strings decode as Go decodes them: surrogate pairs combine, lone
/// surrogates and invalid UTF-8 bytes become U+FFFD.
public struct JSONLinesParser: Sendable {
    /// Deepest nesting accepted, the line's own object included. Skipping is
    /// iterative; the bound keeps its stack small and matches other readers.
    static let maxNestingDepth = 128

    /// The most labels `parse(_:lineNumber:into:)` keeps for reuse.
    static let maxInternedLabels = 64

    /// Labels already handed out, given out again when a line names them:
    /// a replay names the same few labels hundreds of thousands of times.
    /// Internal, not private, for the plain-line fast path.
    var internedLabels: [Label] = []
    /// Where a label is decoded before it is looked up; reused.
    private var labelScratch: [UInt8] = []

    /// Creates a parser.
    public init() {}

    /// Parses one line (without its "\n") into an event.
    ///
    /// Returns nil for a line that is empty or only JSON whitespace (space,
    /// tab, CR, LF). `lineNumber` is only used in errors.
    public func parse(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(JSONLineError) -> Event? {
        var cursor = LineCursor(bytes: line, lineNumber: lineNumber)
        guard let head = try cursor.parseLine() else { return nil }
        return Event(time: head.time, duration: head.duration, isCellular: head.isCellular, counts: cursor.counts)
    }

    /// Parses one line (without its "\n") into an event; see the
    /// `UnsafeRawBufferPointer` overload.
    public func parse(_ line: [UInt8], lineNumber: Int) throws(JSONLineError) -> Event? {
        let result: Result<Event?, JSONLineError> = line.withUnsafeBytes { bytes in
            Result { () throws(JSONLineError) -> Event? in
                try parse(bytes, lineNumber: lineNumber)
            }
        }
        return try result.get()
    }

    /// Parses one line (without its "\n") into `event`, reusing its storage
    /// and the labels of earlier lines, so that a stream of lines naming
    /// known labels is parsed without allocating.
    ///
    /// Returns false, leaving `event` empty, for a blank line. After an
    /// error `event` holds no meaningful value.
    public mutating func parse(_ line: UnsafeRawBufferPointer, lineNumber: Int, into event: inout Event) throws(JSONLineError) -> Bool {
        // Lines shaped as canonical ones are read in one pass; the general
        // parser reads the rest (and finds their errors).
        if PlainLineScanner.parse(line, into: &event, interned: &internedLabels) { return true }
        var cursor = LineCursor(bytes: line, lineNumber: lineNumber)
        swap(&cursor.counts, &event.counts)
        cursor.counts.removeAll(keepingCapacity: true)
        swap(&cursor.internedLabels, &internedLabels)
        swap(&cursor.labelScratch, &labelScratch)
        cursor.interns = true
        defer {
            swap(&cursor.counts, &event.counts)
            swap(&cursor.internedLabels, &internedLabels)
            swap(&cursor.labelScratch, &labelScratch)
        }
        guard let head = try cursor.parseLine() else {
            event.time = 0
            event.duration = 0
            event.isCellular = false
            return false
        }
        event.time = head.time
        event.duration = head.duration
        event.isCellular = head.isCellular
        return true
    }
}

/// The top-level members the parser knows.
private enum Member {
    case time, duration, cellular, stats, unknown
}

/// A position in one line, and the parsing of it.
private struct LineCursor {
    let bytes: UnsafeRawBufferPointer
    let lineNumber: Int
    var index = 0
    /// Decoded member names that were not a fast-path single letter.
    var scratch: [UInt8] = []
    /// The labels parsed so far, in line order.
    var counts: [LabelCounts] = []
    /// Whether labels are looked up in, and added to, `internedLabels`.
    var interns = false
    var internedLabels: [Label] = []
    var labelScratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, lineNumber: Int) {
        self.bytes = bytes
        self.lineNumber = lineNumber
    }

    // MARK: Helpers

    func error(_ reason: String, at position: Int, _ code: JSONLineError.Code = .syntax) -> JSONLineError {
        JSONLineError(code, line: lineNumber, column: position + 1, reason: reason)
    }

    /// An error at the current byte, or "unexpected end of line" past the end.
    func error(_ reason: String, _ code: JSONLineError.Code = .syntax) -> JSONLineError {
        if index >= bytes.count {
            return error("unexpected end of line", at: bytes.count)
        }
        return error(reason, at: index, code)
    }

    var atEnd: Bool { index >= bytes.count }

    /// The current byte, or nil at the end.
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            default:
                return
            }
        }
    }

    /// Consumes `byte` (after whitespace) or throws `reason`.
    mutating func expect(_ byte: UInt8, _ reason: String) throws(JSONLineError) {
        skipWhitespace()
        guard peek == byte else { throw error(reason) }
        index += 1
    }

    // MARK: Line

    /// Parses the line; its labels are left in `counts`. Nil for a blank line.
    mutating func parseLine() throws(JSONLineError) -> (time: Int64, duration: Int64, isCellular: Bool)? {
        skipWhitespace()
        if atEnd {
            return nil
        }
        guard peek == UInt8(ascii: "{") else { throw error("expected '{' at start of line") }
        index += 1

        var time: Int64?
        var duration: Int64?
        var sawCellular = false
        var isCellular = false
        var sawStats = false

        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
        } else {
            members: while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw error("expected member name") }
                let nameStart = index
                let member = try memberName()
                try expect(UInt8(ascii: ":"), "expected ':' after member name")
                skipWhitespace()
                switch member {
                case .time:
                    guard time == nil else { throw error("duplicate member 't'", at: nameStart, .duplicate) }
                    time = try int64(named: "t")
                case .duration:
                    guard duration == nil else { throw error("duplicate member 'd'", at: nameStart, .duplicate) }
                    duration = try int64(named: "d")
                case .cellular:
                    guard !sawCellular else { throw error("duplicate member 'c'", at: nameStart, .duplicate) }
                    sawCellular = true
                    isCellular = try cellular()
                case .stats:
                    guard !sawStats else { throw error("duplicate member 's'", at: nameStart, .duplicate) }
                    sawStats = true
                    try stats()
                case .unknown:
                    try skipValue()
                }
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","):
                    index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    break members
                default:
                    throw error("expected ',' or '}' after member")
                }
            }
        }
        let closingBrace = index - 1
        skipWhitespace()
        guard atEnd else { throw error("unexpected data after object") }
        guard let time else { throw error("missing member 't'", at: closingBrace, .value) }
        guard let duration else { throw error("missing member 'd'", at: closingBrace, .value) }
        return (time, duration, isCellular)
    }

    /// Reads a member name (at its opening quote) and says which member it
    /// is, matching names as Go's decoder matches them to struct fields.
    mutating func memberName() throws(JSONLineError) -> Member {
        // Fast path: a plain one-letter name, as canonical lines have.
        if index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "\"") {
            if let member = Self.member(bytes[index + 1]) {
                index += 3
                return member
            }
        }
        // Names compare after unescaping, as Go's decoder does ("\u0074" is t).
        // The buffer is borrowed out of self so `string` may mutate self.
        var name: [UInt8] = []
        swap(&name, &scratch)
        defer { swap(&name, &scratch) }
        name.removeAll(keepingCapacity: true)
        try string(into: &name, store: true, limit: Int.max)
        if name.count == 1, let member = Self.member(name[0]) {
            return member
        }
        // Go folds each rune to ToUpper(ToLower(r)); besides the ASCII
        // letters, only U+017F LATIN SMALL LETTER LONG S (C5 BF) folds to
        // one of T, D, C, S: to S. Folding keeps the rune count, so no
        // longer name can match.
        if name.count == 2 && name[0] == 0xC5 && name[1] == 0xBF {
            return .stats
        }
        return .unknown
    }

    /// The member a one-byte name is, in either case: Go's decoder matches
    /// field names case-insensitively.
    @inline(__always)
    static func member(_ byte: UInt8) -> Member? {
        // Setting bit 5 maps A-Z onto a-z; of all bytes only the two cases
        // of a letter map onto that lower-case letter.
        switch byte | 0x20 {
        case UInt8(ascii: "t"): .time
        case UInt8(ascii: "d"): .duration
        case UInt8(ascii: "c"): .cellular
        case UInt8(ascii: "s"): .stats
        default: nil
        }
    }

    // MARK: Members

    mutating func int64(named name: String) throws(JSONLineError) -> Int64 {
        let start = index
        let (negative, magnitude, overflow) = try integer(named: name)
        if !overflow {
            if !negative && magnitude <= UInt64(Int64.max) {
                return Int64(magnitude)
            }
            if negative && magnitude <= UInt64(Int64.max) {
                return -Int64(magnitude)
            }
            if negative && magnitude == Int64.min.magnitude {
                return Int64.min
            }
        }
        throw error("'\(name)' out of range for int64", at: start, .value)
    }

    mutating func uint64(named name: String) throws(JSONLineError) -> UInt64 {
        let start = index
        let (negative, magnitude, overflow) = try integer(named: name)
        // Go parses unsigned fields with strconv.ParseUint, which takes no
        // sign: json.Unmarshal fails on -0 there (not on signed -0).
        if negative && magnitude == 0 && !overflow {
            throw error("minus sign not allowed in unsigned '\(name)'", at: start, .value)
        }
        guard !overflow && !negative else {
            throw error("'\(name)' out of range for uint64", at: start, .value)
        }
        return magnitude
    }

    /// `c`: 0, 1 or null.
    mutating func cellular() throws(JSONLineError) -> Bool {
        let start = index
        if peek == UInt8(ascii: "n") {
            try literal("null")
            return false
        }
        guard let byte = peek, byte == UInt8(ascii: "-") || Self.isDigit(byte) else {
            throw error("'c' must be 0, 1 or null", .value)
        }
        let (negative, magnitude, overflow) = try integer(named: "c")
        // -0 is 0 here: Go reads the int field with ParseInt, which takes it.
        guard !overflow && (magnitude == 0 || (magnitude == 1 && !negative)) else {
            throw error("'c' must be 0, 1 or null", at: start, .value)
        }
        return magnitude == 1
    }

    /// `s`: null, or an object of label → [tx, rx], appended to `counts`.
    mutating func stats() throws(JSONLineError) {
        if peek == UInt8(ascii: "n") {
            try literal("null")
            return
        }
        guard peek == UInt8(ascii: "{") else { throw error("expected object or null for 's'", .value) }
        index += 1
        // Small events check duplicates by scanning; large ones use a set.
        var seen: Set<Label> = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected label") }
            let labelStart = index
            guard counts.count < FormatLimits.maxLabelsPerEvent else {
                throw error("more than \(FormatLimits.maxLabelsPerEvent) labels", at: labelStart, .limit)
            }
            let label = try label()
            if counts.count < 16 {
                if counts.contains(where: { $0.label == label }) {
                    throw error("duplicate label in 's'", at: labelStart, .duplicate)
                }
            } else {
                if seen.isEmpty {
                    seen.reserveCapacity(64)
                    for entry in counts {
                        seen.insert(entry.label)
                    }
                }
                guard seen.insert(label).inserted else {
                    throw error("duplicate label in 's'", at: labelStart, .duplicate)
                }
            }
            try expect(UInt8(ascii: ":"), "expected ':' after label")
            try expect(UInt8(ascii: "["), "expected '[' for label counts")
            skipWhitespace()
            let tx = try uint64(named: "tx")
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                throw error("expected two integers in label counts", .value)
            default:
                throw error("expected ',' in label counts")
            }
            skipWhitespace()
            let rx = try uint64(named: "rx")
            skipWhitespace()
            switch peek {
            case UInt8(ascii: "]"):
                index += 1
            case UInt8(ascii: ","):
                throw error("more than two integers in label counts", .value)
            default:
                throw error("expected ']' after label counts")
            }
            counts.append(LabelCounts(label: label, tx: tx, rx: rx))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default:
                throw error("expected ',' or '}' in 's'")
            }
        }
    }

    /// Reads a label (at its opening quote): an interned one when its bytes
    /// are known, else a new one, interned while there is room.
    mutating func label() throws(JSONLineError) -> Label {
        guard interns else {
            var bytes: [UInt8] = []
            try string(into: &bytes, store: true, limit: FormatLimits.maxLabelBytes)
            return Label(bytes: bytes)
        }
        var bytes: [UInt8] = []
        swap(&bytes, &labelScratch)
        defer { swap(&bytes, &labelScratch) }
        bytes.removeAll(keepingCapacity: true)
        try string(into: &bytes, store: true, limit: FormatLimits.maxLabelBytes)
        for known in internedLabels where known.bytes == bytes {
            return known
        }
        let label = Label(bytes: bytes)
        if internedLabels.count < JSONLinesParser.maxInternedLabels {
            internedLabels.append(label)
        }
        return label
    }

    // MARK: Numbers

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// A JSON number that must be an integer: sign, magnitude, and whether
    /// the magnitude passed UInt64.max. Range checks are the caller's.
    mutating func integer(named name: String) throws(JSONLineError) -> (negative: Bool, magnitude: UInt64, overflow: Bool) {
        guard let first = peek else { throw error("unexpected end of line") }
        if first == UInt8(ascii: "+") {
            throw error("'+' not allowed in number", .value)
        }
        guard first == UInt8(ascii: "-") || Self.isDigit(first) else {
            throw error("expected integer for '\(name)'", .value)
        }
        let negative = first == UInt8(ascii: "-")
        if negative {
            index += 1
        }
        guard let lead = peek, Self.isDigit(lead) else { throw error("expected digit in number") }
        var magnitude: UInt64 = 0
        var overflow = false
        if lead == UInt8(ascii: "0") {
            index += 1
            if let next = peek, Self.isDigit(next) {
                throw error("leading zero in number")
            }
        } else {
            // Nineteen digits cannot pass UInt64.max (10^19 - 1 < 2^64 - 1):
            // those are summed unchecked, only longer numbers checked.
            let uncheckedEnd = min(bytes.count, index + 19)
            while index < uncheckedEnd {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                magnitude = magnitude &* 10 &+ UInt64(digit)
                index += 1
            }
            while let byte = peek, Self.isDigit(byte) {
                if !overflow {
                    let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
                    overflow = o1 || o2
                    magnitude = sum
                }
                index += 1
            }
        }
        switch peek {
        case UInt8(ascii: "."):
            throw error("fraction not allowed in integer '\(name)'", .value)
        case UInt8(ascii: "e"), UInt8(ascii: "E"):
            throw error("exponent not allowed in integer '\(name)'", .value)
        default:
            return (negative, magnitude, overflow)
        }
    }

    /// Any JSON number, validated and skipped.
    mutating func skipNumber() throws(JSONLineError) {
        if peek == UInt8(ascii: "-") {
            index += 1
        }
        guard let lead = peek, Self.isDigit(lead) else { throw error("expected digit in number") }
        index += 1
        if lead == UInt8(ascii: "0") {
            if let next = peek, Self.isDigit(next) {
                throw error("leading zero in number")
            }
        } else {
            skipDigits()
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek, Self.isDigit(byte) else { throw error("expected digit after '.'") }
            skipDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
                index += 1
            }
            guard let byte = peek, Self.isDigit(byte) else { throw error("expected digit in exponent") }
            skipDigits()
        }
    }

    mutating func skipDigits() {
        while let byte = peek, Self.isDigit(byte) {
            index += 1
        }
    }

    /// `true`, `false` or `null`, exactly.
    mutating func literal(_ word: StaticString) throws(JSONLineError) {
        let start = word.utf8Start
        for offset in 0..<word.utf8CodeUnitCount {
            guard peek == start[offset] else { throw error("invalid literal") }
            index += 1
        }
    }

    // MARK: Strings

    /// Reads the string whose opening quote is at `index`, decoding it as
    /// Go does into `out` when `store` is true (validating only, otherwise).
    /// Throws when more than `limit` decoded bytes would be stored.
    mutating func string(into out: inout [UInt8], store: Bool, limit: Int) throws(JSONLineError) {
        let quote = index
        index += 1
        let count = bytes.count
        var stored = 0
        while true {
            // Plain printable ASCII runs are copied in one go.
            let runStart = index
            while index < count {
                let byte = bytes[index]
                if byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    break
                }
                index += 1
            }
            if index > runStart {
                stored += index - runStart
                guard stored <= limit else { throw labelTooLong(at: quote) }
                if store {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                }
            }
            guard index < count else { throw error("unterminated string", at: count) }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                let scalar = try escape()
                let length = Self.utf8Length(scalar)
                stored += length
                guard stored <= limit else { throw labelTooLong(at: quote) }
                if store {
                    Self.appendUTF8(scalar, to: &out)
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                // Non-ASCII: valid sequences are kept, each rejected byte
                // becomes U+FFFD (Go's decoder).
                let (_, length) = GoUTF8.decodeRune(bytes, at: index)
                if length == 0 {
                    stored += 3
                    guard stored <= limit else { throw labelTooLong(at: quote) }
                    if store {
                        out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    }
                    index += 1
                } else {
                    stored += length
                    guard stored <= limit else { throw labelTooLong(at: quote) }
                    if store {
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<index + length]))
                    }
                    index += length
                }
            }
        }
    }

    func labelTooLong(at quote: Int) -> JSONLineError {
        error("label longer than \(FormatLimits.maxLabelBytes) bytes", at: quote, .limit)
    }

    /// Decodes the escape whose backslash is at `index`; returns its scalar.
    mutating func escape() throws(JSONLineError) -> UInt32 {
        index += 1
        guard let kind = peek else { throw error("unterminated string", at: bytes.count) }
        index += 1
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            return UInt32(kind)
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"):
            let unit = try hex4()
            guard unit >= 0xD800 && unit < 0xE000 else { return unit }
            // A high surrogate followed by an escaped low one is one scalar;
            // anything else is U+FFFD and the next escape is read on its own.
            if unit < 0xDC00, let low = peekLowSurrogate() {
                index += 6
                return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            return 0xFFFD
        default:
            index -= 1
            throw error("invalid escape in string")
        }
    }

    /// Four hex digits at `index`, consumed.
    mutating func hex4() throws(JSONLineError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek else { throw error("unterminated string", at: bytes.count) }
            guard let digit = Self.hexValue(byte) else { throw error("invalid hex digit in \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// The low surrogate of a `\uDC00`...`\uDFFF` escape at `index`, not consumed.
    func peekLowSurrogate() -> UInt32? {
        guard index + 6 <= bytes.count,
              bytes[index] == UInt8(ascii: "\\"),
              bytes[index + 1] == UInt8(ascii: "u")
        else { return nil }
        var value: UInt32 = 0
        for offset in 2..<6 {
            guard let digit = Self.hexValue(bytes[index + offset]) else { return nil }
            value = value << 4 | digit
        }
        return value >= 0xDC00 && value < 0xE000 ? value : nil
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    static func utf8Length(_ scalar: UInt32) -> Int {
        scalar < 0x80 ? 1 : scalar < 0x800 ? 2 : scalar < 0x10000 ? 3 : 4
    }

    /// Appends a scalar (never a surrogate: those became U+FFFD) as UTF-8.
    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            out.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        }
    }

    // MARK: Unknown values

    /// Validates and skips any JSON value, iteratively, within the nesting bound.
    mutating func skipValue() throws(JSONLineError) {
        // One entry per open container inside the line's object: true for
        // an object, false for an array.
        var stack: [Bool] = []
        var discard: [UInt8] = []
        valueLoop: while true {
            skipWhitespace()
            guard let byte = peek else { throw error("unexpected end of line") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                // The line's object is depth 1.
                guard stack.count + 2 <= JSONLinesParser.maxNestingDepth else {
                    throw error("nesting deeper than \(JSONLinesParser.maxNestingDepth)", .limit)
                }
                let isObject = byte == UInt8(ascii: "{")
                index += 1
                skipWhitespace()
                if peek == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    index += 1
                } else {
                    stack.append(isObject)
                    if isObject {
                        try skipMemberName(&discard)
                    }
                    continue valueLoop
                }
            case UInt8(ascii: "\""):
                try string(into: &discard, store: false, limit: Int.max)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try skipNumber()
            case UInt8(ascii: "t"):
                try literal("true")
            case UInt8(ascii: "f"):
                try literal("false")
            case UInt8(ascii: "n"):
                try literal("null")
            default:
                throw error("expected value")
            }
            // A value ended: close containers until one wants another value.
            while let isObject = stack.last {
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","):
                    index += 1
                    if isObject {
                        try skipMemberName(&discard)
                    }
                    continue valueLoop
                case UInt8(ascii: "}") where isObject, UInt8(ascii: "]") where !isObject:
                    index += 1
                    stack.removeLast()
                default:
                    throw error(isObject ? "expected ',' or '}' in object" : "expected ',' or ']' in array")
                }
            }
            return
        }
    }

    /// Skips `"name" :` inside an unknown object.
    mutating func skipMemberName(_ discard: inout [UInt8]) throws(JSONLineError) {
        skipWhitespace()
        guard peek == UInt8(ascii: "\"") else { throw error("expected member name") }
        try string(into: &discard, store: false, limit: Int.max)
        try expect(UInt8(ascii: ":"), "expected ':' after member name")
    }
}
