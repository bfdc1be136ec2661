import SockStatFormat

/// Names shown for labels (`--label-names`): display only, never keys or data.
///
/// A preset (`tailscale`) or a file of `LABEL<TAB>NAME` lines (see
/// `init(parsing:)`).
public struct LabelNames: Hashable, Sendable {
    /// The names, by label.
    public private(set) var names: [Label: String]

    /// A mapping of `names`.
    public init(_ names: [Label: String]) {
        self.names = names
    }

    /// The name of `label`, or nil when it has none.
    public func name(for label: Label) -> String? { names[label] }

    /// Tailscale's numeric labels and the names its `net/sockstats` package
    /// gives them (`sockstats.Label`, 0 to 12).
    public static let tailscale = LabelNames(Dictionary(uniqueKeysWithValues: [
        "ControlClientAuto", "ControlClientDialer", "DERPHTTPClient", "LogtailLogger", "DNSForwarderDoH",
        "DNSForwarderUDP", "NetcheckClient", "PortmapperClient", "MagicsockConnUDP4", "MagicsockConnUDP6",
        "NetlogLogger", "SockstatlogLogger", "DNSForwarderTCP",
    ].enumerated().map { (Label(String($0.offset)), $0.element) }))

    /// The presets, by the name `--label-names` takes.
    public static let presets: [String: LabelNames] = ["tailscale": .tailscale]

    /// Parses a label-names file: a JSON object when its first character
    /// other than whitespace is `{` (`{"8": "MagicsockConnUDP4"}`, each
    /// member a label and its name as JSON strings), else lines as below.
    ///
    /// The lines are UTF-8 text, one mapping per line: the label's bytes
    /// exactly as recorded, a TAB, the name (`8<TAB>MagicsockConnUDP4`).
    /// Lines are separated by LF (a CR before it is dropped); empty lines
    /// and lines starting with `#` are skipped. The label is every byte
    /// before the first TAB (it may be any bytes but LF and TAB, and may be
    /// empty); the name is the rest, not empty, valid UTF-8 and without
    /// control characters.
    ///
    /// - Throws: `LabelNamesError` with the line (from 1) of the first line
    ///   that breaks these rules, or that names a label a second time.
    public init(parsing bytes: [UInt8]) throws(LabelNamesError) {
        if bytes.first(where: { !JSONNames.isWhitespace($0) }) == UInt8(ascii: "{") {
            var parser = JSONNames(bytes)
            names = try parser.parse()
            return
        }
        var names: [Label: String] = [:]
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[start..<newline]
            start = newline + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else {
                throw LabelNamesError(line: lineNumber, reason: "expected LABEL<TAB>NAME, found no TAB")
            }
            let label = Label(bytes: Array(line[..<tab]))
            let nameBytes = line[(tab + 1)...]
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw LabelNamesError(line: lineNumber, reason: "the name is not valid UTF-8")
            }
            try Self.add(label, name, to: &names, line: lineNumber)
        }
        self.names = names
    }

    /// Adds one mapping of a file, checking the rules both forms share.
    static func add(_ label: Label, _ name: String, to names: inout [Label: String], line: Int) throws(LabelNamesError) {
        guard !name.isEmpty else { throw LabelNamesError(line: line, reason: "the name is empty") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw LabelNamesError(line: line, reason: "the name holds a control character")
        }
        guard names[label] == nil else {
            throw LabelNamesError(line: line, reason: "label \(LabelText.display(label.bytes)) is named twice")
        }
        names[label] = name
    }
}

/// The JSON form of a label-names file: one object whose members are
/// strings. Strict JSON (RFC 8259): no comments, no trailing comma.
struct JSONNames {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The line (from 1) of the current position.
    private var line: Int { 1 + bytes[..<min(index, bytes.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }

    private func failure(_ reason: String) -> LabelNamesError { LabelNamesError(line: line, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(LabelNamesError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw failure(index < bytes.count ? "expected \(what)" : "expected \(what), found the end of the file")
        }
        index += 1
    }

    mutating func parse() throws(LabelNamesError) -> [Label: String] {
        var names: [Label: String] = [:]
        try expect(UInt8(ascii: "{"), "{")
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                let memberLine = line
                let label = try string("a label (a JSON string)")
                try expect(UInt8(ascii: ":"), ":")
                let name = try string("a name (a JSON string)")
                try LabelNames.add(Label(label), name, to: &names, line: memberLine)
                skipWhitespace()
                guard index < bytes.count else { throw failure("expected , or }, found the end of the file") }
                if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                try expect(UInt8(ascii: ","), ", or }")
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw failure("bytes after the object") }
        return names
    }

    /// A JSON string, its escapes decoded.
    private mutating func string(_ what: String) throws(LabelNamesError) -> String {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected \(what)") }
        index += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() throws(LabelNamesError) {
            guard !raw.isEmpty else { return }
            guard let text = String(validating: raw, as: UTF8.self) else { throw failure("a string is not valid UTF-8") }
            scalars.append(contentsOf: text.unicodeScalars)
            raw.removeAll()
        }
        while true {
            guard index < bytes.count else { throw failure("a string is not closed") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                try flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush()
                guard index < bytes.count else { throw failure("a string is not closed") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var value = try hex4()
                    if (0xD800..<0xDC00).contains(value), index + 1 < bytes.count,
                       bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("a \\u escape is half a surrogate pair") }
                        value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw failure("a \\u escape is half a surrogate pair") }
                    scalars.append(scalar)
                default:
                    throw failure("a string has an unknown escape")
                }
            case 0..<0x20:
                throw failure("a string holds a raw control character")
            default:
                raw.append(byte)
            }
        }
    }

    private mutating func hex4() throws(LabelNamesError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("a \\u escape is cut short") }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape has a non-hex digit")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }
}

/// Why a label-names file was refused: the line and what is wrong with it.
public struct LabelNamesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// What is wrong.
    public var reason: String

    /// "line N: reason".
    public var description: String { "line \(line): \(reason)" }
}

/// Labels written for a terminal: never raw control characters or invalid
/// UTF-8.
public enum LabelText: Sendable {
    /// `bytes` as text safe to print: valid UTF-8 is kept except that a
    /// backslash becomes `\\`, TAB, LF and CR become `\t`, `\n`, `\r`, other
    /// control and format characters (bidirectional overrides, U+2028…)
    /// become `\u{XXXX}`, and each byte of invalid UTF-8 becomes `\xNN`.
    /// The empty label is shown as `""`.
    public static func display<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        guard !bytes.isEmpty else { return #""""# }
        var text = ""
        // Decode scalar by scalar, keeping the bytes of the current one so
        // an invalid sequence can be shown byte for byte.
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            var end = index
            var count = 0
            while count < max(length, 1), end != bytes.endIndex {
                end = bytes.index(after: end)
                count += 1
            }
            let pending = Array(bytes[index..<end])
            var scalar: Unicode.Scalar?
            if length > 0, count == length {
                // A fresh decoder each time: one keeps state after an error.
                var decoder = UTF8()
                var scalarIterator = pending.makeIterator()
                if case .scalarValue(let value) = decoder.decode(&scalarIterator), scalarIterator.next() == nil {
                    scalar = value
                }
            }
            if let scalar {
                text += escaped(scalar)
                index = end
            } else {
                // Not the start of a valid scalar: show one byte, go on from the next.
                text += "\\x" + hex(lead, digits: 2)
                index = bytes.index(after: index)
            }
        }
        return text
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\\": return "\\\\"
        case "\t": return "\\t"
        case "\n": return "\\n"
        case "\r": return "\\r"
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned:
            return "\\u{" + hex(scalar.value, digits: 4) + "}"
        default:
            return String(Character(scalar))
        }
    }

    private static func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
