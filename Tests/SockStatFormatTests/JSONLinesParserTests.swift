import Testing
@testable import SockStatFormat
import TestSupport

/// Parsing JSON lines: tolerant input, exact errors, Go's string decoding.
@Suite struct JSONLinesParserTests {
    let parser = JSONLinesParser()

    private func parse(_ line: String, lineNumber: Int = 1) throws(JSONLineError) -> Event? {
        try parser.parse(Array(line.utf8), lineNumber: lineNumber)
    }

    private func parse(bytes: [UInt8]) throws(JSONLineError) -> Event? {
        try parser.parse(bytes, lineNumber: 1)
    }

    private func counts(_ entries: (String, UInt64, UInt64)...) -> [LabelCounts] {
        entries.map { LabelCounts(label: Label($0.0), tx: $0.1, rx: $0.2) }
    }

    // MARK: Accepted lines

    @Test func canonicalLineParses() throws {
        let event = try parse(#"{"t":1764288339865,"d":100,"c":1,"s":{"2":[148,148],"8":[1024,96]}}"#)
        #expect(event == Event(time: 1_764_288_339_865, duration: 100, isCellular: true,
                               counts: counts(("2", 148, 148), ("8", 1024, 96))))
    }

    @Test(arguments: ["", " ", "\t", "\r", "\n", " \t\r\n "])
    func blankLineIsNil(_ line: String) throws {
        #expect(try parse(line) == nil)
    }

    @Test func unsafeBufferOverloadParsesAndHandlesEmptyBuffer() throws {
        let bytes = Array(#"{"t":1,"d":2}"#.utf8)
        let event = try bytes.withUnsafeBytes { buffer throws(JSONLineError) in
            try parser.parse(buffer, lineNumber: 3)
        }
        #expect(event == Event(time: 1, duration: 2, counts: []))
        let empty = try parser.parse(UnsafeRawBufferPointer(start: nil, count: 0), lineNumber: 1)
        #expect(empty == nil)
    }

    /// A tolerant line and the event it means.
    struct TolerantCase: CustomTestStringConvertible, Sendable {
        var name: String
        var line: String
        var event: Event
        var testDescription: String { name }
    }

    static let base = Event(time: 1, duration: 2, counts: [LabelCounts(label: Label("8"), tx: 3, rx: 4)])
    static let cellularBase = Event(time: 1, duration: 2, isCellular: true, counts: base.counts)
    static let empty = Event(time: 1, duration: 2, counts: [])

    static let tolerantCases: [TolerantCase] = [
        TolerantCase(name: "whitespace between all tokens",
                     line: " \t{ \"t\" :\t1 , \"d\"\r: 2 ,\n\"s\" : { \"8\" : [ 3 , 4 ] } } ", event: base),
        TolerantCase(name: "trailing CR", line: "{\"t\":1,\"d\":2,\"s\":{\"8\":[3,4]}}\r", event: base),
        TolerantCase(name: "members in any order", line: #"{"s":{"8":[3,4]},"d":2,"t":1}"#, event: base),
        TolerantCase(name: "c before t", line: #"{"c":1,"s":{"8":[3,4]},"t":1,"d":2}"#, event: cellularBase),
        TolerantCase(name: "c zero", line: #"{"t":1,"d":2,"c":0,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "c minus zero", line: #"{"t":1,"d":2,"c":-0,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "c null", line: #"{"t":1,"d":2,"c":null,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "s null", line: #"{"t":1,"d":2,"s":null}"#, event: empty),
        TolerantCase(name: "s missing", line: #"{"t":1,"d":2}"#, event: empty),
        TolerantCase(name: "s empty with spaces", line: #"{"t":1,"d":2,"s":{ }}"#, event: empty),
        TolerantCase(name: "minus zero t", line: #"{"t":-0,"d":2}"#, event: Event(time: 0, duration: 2, counts: [])),
        TolerantCase(name: "extremes", line: #"{"t":-9223372036854775808,"d":9223372036854775807,"s":{"":[18446744073709551615,0]}}"#,
                     event: Event(time: .min, duration: .max, counts: [LabelCounts(label: Label(""), tx: .max, rx: 0)])),
        TolerantCase(name: "escaped member names", line: #"{"\u0074":1,"\u0064":2,"\u0073":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "unknown string", line: #"{"x":"a\"b\u00e9\ud83d","t":1,"d":2,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "unknown numbers", line: #"{"x":-1.5e+10,"y":0,"z":0.25E-3,"t":1,"d":2,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "unknown literals", line: #"{"x":true,"y":false,"z":null,"t":1,"d":2,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "unknown nested containers",
                     line: #"{"t":1,"x":[[],{},[1,[2,{"a":[{"b":null}]}]],{"k":{"l":[]}}],"d":2,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "unknown member at end", line: #"{"t":1,"d":2,"s":{"8":[3,4]},"z":{"y":[1,2,3]}}"#, event: base),
        TolerantCase(name: "unknown name longer than one letter", line: #"{"tt":99,"t":1,"d":2,"s":{"8":[3,4]}}"#, event: base),
        TolerantCase(name: "logtail metadata first",
                     line: #"{"logtail":{"client_time":"2026-11-28T01:02:03.456789Z","proc_id":7,"proc_seq":42},"t":1,"d":2,"s":{"8":[1,2]}}"#,
                     event: Event(time: 1, duration: 2, counts: [LabelCounts(label: Label("8"), tx: 1, rx: 2)])),
        TolerantCase(name: "counts keep line order", line: #"{"t":1,"d":2,"s":{"b":[1,1],"a":[2,2]}}"#,
                     event: Event(time: 1, duration: 2, counts: [
                        LabelCounts(label: Label("b"), tx: 1, rx: 1), LabelCounts(label: Label("a"), tx: 2, rx: 2),
                     ])),
        TolerantCase(name: "127 levels of unknown nesting",
                     line: "{\"t\":1,\"d\":2,\"x\":" + String(repeating: "[", count: 127) + String(repeating: "]", count: 127) + "}",
                     event: empty),
    ]

    @Test(arguments: tolerantCases)
    func tolerantLineParses(_ row: TolerantCase) throws {
        #expect(try parse(row.line) == row.event)
    }

    // MARK: Member names, matched as Go matches struct fields

    /// A member name as written in a line (JSON string body) and the member
    /// Go's decoder fills for it: names compare after unescaping and
    /// case-insensitively, rune by rune as ToUpper(ToLower(r)), so U+017F
    /// LATIN SMALL LETTER LONG S is `s` as well.
    static let memberNameCases: [(written: String, member: String)] = [
        ("t", "t"), ("T", "t"), (#"\u0074"#, "t"), (#"\u0054"#, "t"),
        ("d", "d"), ("D", "d"), (#"\u0064"#, "d"), (#"\u0044"#, "d"),
        ("c", "c"), ("C", "c"), (#"\u0063"#, "c"), (#"\u0043"#, "c"),
        ("s", "s"), ("S", "s"), (#"\u0073"#, "s"), (#"\u0053"#, "s"),
        ("\u{17F}", "s"), (#"\u017f"#, "s"), (#"\u017F"#, "s"),
    ]

    /// `{"t":1,"d":2,"c":1,"s":{"8":[3,4]}}` with `member` renamed to `written`.
    private func line(naming member: String, as written: String) -> String {
        let members = [("t", "1"), ("d", "2"), ("c", "1"), ("s", #"{"8":[3,4]}"#)]
        return "{" + members.map { "\"\($0.0 == member ? written : $0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    @Test(arguments: memberNameCases)
    func memberNameMatchesAsGoMatchesIt(_ written: String, _ member: String) throws {
        #expect(try parse(line(naming: member, as: written)) == Self.cellularBase)
    }

    @Test func everyMemberInUpperCaseAndLongSParse() throws {
        #expect(try parse(#"{"T":1,"D":2,"C":1,"S":{"8":[3,4]}}"#) == Self.cellularBase)
        #expect(try parse(" { \"D\" : 2 ,\t\"\u{17F}\" : { \"8\" : [ 3 , 4 ] } , \"T\" : 1 } ") == Self.base)
        // The UTF-8 of U+017F, C5 BF, raw.
        let raw = Array(#"{"t":1,"d":2,""#.utf8) + [0xC5, 0xBF] + Array(#"":{"8":[3,4]}}"#.utf8)
        #expect(try parse(bytes: raw) == Self.base)
    }

    /// Names no field of Go's struct matches: more than one rune, or a rune
    /// whose fold is not T, D, C or S (Kelvin sign K folds to K, ẞ to ß,
    /// Ś to Ś, fullwidth ｓ to Ｓ), or bytes that decode to U+FFFD. Go's
    /// json/v2 can ignore `_` and `-` when folding, but not for
    /// encoding/json, so `_s` is not `s`.
    static let unknownNames: [String] = [
        "tt", "Tt", "ss", "\u{17F}\u{17F}", "s ", " s", #"s\u0000"#, #"\u0073\u0073"#, "_s", "t-", "-",
        "Ś", "ś", "ẞ", "ß", "\u{212A}", "K", "k", "ｓ", "Ｓ", "ŧ", "Ŝ", "ꞩ", #"\ud800"#, #"\u0000"#, "",
    ]

    @Test(arguments: unknownNames)
    func otherNamesStayUnknown(_ name: String) throws {
        // Were the name taken for t, d, c or s, 99 would be a duplicate or the wrong type.
        #expect(try parse("{\"" + name + #"":99,"t":1,"d":2,"c":1,"s":{"8":[3,4]}}"#) == Self.cellularBase)
    }

    /// Raw bytes that are not valid UTF-8 decode to U+FFFD, which names nothing;
    /// the overlong C1 B3 is not `s`.
    @Test(arguments: [[0xFF], [0xC5], [0xBF], [0xC1, 0xB3], [0xC5, 0xBF, 0xBF], [0xE0, 0x81, 0xB3]] as [[UInt8]])
    func invalidUTF8NamesStayUnknown(_ name: [UInt8]) throws {
        let line = Array(#"{""#.utf8) + name + Array(#"":99,"t":1,"d":2,"c":1,"s":{"8":[3,4]}}"#.utf8)
        #expect(try parse(bytes: line) == Self.cellularBase)
    }

    // MARK: String decoding

    /// The body of a JSON label string and the bytes it decodes to.
    static let unescapeCases: [(String, [UInt8])] = [
        (#"\"\\\/\b\f\n\r\t"#, [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09]),
        (#"\u0041\u00e9\u00E9"#, Array("Aéé".utf8)),
        (#"\u20AC\u20ac"#, Array("€€".utf8)),
        (#"\u0000\u001f"#, [0x00, 0x1F]),
        (#"\u003c\u0026\u003e"#, Array("<&>".utf8)),
        (#"\u2028\u2029"#, [0xE2, 0x80, 0xA8, 0xE2, 0x80, 0xA9]),
        (#"\ud83d\ude00"#, [0xF0, 0x9F, 0x98, 0x80]),
        (#"\uD83D\uDE00"#, [0xF0, 0x9F, 0x98, 0x80]),
        (#"\udbff\udfff"#, [0xF4, 0x8F, 0xBF, 0xBF]),
        (#"\ud83d"#, [0xEF, 0xBF, 0xBD]),
        (#"\ude00"#, [0xEF, 0xBF, 0xBD]),
        (#"\ud83dx"#, [0xEF, 0xBF, 0xBD, 0x78]),
        (#"\ud83d\u0041"#, [0xEF, 0xBF, 0xBD, 0x41]),
        (#"\ud83d\ud83d\ude00"#, [0xEF, 0xBF, 0xBD, 0xF0, 0x9F, 0x98, 0x80]),
        (#"\ude00\ud83d"#, [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
        (#"\ud83d\n"#, [0xEF, 0xBF, 0xBD, 0x0A]),
        (#"\ufffd"#, [0xEF, 0xBF, 0xBD]),
        ("é😀\u{7F}", Array("é😀\u{7F}".utf8)),
    ]

    @Test(arguments: unescapeCases)
    func labelEscapesDecodeAsGoDoes(_ body: String, _ expected: [UInt8]) throws {
        let event = try parse("{\"t\":1,\"d\":2,\"s\":{\"" + body + "\":[3,4]}}")
        #expect(event?.counts.first?.label.bytes == expected)
    }

    /// Raw (unescaped) label bytes and what they decode to.
    static let rawUTF8Cases: [([UInt8], [UInt8])] = [
        ([0x80], [0xEF, 0xBF, 0xBD]),
        ([0x61, 0xFF, 0x62], [0x61, 0xEF, 0xBF, 0xBD, 0x62]),
        ([0xC0, 0x80], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
        ([0xED, 0xA0, 0x80], Array(repeating: [0xEF, 0xBF, 0xBD], count: 3).flatMap { $0 }),
        ([0xF4, 0x90, 0x80, 0x80], Array(repeating: [0xEF, 0xBF, 0xBD], count: 4).flatMap { $0 }),
        ([0xE2, 0x82], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
        ([0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80], [0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80]),
        ([0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA8]),
    ]

    @Test(arguments: rawUTF8Cases)
    func invalidRawUTF8BecomesReplacementPerByte(_ raw: [UInt8], _ expected: [UInt8]) throws {
        let line = Array(#"{"t":1,"d":2,"s":{""#.utf8) + raw + Array(#"":[3,4]}}"#.utf8)
        let event = try parse(bytes: line)
        #expect(event?.counts.first?.label.bytes == expected)
    }

    // MARK: Errors

    /// A bad line, and the column and reason of its error.
    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var line: [UInt8]
        var column: Int
        var reason: String
        var testDescription: String { reason + " @" + String(column) }

        init(_ line: String, _ column: Int, _ reason: String) {
            self.line = Array(line.utf8)
            self.column = column
            self.reason = reason
        }

        init(bytes: [UInt8], _ column: Int, _ reason: String) {
            self.line = bytes
            self.column = column
            self.reason = reason
        }

        /// The kind of problem each reason is: a member or label twice, a
        /// value Go would not read into the struct as given, a limit of the
        /// format, or JSON syntax.
        var code: JSONLineError.Code { Self.code(of: reason) }

        static func code(of reason: String) -> JSONLineError.Code {
            if reason.hasPrefix("duplicate") { return .duplicate }
            if reason.hasPrefix("label longer") || reason.hasPrefix("more than 1024 labels") || reason.hasPrefix("nesting") {
                return .limit
            }
            let values = ["missing member", "out of range", "minus sign", "'c' must", "fraction not", "exponent not", "expected integer",
                          "expected two integers", "more than two integers", "expected object or null", "'+' not allowed"]
            return values.contains { reason.contains($0) } ? .value : .syntax
        }
    }

    static let errorCases: [ErrorCase] = [
        // Shape of the line.
        ErrorCase("[]", 1, "expected '{' at start of line"),
        ErrorCase("  x", 3, "expected '{' at start of line"),
        ErrorCase("{", 2, "unexpected end of line"),
        ErrorCase(#"{"t":1,"d":2"#, 13, "unexpected end of line"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2]}"#, 29, "unexpected end of line"),
        ErrorCase(#"{"t":1,"d":2,"s":{}} x"#, 22, "unexpected data after object"),
        ErrorCase(#"{"t":1,"d":2,"s":{}}{}"#, 21, "unexpected data after object"),
        ErrorCase(#"{"d":2}"#, 7, "missing member 't'"),
        ErrorCase(#"{"t":1}"#, 7, "missing member 'd'"),
        ErrorCase("{}", 2, "missing member 't'"),
        ErrorCase(#"{"t" 1,"d":2}"#, 6, "expected ':' after member name"),
        ErrorCase(#"{"t":1,"d":2,}"#, 14, "expected member name"),
        ErrorCase(#"{t:1}"#, 2, "expected member name"),
        ErrorCase(#"{"t":1,"d":2 "s":{}}"#, 14, "expected ',' or '}' after member"),
        ErrorCase(#"{"t":12a,"d":2}"#, 8, "expected ',' or '}' after member"),
        // Duplicates.
        ErrorCase(#"{"t":1,"t":1,"d":2}"#, 8, "duplicate member 't'"),
        ErrorCase(#"{"t":1,"d":2,"d":2}"#, 14, "duplicate member 'd'"),
        ErrorCase(#"{"t":1,"d":2,"c":0,"c":0}"#, 20, "duplicate member 'c'"),
        ErrorCase(#"{"t":1,"d":2,"s":null,"\u0073":{}}"#, 23, "duplicate member 's'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2],"8":[3,4]}}"#, 29, "duplicate label in 's'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"é":[1,2],"\u00e9":[3,4]}}"#, 30, "duplicate label in 's'"),
        // Names that fold to the same member are duplicates too: Go would
        // keep the last t, d or c and merge the maps of s.
        ErrorCase(#"{"t":1,"T":1,"d":2}"#, 8, "duplicate member 't'"),
        ErrorCase(#"{"T":99,"t":1,"d":2,"s":{"8":[3,4]}}"#, 9, "duplicate member 't'"),
        ErrorCase(#"{"\u0054":1,"\u0074":1,"d":2}"#, 13, "duplicate member 't'"),
        ErrorCase(#"{"t":1,"d":2,"D":2}"#, 14, "duplicate member 'd'"),
        ErrorCase(#"{"t":1,"d":2,"c":1,"C":0}"#, 20, "duplicate member 'c'"),
        ErrorCase(#"{"t":1,"d":2,"C":1,"\u0063":null}"#, 20, "duplicate member 'c'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"a":[1,2]},"S":{"b":[3,4]}}"#, 30, "duplicate member 's'"),
        ErrorCase(#"{"t":1,"d":2,"S":{"a":[1,2]},"\u0053":{"b":[3,4]}}"#, 30, "duplicate member 's'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"a":[1,2]},"ſ":null}"#, 30, "duplicate member 's'"),
        ErrorCase(#"{"t":1,"d":2,"ſ":{},"\u017F":{}}"#, 22, "duplicate member 's'"),
        // Integers t and d.
        ErrorCase(#"{"t":1.5,"d":2}"#, 7, "fraction not allowed in integer 't'"),
        ErrorCase(#"{"t":-0.0,"d":2}"#, 8, "fraction not allowed in integer 't'"),
        ErrorCase(#"{"t":1,"d":1e3}"#, 13, "exponent not allowed in integer 'd'"),
        ErrorCase(#"{"t":1,"d":1E3}"#, 13, "exponent not allowed in integer 'd'"),
        ErrorCase(#"{"t":01,"d":2}"#, 7, "leading zero in number"),
        ErrorCase(#"{"t":-01,"d":2}"#, 8, "leading zero in number"),
        ErrorCase(#"{"t":+1,"d":2}"#, 6, "'+' not allowed in number"),
        ErrorCase(#"{"t":-,"d":2}"#, 7, "expected digit in number"),
        ErrorCase(#"{"t":"1","d":2}"#, 6, "expected integer for 't'"),
        ErrorCase(#"{"t":null,"d":2}"#, 6, "expected integer for 't'"),
        ErrorCase(#"{"t":9223372036854775808,"d":2}"#, 6, "'t' out of range for int64"),
        ErrorCase(#"{"t":-9223372036854775809,"d":2}"#, 6, "'t' out of range for int64"),
        ErrorCase(#"{"t":1,"d":99999999999999999999999}"#, 12, "'d' out of range for int64"),
        // c.
        ErrorCase(#"{"t":1,"d":2,"c":2}"#, 18, "'c' must be 0, 1 or null"),
        ErrorCase(#"{"t":1,"d":2,"c":-1}"#, 18, "'c' must be 0, 1 or null"),
        ErrorCase(#"{"t":1,"d":2,"c":true}"#, 18, "'c' must be 0, 1 or null"),
        ErrorCase(#"{"t":1,"d":2,"c":"1"}"#, 18, "'c' must be 0, 1 or null"),
        ErrorCase(#"{"t":1,"d":2,"c":18446744073709551617}"#, 18, "'c' must be 0, 1 or null"),
        ErrorCase(#"{"t":1,"d":2,"c":1.0}"#, 19, "fraction not allowed in integer 'c'"),
        // s.
        ErrorCase(#"{"t":1,"d":2,"s":[]}"#, 18, "expected object or null for 's'"),
        ErrorCase(#"{"t":1,"d":2,"s":nul}"#, 21, "invalid literal"),
        ErrorCase(#"{"t":1,"d":2,"s":{8:[1,2]}}"#, 19, "expected label"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2],}}"#, 29, "expected label"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8" [1,2]}}"#, 23, "expected ':' after label"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":null}}"#, 23, "expected '[' for label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":{}}}"#, 23, "expected '[' for label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[]}}"#, 24, "expected integer for 'tx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1]}}"#, 25, "expected two integers in label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1 2]}}"#, 26, "expected ',' in label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2,3]}}"#, 27, "more than two integers in label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2}}"#, 27, "expected ']' after label counts"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,"2"]}}"#, 26, "expected integer for 'rx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,-2]}}"#, 26, "'rx' out of range for uint64"),
        // Go's ParseUint takes no sign, so json.Unmarshal fails on -0 here.
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[-0,4]}}"#, 24, "minus sign not allowed in unsigned 'tx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,-0]}}"#, 26, "minus sign not allowed in unsigned 'rx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[18446744073709551616,0]}}"#, 24, "'tx' out of range for uint64"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1.0,0]}}"#, 25, "fraction not allowed in integer 'tx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2e0]}}"#, 27, "exponent not allowed in integer 'rx'"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8":[1,2] "9":[1,2]}}"#, 29, "expected ',' or '}' in 's'"),
        // Unknown members.
        ErrorCase(#"{"t":1,"d":2,"x":tru}"#, 21, "invalid literal"),
        ErrorCase(#"{"t":1,"d":2,"x":nul"#, 21, "unexpected end of line"),
        ErrorCase(#"{"t":1,"d":2,"x":True}"#, 18, "expected value"),
        ErrorCase(#"{"t":1,"d":2,"x":[1,]}"#, 21, "expected value"),
        ErrorCase(#"{"t":1,"d":2,"x":[}"#, 19, "expected value"),
        ErrorCase(#"{"t":1,"d":2,"x":}"#, 18, "expected value"),
        ErrorCase(#"{"t":1,"d":2,"x":[1 2]}"#, 21, "expected ',' or ']' in array"),
        ErrorCase(#"{"t":1,"d":2,"x":{"a":1]}"#, 24, "expected ',' or '}' in object"),
        ErrorCase(#"{"t":1,"d":2,"x":{"a" 1}}"#, 23, "expected ':' after member name"),
        ErrorCase(#"{"t":1,"d":2,"x":{a:1}}"#, 19, "expected member name"),
        ErrorCase(#"{"t":1,"d":2,"x":{"a":1,}}"#, 25, "expected member name"),
        ErrorCase(#"{"t":1,"d":2,"x":01}"#, 19, "leading zero in number"),
        ErrorCase(#"{"t":1,"d":2,"x":1.}"#, 20, "expected digit after '.'"),
        ErrorCase(#"{"t":1,"d":2,"x":.5}"#, 18, "expected value"),
        ErrorCase(#"{"t":1,"d":2,"x":1e}"#, 20, "expected digit in exponent"),
        ErrorCase(#"{"t":1,"d":2,"x":1e+}"#, 21, "expected digit in exponent"),
        ErrorCase(#"{"t":1,"d":2,"x":-a}"#, 19, "expected digit in number"),
        ErrorCase(#"{"t":1,"d":2,"x":+1}"#, 18, "expected value"),
        // Strings.
        ErrorCase(#"{"t":1,"d":2,"x":"a\qb"}"#, 21, "invalid escape in string"),
        ErrorCase(#"{"t":1,"d":2,"x":"a\'b"}"#, 21, "invalid escape in string"),
        ErrorCase(#"{"t":1,"d":2,"x":"\u12g4"}"#, 23, "invalid hex digit in \\u escape"),
        ErrorCase(#"{"t":1,"d":2,"s":{"\uD83D\uDE0":[1,2]}}"#, 31, "invalid hex digit in \\u escape"),
        ErrorCase(#"{"t":1,"d":2,"x":"\u"#, 21, "unterminated string"),
        ErrorCase(#"{"t":1,"d":2,"x":"\"#, 20, "unterminated string"),
        ErrorCase(#"{"t":1,"d":2,"x":"abc"#, 22, "unterminated string"),
        ErrorCase(#"{"t":1,"d":2,"s":{"8"#, 21, "unterminated string"),
        ErrorCase("{\"t\":1,\"d\":2,\"x\":\"a\tb\"}", 20, "control character in string"),
        ErrorCase("{\"t\":1,\"d\":2,\"s\":{\"a\nb\":[1,2]}}", 21, "control character in string"),
        ErrorCase(bytes: Array(#"{"t":1,"d":2,"#.utf8) + [0x22, 0x00, 0x22] + Array(#":1}"#.utf8), 15, "control character in string"),
        ErrorCase(#"{"\u0074\x":1}"#, 10, "invalid escape in string"),
        // Nesting.
        ErrorCase("{\"t\":1,\"d\":2,\"x\":" + String(repeating: "[", count: 128) + String(repeating: "]", count: 128) + "}",
                  145, "nesting deeper than 128"),
        ErrorCase("{\"t\":1,\"d\":2,\"x\":" + String(repeating: "{\"a\":", count: 200), 18 + 127 * 5, "nesting deeper than 128"),
    ]

    @Test(arguments: errorCases)
    func badLineFailsAtExactColumn(_ row: ErrorCase) {
        #expect(throws: JSONLineError(row.code, line: 42, column: row.column, reason: row.reason)) {
            try parser.parse(row.line, lineNumber: 42)
        }
    }

    @Test func errorDescriptionNamesLineAndColumn() {
        let error = JSONLineError(line: 7, column: 12, reason: "expected ':' after member name")
        #expect(error.description == "line 7, column 12: expected ':' after member name")
    }

    @Test func hugeNestingIsAnErrorNotACrash() {
        let line = "{\"t\":1,\"d\":2,\"x\":" + String(repeating: "[", count: 100_000)
        #expect(throws: JSONLineError(.limit, line: 1, column: 145, reason: "nesting deeper than 128")) {
            try parse(line)
        }
    }

    // MARK: Limits

    private func line(label body: String) -> String {
        "{\"t\":1,\"d\":2,\"s\":{\"" + body + "\":[1,2]}}"
    }

    @Test func labelOfMaximumLengthIsAccepted() throws {
        let event = try parse(line(label: String(repeating: "a", count: FormatLimits.maxLabelBytes)))
        #expect(event?.counts.first?.label.bytes.count == FormatLimits.maxLabelBytes)
        // The limit is on decoded bytes: 1022 + "é" (two bytes, six escaped) fits.
        let escaped = try parse(line(label: String(repeating: "a", count: 1022) + #"\u00e9"#))
        #expect(escaped?.counts.first?.label.bytes.count == 1024)
    }

    @Test func labelOverMaximumLengthIsAnError() {
        let reason = "label longer than \(FormatLimits.maxLabelBytes) bytes"
        #expect(throws: JSONLineError(.limit, line: 1, column: 19, reason: reason)) {
            try parse(line(label: String(repeating: "a", count: FormatLimits.maxLabelBytes + 1)))
        }
        #expect(throws: JSONLineError(.limit, line: 1, column: 19, reason: reason)) {
            try parse(line(label: String(repeating: "a", count: 1023) + #"\u00e9"#))
        }
        // One invalid byte decodes to three.
        let bytes = Array(#"{"t":1,"d":2,"s":{""#.utf8) + [UInt8](repeating: 0x61, count: 1022) + [0xFF]
            + Array(#"":[1,2]}}"#.utf8)
        #expect(throws: JSONLineError(.limit, line: 1, column: 19, reason: reason)) {
            try parse(bytes: bytes)
        }
    }

    private func line(labelCount: Int) -> (String, [Int]) {
        var text = #"{"t":1,"d":2,"s":{"#
        var columns: [Int] = []
        for index in 0..<labelCount {
            if index > 0 { text += "," }
            columns.append(text.utf8.count + 1)
            text += "\"\(index)\":[\(index),1]"
        }
        return (text + "}}", columns)
    }

    @Test func maximumLabelCountIsAccepted() throws {
        let (text, _) = line(labelCount: FormatLimits.maxLabelsPerEvent)
        let event = try parse(text)
        #expect(event?.counts.count == FormatLimits.maxLabelsPerEvent)
        #expect(event?.counts.last == LabelCounts(label: Label("1023"), tx: 1023, rx: 1))
    }

    @Test func tooManyLabelsIsAnError() {
        let (text, columns) = line(labelCount: FormatLimits.maxLabelsPerEvent + 1)
        #expect(throws: JSONLineError(.limit, line: 1, column: columns[1024], reason: "more than 1024 labels")) {
            try parse(text)
        }
    }

    @Test func duplicateLabelFoundAmongManyLabels() {
        var (text, columns) = line(labelCount: 40)
        text.removeLast(2)
        let column = text.utf8.count + 2
        text += #","17":[0,0]}}"#
        #expect(columns.count == 40)
        #expect(throws: JSONLineError(.duplicate, line: 1, column: column, reason: "duplicate label in 's'")) {
            try parse(text)
        }
    }

    // MARK: Round trips

    @Test func randomEventsRoundTrip() throws {
        var random = TestRandom(seed: 0x5eed)
        for round in 0..<3000 {
            let event = Self.randomEvent(&random, round: round)
            let canonical = CanonicalJSON.line(for: event)
            let body = Array(canonical.dropLast())
            let parsed = try #require(try parser.parse(body, lineNumber: round + 1))
            var sorted = event
            sorted.counts.sort { $0.label < $1.label }
            #expect(parsed == sorted)
            #expect(CanonicalJSON.line(for: parsed) == canonical)
        }
    }

    @Test func parsingIntoOneReusedEventMatchesParsingEachLineAlone() throws {
        // Random events (some with 40 labels, so more than the interned
        // labels), tolerant lines, blank lines and bad lines, interleaved.
        var random = TestRandom(seed: 0xC0FFEE)
        var lines: [[UInt8]] = []
        for round in 0..<2000 {
            switch round % 10 {
            case 3: lines.append(Array(Self.tolerantCases[round % Self.tolerantCases.count].line.utf8))
            case 5: lines.append(Self.errorCases[round % Self.errorCases.count].line)
            case 7: lines.append(Array(" \t".utf8))
            default: lines.append(Array(CanonicalJSON.line(for: Self.randomEvent(&random, round: round)).dropLast()))
            }
        }
        var reusing = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        var errors = 0
        for (number, line) in lines.enumerated() {
            let alone: Result<Event?, JSONLineError> = Result { () throws(JSONLineError) -> Event? in
                try parser.parse(line, lineNumber: number + 1)
            }
            let reused: Result<Bool, JSONLineError> = line.withUnsafeBytes { bytes in
                Result { () throws(JSONLineError) -> Bool in
                    try reusing.parse(bytes, lineNumber: number + 1, into: &event)
                }
            }
            switch (alone, reused) {
            case (.success(let expected?), .success(true)):
                #expect(event == expected, "line \(number + 1)")
            case (.success(nil), .success(false)):
                #expect(event.counts.isEmpty)
            case (.failure(let expected), .failure(let error)):
                #expect(error == expected)
                errors += 1
            default:
                Issue.record("line \(number + 1): alone \(alone), reusing \(reused)")
            }
        }
        #expect(errors == 200)
    }

    @Test func arbitraryByteLabelsCanonicaliseInOnePass() throws {
        // Invalid UTF-8 is lossy (each bad byte becomes U+FFFD), but after one
        // pass through the parser the canonical line is a fixed point.
        var random = TestRandom(seed: 99)
        for round in 0..<500 {
            // A distinct ASCII prefix keeps labels distinct after decoding.
            let labels = (0..<Int(random.next() % 5)).map { index in
                Array("\(index):".utf8) + (0..<Int(random.next() % 12)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            let event = Event(time: 1, duration: 2, counts: labels.map { LabelCounts(label: Label(bytes: $0), tx: 1, rx: 2) })
            let first = CanonicalJSON.line(for: event)
            let parsed = try #require(try parser.parse(Array(first.dropLast()), lineNumber: round + 1))
            let second = CanonicalJSON.line(for: parsed)
            let reparsed = try #require(try parser.parse(Array(second.dropLast()), lineNumber: round + 1))
            #expect(CanonicalJSON.line(for: reparsed) == second)
            #expect(parsed.counts.count == event.counts.count)
        }
    }

    @Test func tolerantLinesCanonicaliseToGoOutput() throws {
        let event = try #require(try parse(
            #"{ "logtail" : {"proc_seq":1}, "s" : {"b":[1,2], "\u003c":[3,4], "a\/":[5,6]}, "c" : 1, "d" : 7, "t" : -8 }"# + "\r"))
        #expect(String(decoding: CanonicalJSON.line(for: event), as: UTF8.self)
            == "{\"t\":-8,\"d\":7,\"c\":1,\"s\":{\"\\u003c\":[3,4],\"a/\":[5,6],\"b\":[1,2]}}\n")
    }

    @Test func mutatedLinesNeverTrap() {
        let seedLine = Array(#"{"logtail":{"a":[1.5e3,true,null,"\ud83d\ude00"]},"t":-1,"d":9223372036854775807,"c":1,"s":{"é\n":[1,18446744073709551615],"\u003c":[0,0]}}"#.utf8)
        var random = TestRandom(seed: 7)
        var accepted = 0
        // Every prefix, then random byte edits.
        for length in 0...seedLine.count {
            if (try? parser.parse(Array(seedLine[..<length]), lineNumber: 1)) != nil { accepted += 1 }
        }
        let interesting: [UInt8] = Array(#"{}[],:"\-+.eE0123456789tfnu "#.utf8) + [0x00, 0x80, 0xC3, 0xED, 0xFF]
        for _ in 0..<5000 {
            var bytes = seedLine
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count))
                let byte = interesting[Int(random.next() % UInt64(interesting.count))]
                switch random.next() % 3 {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: bytes.remove(at: position)
                }
            }
            if (try? parser.parse(bytes, lineNumber: 1)) != nil { accepted += 1 }
        }
        #expect(accepted > 0)
    }

    // MARK: Random events

    static let oddLabels: [String] = [
        "", "8", "10", "2", "Z", "a", "é", "\"", "\\", "<>&", "a<b>&c", "\u{2028}", "\u{2029}", "\u{7F}",
        "\u{0}", "\u{1F}", "\n\r\t\u{8}\u{C}", "😀", "\u{10FFFF}", "\u{FFFD}", "/", "€uro", "\u{D7FF}\u{E000}",
    ]

    static let extremeSigned: [Int64] = [.min, .min + 1, -1, 0, 1, 9, 10, 99, 100, .max - 1, .max, 1_764_288_339_865]
    static let extremeUnsigned: [UInt64] = [0, 1, 9, 10, 99, 100, 148, UInt64(Int64.max), .max - 1, .max]

    static func randomEvent(_ random: inout TestRandom, round: Int) -> Event {
        func signed() -> Int64 {
            random.next() % 2 == 0
                ? extremeSigned[Int(random.next() % UInt64(extremeSigned.count))]
                : Int64(bitPattern: random.next()) >> (random.next() % 64)
        }
        func unsigned() -> UInt64 {
            random.next() % 2 == 0
                ? extremeUnsigned[Int(random.next() % UInt64(extremeUnsigned.count))]
                : random.next() >> (random.next() % 64)
        }
        var labels: Set<[UInt8]> = []
        let labelCount = round % 97 == 0 ? 40 : Int(random.next() % 7)
        for _ in 0..<labelCount {
            switch random.next() % 4 {
            case 0:
                labels.insert(Array(oddLabels[Int(random.next() % UInt64(oddLabels.count))].utf8))
            case 1:
                labels.insert(Array(String(random.next() % 20).utf8))
            case 2:
                labels.insert(randomUTF8(&random))
            default:
                if random.next() % 8 == 0 {
                    // Exactly 1024 bytes, ending in a multi-byte scalar.
                    labels.insert([UInt8](repeating: 0x3C, count: 1020) + Array("😀".utf8))
                } else {
                    labels.insert(randomUTF8(&random))
                }
            }
        }
        let counts = labels.map { LabelCounts(label: Label(bytes: $0), tx: unsigned(), rx: unsigned()) }
        return Event(time: signed(), duration: signed(), isCellular: random.next() % 2 == 0, counts: counts)
    }

    /// A short valid UTF-8 string over scalars that exercise every escaping rule.
    static func randomUTF8(_ random: inout TestRandom) -> [UInt8] {
        let pools: [ClosedRange<UInt32>] = [
            0x00...0x7F, 0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x2026...0x202A, 0x10000...0x10FFFF,
        ]
        var text = ""
        for _ in 0..<Int(random.next() % 10) {
            let pool = pools[Int(random.next() % UInt64(pools.count))]
            let value = pool.lowerBound + UInt32(random.next() % UInt64(pool.upperBound - pool.lowerBound + 1))
            if let scalar = Unicode.Scalar(value) {
                text.unicodeScalars.append(scalar)
            }
        }
        return Array(text.utf8)
    }
}
