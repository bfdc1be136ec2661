/// Canonical JSON: byte for byte what Go's `encoding/json` (Go 1.22+, HTML
/// escaping on) writes for Tailscale's sockstatlog `event` struct, plus "\n":
///
///     {"t":1764288339865,"d":100,"c":1,"s":{"2":[148,148],"8":[1024,96]}}
///
/// `"c":1` appears only for cellular events (`omitempty`), and the members of
/// `s` are sorted bytewise by label, because Go sorts map keys as raw strings
/// before escaping them.
public enum CanonicalJSON: Sendable {
    /// Appends the JSON string for `bytes` (with the quotes), escaped as Go does.
    ///
    /// This is Go's `appendString` with `escapeHTML` true: `"` and `\` are
    /// backslash-escaped; `\b \f \n \r \t` get their short escapes; other
    /// bytes below 0x20 and `<`, `>`, `&` become `\u00xx`; U+2028 and U+2029
    /// become `\u2028` and `\u2029`; every byte `utf8.DecodeRune` rejects
    /// becomes `\ufffd`; everything else (DEL included) is copied raw.
    public static func appendString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        let done: Bool? = bytes.withContiguousStorageIfAvailable { buffer in
            appendString(raw: UnsafeRawBufferPointer(buffer), to: &out)
            return true
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { appendString(raw: $0, to: &out) }
        }
    }

    /// Appends `value` in decimal.
    public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
        }
        // `magnitude` is a UInt64, so Int64.min needs no special case.
        appendDecimal(value.magnitude, to: &out)
    }

    /// Appends `value` in decimal.
    public static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            guard let start = buffer.baseAddress else { return }
            let count = writeDecimal(value, to: start)
            out.append(contentsOf: UnsafeBufferPointer(start: start, count: count))
        }
    }

    /// Writes `value` in decimal at `destination`, which must have room for
    /// 20 bytes; returns the number of bytes written.
    ///
    /// Hot path: no allocation; two digits per division via a lookup table.
    @inlinable
    public static func writeDecimal(_ value: UInt64, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        let count = decimalDigitCount(value)
        let pairs = digitPairs.utf8Start
        var remaining = value
        var end = count
        while remaining >= 100 {
            let pair = Int(remaining % 100) &* 2
            remaining /= 100
            end &-= 2
            destination[end] = pairs[pair]
            destination[end &+ 1] = pairs[pair &+ 1]
        }
        if remaining >= 10 {
            let pair = Int(remaining) &* 2
            destination[0] = pairs[pair]
            destination[1] = pairs[pair &+ 1]
        } else {
            destination[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining)
        }
        return count
    }

    /// Appends the canonical line for `event`, newline included.
    ///
    /// Sorts a copy of the counts by label bytes (the caller's order is kept
    /// in `event`). Duplicate labels, which `Event` forbids, would be written
    /// twice; Go's map could not hold them.
    public static func append(_ event: Event, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"t":"#.utf8)
        appendDecimal(event.time, to: &out)
        out.append(contentsOf: #","d":"#.utf8)
        appendDecimal(event.duration, to: &out)
        if event.isCellular {
            out.append(contentsOf: #","c":1"#.utf8)
        }
        out.append(contentsOf: #","s":{"#.utf8)
        // Parsed canonical lines are already sorted; skip the copy for them.
        let counts = isSortedByLabel(event.counts)
            ? event.counts
            : event.counts.sorted { $0.label < $1.label }
        var first = true
        for entry in counts {
            if !first {
                out.append(UInt8(ascii: ","))
            }
            first = false
            appendString(entry.label.bytes, to: &out)
            out.append(contentsOf: #":["#.utf8)
            appendDecimal(entry.tx, to: &out)
            out.append(UInt8(ascii: ","))
            appendDecimal(entry.rx, to: &out)
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: "}}\n".utf8)
    }

    /// The canonical line for `event`, newline included.
    public static func line(for event: Event) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 &+ event.counts.count &* 32)
        append(event, to: &out)
        return out
    }

    // MARK: - Internals

    /// "00" through "99", two bytes per number. A computed StaticString so
    /// inlinable code can use it without a lazily initialised global.
    @usableFromInline
    static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }

    /// The number of decimal digits in `value` (1...20): log10 estimated
    /// from the bit length (1233 / 4096 is just under log10 2), then one
    /// comparison, instead of a loop per digit.
    @inlinable
    static func decimalDigitCount(_ value: UInt64) -> Int {
        let estimate = ((64 &- value.leadingZeroBitCount) &* 1233) &>> 12
        return estimate &+ (value >= tenToThe(estimate) ? 1 : 0)
    }

    /// 10^`exponent` for 1...19, and 0 for 0 (so that 0 has one digit).
    /// A switch, which compiles to a table, so inlinable code needs no global.
    @inlinable
    static func tenToThe(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: 0
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        case 19: 10_000_000_000_000_000_000
        default: .max
        }
    }

    /// Lowercase hex digits, as Go's `hex` table.
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether `counts` is already in canonical (bytewise label) order.
    private static func isSortedByLabel(_ counts: [LabelCounts]) -> Bool {
        var index = 1
        while index < counts.count {
            if counts[index].label < counts[index - 1].label {
                return false
            }
            index += 1
        }
        return true
    }

    /// Go's `appendString(dst, src, escapeHTML: true)` over raw bytes.
    private static func appendString(raw source: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + source.count + 2)
        out.append(UInt8(ascii: "\""))
        var start = 0
        var index = 0
        let count = source.count
        while index < count {
            let byte = source[index]
            if byte < 0x80 {
                if isHTMLSafe(byte) {
                    index += 1
                    continue
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[start..<index]))
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                    out.append(UInt8(ascii: "\\"))
                    out.append(byte)
                case 0x08:
                    out.append(contentsOf: #"\b"#.utf8)
                case 0x0C:
                    out.append(contentsOf: #"\f"#.utf8)
                case UInt8(ascii: "\n"):
                    out.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"):
                    out.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"):
                    out.append(contentsOf: #"\t"#.utf8)
                default:
                    // Other control bytes, and <, >, & (HTML escaping).
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
                index += 1
                start = index
                continue
            }
            let (scalar, length) = GoUTF8.decodeRune(source, at: index)
            if length == 0 {
                // Go replaces each rejected byte and moves on by one.
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[start..<index]))
                out.append(contentsOf: #"\ufffd"#.utf8)
                index += 1
                start = index
                continue
            }
            if scalar == 0x2028 || scalar == 0x2029 {
                // Valid JSON but line terminators in JavaScript; Go escapes them.
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[start..<index]))
                out.append(contentsOf: #"\u202"#.utf8)
                out.append(hexDigits[Int(scalar & 0xF)])
                index += length
                start = index
                continue
            }
            index += length
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[start..<count]))
        out.append(UInt8(ascii: "\""))
    }

    /// Go's `htmlSafeSet` for ASCII: printable, not `"`, `\`, `<`, `>`, `&`.
    @inline(__always)
    private static func isHTMLSafe(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "&")
    }
}

/// UTF-8 decoding with exactly the acceptance rules of Go's `utf8.DecodeRune`,
/// shared by the encoder and the parser so both treat invalid bytes alike.
enum GoUTF8 {
    /// Appends `bytes` with each byte `decodeRune` rejects replaced by U+FFFD
    /// (`EF BF BD`): the text canonical JSON gives a label, unescaped, which
    /// the CSV and TSV writers write.
    static func appendReplacingInvalid<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        let source = Array(bytes)
        source.withUnsafeBytes { raw in
            var index = 0
            while index < raw.count {
                let (_, length) = decodeRune(raw, at: index)
                if length == 0 {
                    out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    index += 1
                } else {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[index..<(index + length)]))
                    index += length
                }
            }
        }
    }

    /// Decodes the sequence at `index` (which must be in bounds).
    ///
    /// Returns the scalar and its length (1...4), or length 0 where Go returns
    /// `(RuneError, 1)`: stray continuation bytes, C0/C1 and F5...FF lead bytes,
    /// overlong forms, UTF-16 surrogates, values above U+10FFFF and truncated
    /// sequences.
    @inline(__always)
    static func decodeRune(_ bytes: UnsafeRawBufferPointer, at index: Int) -> (scalar: UInt32, length: Int) {
        let available = bytes.count - index
        let b0 = bytes[index]
        if b0 < 0x80 {
            return (UInt32(b0), 1)
        }
        if b0 < 0xC2 {
            return (0, 0)
        }
        if b0 < 0xE0 {
            guard available >= 2 else { return (0, 0) }
            let b1 = bytes[index + 1]
            guard b1 & 0xC0 == 0x80 else { return (0, 0) }
            return (UInt32(b0 & 0x1F) << 6 | UInt32(b1 & 0x3F), 2)
        }
        if b0 < 0xF0 {
            guard available >= 3 else { return (0, 0) }
            // E0 needs A0... (no overlongs); ED needs ...9F (no surrogates).
            let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            let b1 = bytes[index + 1]
            let b2 = bytes[index + 2]
            guard b1 >= low && b1 <= high && b2 & 0xC0 == 0x80 else { return (0, 0) }
            return (UInt32(b0 & 0x0F) << 12 | UInt32(b1 & 0x3F) << 6 | UInt32(b2 & 0x3F), 3)
        }
        if b0 < 0xF5 {
            guard available >= 4 else { return (0, 0) }
            // F0 needs 90... (no overlongs); F4 needs ...8F (max U+10FFFF).
            let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            let b1 = bytes[index + 1]
            let b2 = bytes[index + 2]
            let b3 = bytes[index + 3]
            guard b1 >= low && b1 <= high && b2 & 0xC0 == 0x80 && b3 & 0xC0 == 0x80 else { return (0, 0) }
            return (
                UInt32(b0 & 0x07) << 18 | UInt32(b1 & 0x3F) << 12 | UInt32(b2 & 0x3F) << 6 | UInt32(b3 & 0x3F),
                4
            )
        }
        return (0, 0)
    }
}
