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

    /// Parses a label-names file.
    ///
    /// The file is UTF-8 text, one mapping per line: the label's bytes
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
            guard !nameBytes.isEmpty else { throw LabelNamesError(line: lineNumber, reason: "the name after the TAB is empty") }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw LabelNamesError(line: lineNumber, reason: "the name is not valid UTF-8")
            }
            guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw LabelNamesError(line: lineNumber, reason: "the name holds a control character")
            }
            guard names[label] == nil else {
                throw LabelNamesError(line: lineNumber, reason: "label \(LabelText.display(label.bytes)) is named twice")
            }
            names[label] = name
        }
        self.names = names
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
