import Testing
@testable import SockStatFormat
import TestSupport

/// Canonical JSON output, pinned to what Go's encoding/json writes.
@Suite struct CanonicalJSONTests {
    // MARK: String escaping

    /// One row of the Go escaping table: raw label bytes and the JSON string Go writes.
    struct EscapeCase: CustomTestStringConvertible, Sendable {
        var name: String
        var raw: [UInt8]
        var json: String
        var testDescription: String { name }
    }

    static let escapeCases: [EscapeCase] = [
        EscapeCase(name: "plain ASCII", raw: Array("wlan0".utf8), json: #""wlan0""#),
        EscapeCase(name: "empty", raw: [], json: #""""#),
        EscapeCase(name: "quote", raw: Array(#"a"b"#.utf8), json: #""a\"b""#),
        EscapeCase(name: "backslash", raw: Array(#"a\b"#.utf8), json: #""a\\b""#),
        EscapeCase(name: "slash stays raw", raw: Array("a/b".utf8), json: #""a/b""#),
        EscapeCase(name: "newline", raw: [0x0A], json: #""\n""#),
        EscapeCase(name: "carriage return", raw: [0x0D], json: #""\r""#),
        EscapeCase(name: "tab", raw: [0x09], json: #""\t""#),
        EscapeCase(name: "backspace (Go 1.22+)", raw: [0x08], json: #""\b""#),
        EscapeCase(name: "form feed (Go 1.22+)", raw: [0x0C], json: #""\f""#),
        EscapeCase(name: "NUL", raw: [0x00], json: #""\u0000""#),
        EscapeCase(name: "SOH", raw: [0x01], json: #""\u0001""#),
        EscapeCase(name: "vertical tab", raw: [0x0B], json: #""\u000b""#),
        EscapeCase(name: "ESC lowercase hex", raw: [0x1B], json: #""\u001b""#),
        EscapeCase(name: "unit separator", raw: [0x1F], json: #""\u001f""#),
        EscapeCase(name: "space stays raw", raw: [0x20], json: #"" ""#),
        EscapeCase(name: "less than", raw: Array("<".utf8), json: #""\u003c""#),
        EscapeCase(name: "greater than", raw: Array(">".utf8), json: #""\u003e""#),
        EscapeCase(name: "ampersand", raw: Array("&".utf8), json: #""\u0026""#),
        EscapeCase(name: "HTML mixed with text", raw: Array("<a&b>".utf8), json: #""\u003ca\u0026b\u003e""#),
        EscapeCase(name: "DEL stays raw", raw: [0x7F], json: "\"\u{7F}\""),
        EscapeCase(name: "2-byte UTF-8 raw", raw: [0xC3, 0xA9], json: "\"é\""),
        EscapeCase(name: "3-byte UTF-8 raw", raw: [0xE2, 0x82, 0xAC], json: "\"€\""),
        EscapeCase(name: "4-byte emoji raw", raw: [0xF0, 0x9F, 0x98, 0x80], json: "\"😀\""),
        EscapeCase(name: "U+FFFD itself raw", raw: [0xEF, 0xBF, 0xBD], json: "\"\u{FFFD}\""),
        EscapeCase(name: "U+10FFFF raw", raw: [0xF4, 0x8F, 0xBF, 0xBF], json: "\"\u{10FFFF}\""),
        EscapeCase(name: "U+2027 raw", raw: [0xE2, 0x80, 0xA7], json: "\"\u{2027}\""),
        EscapeCase(name: "line separator", raw: [0xE2, 0x80, 0xA8], json: #""\u2028""#),
        EscapeCase(name: "paragraph separator", raw: [0xE2, 0x80, 0xA9], json: #""\u2029""#),
        EscapeCase(name: "U+202A raw", raw: [0xE2, 0x80, 0xAA], json: "\"\u{202A}\""),
        EscapeCase(name: "stray continuation byte", raw: [0x80], json: #""\ufffd""#),
        EscapeCase(name: "stray 0xBF between ASCII", raw: [0x61, 0xBF, 0x62], json: #""a\ufffdb""#),
        EscapeCase(name: "overlong NUL C0 80", raw: [0xC0, 0x80], json: #""\ufffd\ufffd""#),
        EscapeCase(name: "overlong C1 BF", raw: [0xC1, 0xBF], json: #""\ufffd\ufffd""#),
        EscapeCase(name: "overlong 3-byte E0 80 80", raw: [0xE0, 0x80, 0x80], json: #""\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "overlong 3-byte E0 9F BF", raw: [0xE0, 0x9F, 0xBF], json: #""\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "overlong 4-byte F0 8F BF BF", raw: [0xF0, 0x8F, 0xBF, 0xBF], json: #""\ufffd\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "UTF-8 surrogate ED A0 80", raw: [0xED, 0xA0, 0x80], json: #""\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "UTF-8 surrogate ED BF BF", raw: [0xED, 0xBF, 0xBF], json: #""\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "last before surrogates ED 9F BF raw", raw: [0xED, 0x9F, 0xBF], json: "\"\u{D7FF}\""),
        EscapeCase(name: "above U+10FFFF F4 90 80 80", raw: [0xF4, 0x90, 0x80, 0x80], json: #""\ufffd\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "lead byte F5", raw: [0xF5, 0x80, 0x80, 0x80], json: #""\ufffd\ufffd\ufffd\ufffd""#),
        EscapeCase(name: "byte FF", raw: [0xFF], json: #""\ufffd""#),
        EscapeCase(name: "byte FE", raw: [0xFE], json: #""\ufffd""#),
        EscapeCase(name: "truncated 2-byte at end", raw: [0x61, 0xC3], json: #""a\ufffd""#),
        EscapeCase(name: "truncated 3-byte at end", raw: [0x61, 0xE2, 0x82], json: #""a\ufffd\ufffd""#),
        EscapeCase(name: "truncated 3-byte before ASCII", raw: [0xE2, 0x82, 0x41], json: #""\ufffd\ufffdA""#),
        EscapeCase(name: "truncated emoji before ASCII", raw: [0xF0, 0x9F, 0x98, 0x78], json: #""\ufffd\ufffd\ufffdx""#),
        EscapeCase(name: "invalid then valid multi-byte", raw: [0x80, 0xC3, 0xA9], json: "\"\\ufffdé\""),
        EscapeCase(name: "everything at once", raw: Array("é<\"\u{2028}\\\u{1}😀".utf8), json: "\"é\\u003c\\\"\\u2028\\\\\\u0001😀\""),
    ]

    @Test(arguments: escapeCases)
    func labelIsEscapedExactlyAsGoDoes(_ row: EscapeCase) {
        var out: [UInt8] = []
        CanonicalJSON.appendString(row.raw, to: &out)
        #expect(out == Array(row.json.utf8))
    }

    @Test func lineSeparatorIsEscaped() {
        var out: [UInt8] = []
        CanonicalJSON.appendString(Array("a\u{2028}b\u{2029}c".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\u2028b\u2029c""#)
    }

    @Test func appendStringAcceptsNonContiguousCollections() {
        var out: [UInt8] = []
        // A lazy map has no contiguous storage: the copying path is taken.
        CanonicalJSON.appendString(Array("<é>".utf8).lazy.map { $0 }, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"\\u003cé\\u003e\"")
    }

    @Test func appendStringAppendsToExistingBytes() {
        var out: [UInt8] = Array("x:".utf8)
        CanonicalJSON.appendString(Array("a".utf8)[...], to: &out)
        #expect(out == Array(#"x:"a""#.utf8))
    }

    @Test func everySingleByteIsEscapedAsGoDoes() {
        for byte in UInt8.min...UInt8.max {
            var out: [UInt8] = []
            CanonicalJSON.appendString([byte], to: &out)
            let expected: String
            switch byte {
            case 0x22: expected = #"\""#
            case 0x5C: expected = #"\\"#
            case 0x08: expected = #"\b"#
            case 0x0C: expected = #"\f"#
            case 0x0A: expected = #"\n"#
            case 0x0D: expected = #"\r"#
            case 0x09: expected = #"\t"#
            case 0x00..<0x20, 0x3C, 0x3E, 0x26:
                let hex = String(byte, radix: 16)
                expected = #"\u00"# + (hex.count == 1 ? "0" + hex : hex)
            case 0x20..<0x80: expected = String(UnicodeScalar(byte))
            default: expected = #"\ufffd"#
            }
            #expect(out == Array(("\"" + expected + "\"").utf8), "byte \(byte)")
        }
    }

    // MARK: Decimals

    static let unsignedCases: [(UInt64, String)] = [
        (0, "0"), (1, "1"), (9, "9"), (10, "10"), (11, "11"), (99, "99"), (100, "100"), (101, "101"),
        (999, "999"), (1000, "1000"), (1_764_288_339_865, "1764288339865"),
        (9_999_999_999_999_999_999, "9999999999999999999"),
        (10_000_000_000_000_000_000, "10000000000000000000"),
        (UInt64(Int64.max), "9223372036854775807"),
        (UInt64.max, "18446744073709551615"),
    ]

    @Test(arguments: unsignedCases)
    func unsignedDecimalIsPlain(_ value: UInt64, _ text: String) {
        var out: [UInt8] = []
        CanonicalJSON.appendDecimal(value, to: &out)
        #expect(out == Array(text.utf8))
    }

    static let signedCases: [(Int64, String)] = [
        (0, "0"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (-1, "-1"), (-9, "-9"), (-10, "-10"),
        (-100, "-100"), (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
        (Int64.min + 1, "-9223372036854775807"), (1_000_000_000_000_000_000, "1000000000000000000"),
    ]

    @Test(arguments: signedCases)
    func signedDecimalIsPlain(_ value: Int64, _ text: String) {
        var out: [UInt8] = []
        CanonicalJSON.appendDecimal(value, to: &out)
        #expect(out == Array(text.utf8))
    }

    /// Powers of ten and of two with their neighbours: where the digit count
    /// changes and where its estimate from the bit length does.
    @Test func powersOfTenAndNeighboursMatchSwiftFormatting() {
        var values: [UInt64] = [UInt64.max, UInt64.max - 1]
        for bit in 0..<64 { values += [1 << bit, (1 << bit) &- 1, (1 << bit) &+ 1] }
        var power: UInt64 = 1
        for _ in 0..<20 {
            values += [power &- 1, power, power &+ 1]
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { break }
            power = next
        }
        for value in values {
            var out: [UInt8] = []
            CanonicalJSON.appendDecimal(value, to: &out)
            #expect(out == Array(String(value).utf8))
            let signed = Int64(truncatingIfNeeded: value)
            out.removeAll()
            CanonicalJSON.appendDecimal(signed, to: &out)
            #expect(out == Array(String(signed).utf8))
        }
    }

    @Test func writeDecimalWritesOnlyItsDigits() {
        var random = TestRandom(seed: 11)
        for round in 0..<2000 {
            // Spread over all digit counts, not just huge values.
            let value = round < 64 ? UInt64.max >> round : random.next() >> (random.next() % 64)
            var buffer = [UInt8](repeating: 0xAA, count: 24)
            let count = buffer.withUnsafeMutableBufferPointer { pointer in
                CanonicalJSON.writeDecimal(value, to: pointer.baseAddress!)
            }
            let text = Array(String(value).utf8)
            #expect(count == text.count)
            #expect(Array(buffer[..<count]) == text)
            #expect(buffer[count...].allSatisfy { $0 == 0xAA })
        }
    }

    // MARK: Lines

    @Test func specExampleLine() {
        let event = Event(
            time: 1_764_288_339_865, duration: 100, isCellular: true,
            counts: [
                LabelCounts(label: Label("8"), tx: 1024, rx: 96),
                LabelCounts(label: Label("2"), tx: 148, rx: 148),
            ])
        #expect(text(event) == "{\"t\":1764288339865,\"d\":100,\"c\":1,\"s\":{\"2\":[148,148],\"8\":[1024,96]}}\n")
    }

    @Test func nonCellularOmitsC() {
        let event = Event(time: 1, duration: 2, counts: [LabelCounts(label: Label("8"), tx: 148, rx: 0)])
        #expect(text(event) == "{\"t\":1,\"d\":2,\"s\":{\"8\":[148,0]}}\n")
    }

    @Test func emptyCountsWriteEmptyObject() {
        #expect(text(Event(time: 0, duration: 0, counts: [])) == "{\"t\":0,\"d\":0,\"s\":{}}\n")
        #expect(text(Event(time: 0, duration: 0, isCellular: true, counts: [])) == "{\"t\":0,\"d\":0,\"c\":1,\"s\":{}}\n")
    }

    @Test func extremeIntegersAreWrittenInFull() {
        let event = Event(
            time: Int64.min, duration: Int64.max,
            counts: [LabelCounts(label: Label(""), tx: UInt64.max, rx: 0)])
        #expect(text(event) == "{\"t\":-9223372036854775808,\"d\":9223372036854775807,\"s\":{\"\":[18446744073709551615,0]}}\n")
    }

    @Test func labelsSortBytewise() {
        let event = Event(time: 5, duration: 6, counts: [
            LabelCounts(label: Label("é"), tx: 1, rx: 1),
            LabelCounts(label: Label("a"), tx: 2, rx: 2),
            LabelCounts(label: Label("ab"), tx: 3, rx: 3),
            LabelCounts(label: Label("Z"), tx: 4, rx: 4),
        ])
        #expect(text(event) == "{\"t\":5,\"d\":6,\"s\":{\"Z\":[4,4],\"a\":[2,2],\"ab\":[3,3],\"é\":[1,1]}}\n")
    }

    @Test func numericLabelsSortAsStrings() {
        let event = Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("2"), tx: 1, rx: 2),
            LabelCounts(label: Label("10"), tx: 3, rx: 4),
            LabelCounts(label: Label("1"), tx: 5, rx: 6),
        ])
        #expect(text(event) == "{\"t\":1,\"d\":1,\"s\":{\"1\":[5,6],\"10\":[3,4],\"2\":[1,2]}}\n")
    }

    @Test func labelsSortByRawBytesBeforeEscaping() {
        // "<" (0x3C) sorts before "=" (0x3D) although its escape starts with "\" (0x5C).
        let event = Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("="), tx: 1, rx: 1),
            LabelCounts(label: Label("<"), tx: 2, rx: 2),
        ])
        #expect(text(event) == "{\"t\":1,\"d\":1,\"s\":{\"\\u003c\":[2,2],\"=\":[1,1]}}\n")
    }

    @Test func appendKeepsExistingBytesAndEventOrder() {
        let event = Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("b"), tx: 1, rx: 1),
            LabelCounts(label: Label("a"), tx: 2, rx: 2),
        ])
        var out = Array("prefix\n".utf8)
        CanonicalJSON.append(event, to: &out)
        CanonicalJSON.append(event, to: &out)
        let one = "{\"t\":1,\"d\":1,\"s\":{\"a\":[2,2],\"b\":[1,1]}}\n"
        #expect(String(decoding: out, as: UTF8.self) == "prefix\n" + one + one)
        #expect(event.counts.map(\.label) == [Label("b"), Label("a")])
    }

    /// Lines written by the reference workload generator (workload.py --seed 3).
    static let workloadLines: [String] = [
        #"{"t":1764288249727,"d":100,"s":{"8":[148,148]}}"#,
        #"{"t":1764288249827,"d":100,"s":{"6":[160,160]}}"#,
        #"{"t":1764288250126,"d":99,"s":{"8":[148,148]}}"#,
        #"{"t":1764289889887,"d":99,"c":1,"s":{"11":[150,253],"2":[154,671],"3":[19093,239],"9":[256,1804]}}"#,
        #"{"t":1764290125117,"d":102,"c":1,"s":{"2":[1102,9210],"5":[69,113],"8":[3096,27424],"9":[148,148]}}"#,
        #"{"t":1764294584026,"d":101,"c":1,"s":{"0":[157,120],"6":[180,256],"8":[369736,1594744],"9":[148,148]}}"#,
        #"{"t":1764288275514,"d":100,"s":{"2":[13762,54942],"5":[51,321],"8":[41076,164620],"9":[148,148]}}"#,
        #"{"t":1764288299984,"d":101,"s":{"2":[4930,39433],"6":[140,96],"8":[14580,118092]}}"#,
    ]

    @Test(arguments: workloadLines)
    func workloadLinesAreReproducedExactly(_ line: String) throws {
        let event = try #require(try JSONLinesParser().parse(Array(line.utf8), lineNumber: 1))
        #expect(text(event) == line + "\n")
    }

    private func text(_ event: Event) -> String {
        String(decoding: CanonicalJSON.line(for: event), as: UTF8.self)
    }
}
