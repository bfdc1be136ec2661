import SockStatFormat

/// Text for the page and the SVG: labels as JSON strings (safe inside a
/// script element), as plain text, and escaped for HTML and XML.
enum PageText {
    /// `bytes` as a JSON string literal, exactly as canonical JSON writes a
    /// label: invalid UTF-8 becomes U+FFFD and `<`, `>`, `&` are escaped, so
    /// `</script>` cannot appear.
    static func jsonString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        CanonicalJSON.appendString(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// JSON text for any Swift string (a display name, a note).
    static func jsonString(_ text: String) -> String { jsonString(Array(text.utf8)) }

    /// The text a label shows as: what `JSON.parse` makes of its canonical
    /// JSON string (invalid bytes as U+FFFD, one per byte, as Go decodes).
    static func displayText<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        CanonicalJSON.appendString(bytes, to: &out)
        // Undo the escapes canonical JSON uses: \" \\ \n \r \t \b \f \uXXXX
        // (never a surrogate pair: characters past U+FFFF are written raw).
        var text = String.UnicodeScalarView()
        var index = 1
        let end = out.count - 1
        func hex(_ byte: UInt8) -> UInt32 { UInt32(byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x61 + 10) }
        var plain: [UInt8] = []
        func flushPlain() {
            text.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
            plain.removeAll()
        }
        while index < end {
            let byte = out[index]
            guard byte == 0x5C else { plain.append(byte); index += 1; continue }
            flushPlain()
            let escaped = out[index + 1]
            index += 2
            switch escaped {
            case 0x6E: text.append("\n")
            case 0x72: text.append("\r")
            case 0x74: text.append("\t")
            case 0x62: text.append("\u{8}")
            case 0x66: text.append("\u{C}")
            case 0x75:
                let value = out[index..<index + 4].reduce(UInt32(0)) { $0 << 4 | hex($1) }
                text.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                index += 4
            default: text.append(Unicode.Scalar(escaped))
            }
        }
        flushPlain()
        return String(text)
    }

    /// `text` escaped for HTML or XML text and attribute values.
    static func markup(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters and U+FFFE, U+FFFF are not allowed in XML 1.0: shown as U+FFFD.
            case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r": out += "\u{FFFD}"
            case "\u{FFFE}", "\u{FFFF}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Standard base64 (RFC 4648, with padding).
    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        appendBase64(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The length of `count` bytes in base64.
    static func base64Count(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// `bytes` in standard base64 (RFC 4648, with padding), appended to `out`.
    static func appendBase64(_ bytes: [UInt8], to out: inout [UInt8]) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        out.reserveCapacity(out.count + base64Count(bytes.count))
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }
}
