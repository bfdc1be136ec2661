import Testing

import SockStatFormat
import TestSupport

/// Our JSON-lines parser against Go's own `encoding/json` filling the seed's
/// struct (`Tests/GoOracle`): every line we accept, Go reads without error
/// into the same event. Refusing a line is always allowed; accepting it with
/// another meaning, or one Go refuses, is not.
@Suite(.enabled(if: GoOracle.shouldRun))
struct GoOracleTests {
    /// A line and whether we accept it.
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var line: [UInt8]
        var accepted: Bool
        var testDescription: String { name }

        init(_ name: String, _ line: String, accepted: Bool) {
            self.init(name, bytes: Array(line.utf8), accepted: accepted)
        }

        init(_ name: String, bytes: [UInt8], accepted: Bool) {
            self.name = name
            self.line = bytes
            self.accepted = accepted
        }
    }

    static let table: [Row] = [
        // Accepted: what Go reads the same way.
        Row("canonical", #"{"t":1764288339865,"d":100,"c":1,"s":{"2":[148,148],"8":[1024,96]}}"#, accepted: true),
        Row("S is s", #"{"t":1,"d":2,"S":{"a":[1,2]}}"#, accepted: true),
        Row("every name upper case", #"{"T":1,"D":2,"C":1,"S":{"a":[1,2]}}"#, accepted: true),
        Row("escaped upper-case names", #"{"\u0054":1,"\u0044":2,"\u0043":1,"\u0053":{"a":[1,2]}}"#, accepted: true),
        Row("escaped lower-case names", #"{"\u0074":1,"\u0064":2,"\u0063":1,"\u0073":{"a":[1,2]}}"#, accepted: true),
        Row("long s raw", #"{"t":1,"d":2,"ſ":{"a":[1,2]}}"#, accepted: true),
        Row("long s escaped", #"{"t":1,"d":2,"\u017f":{"a":[1,2]},"c":1}"#, accepted: true),
        Row("long s escaped upper-case hex", #"{"\u017F":{"a":[1,2]},"t":1,"d":2}"#, accepted: true),
        Row("names no field matches",
            #"{"t":1,"d":2,"tt":9,"K":9,"Ś":9,"ẞ":9,"ß":9,"ｓ":9,"s ":9,"s\u0000":9,"ſſ":9,"\ud800":9,"":9,"_s":9,"t-":9}"#, accepted: true),
        Row("invalid UTF-8 names", bytes: Array(#"{"t":1,"d":2,""#.utf8) + [0xFF] + Array(#"":9,""#.utf8) + [0xC5]
                + Array(#"":9,""#.utf8) + [0xC1, 0xB3] + Array(#"":{"x":[1,1]},""#.utf8) + [0xC5, 0xBF] + Array(#"":{"a":[1,2]}}"#.utf8),
            accepted: true),
        Row("whitespace everywhere", " \t{ \"T\" :\t1 ,\r\"d\"\n: 2 , \"S\" : { \"a\" : [ 1 , 2 ] , \"b\":[3 ,4] } } \r", accepted: true),
        Row("logtail metadata first, its own t and s ignored",
            #"{"logtail":{"client_time":"2026-11-28T01:02:03.456789Z","proc_id":7,"proc_seq":42,"t":9,"s":{"x":[9,9]}},"t":1,"d":2,"s":{"8":[1,2]}}"#,
            accepted: true),
        Row("unknown nested members",
            #"{"t":1,"x":[[],{},[1,[2,{"S":[{"T":null}]}]],{"k":{"l":[1.5e300,-0.0,"\ud83d"]}}],"d":2,"z":true}"#, accepted: true),
        Row("invalid UTF-8 labels", bytes: Array(#"{"t":1,"d":2,"s":{""#.utf8) + [0xFF] + Array(#"":[1,2],"a"#.utf8) + [0xC3]
                + Array(#"":[3,4],""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"":[5,6],""#.utf8) + [0xF4, 0x90, 0x80, 0x80]
                + Array(#"":[7,8]}}"#.utf8),
            accepted: true),
        Row("escapes and surrogates in labels",
            #"{"t":1,"d":2,"s":{"\u00e9\u20ac":[1,2],"\ud83d\ude00":[3,4],"\ud800":[5,6],"\ude00\ud83d":[7,8],"\ud83dA":[9,9],"\u003c\u0026\u003e":[1,1],"\u2028\u2029":[2,2],"\u0000\u001f":[3,3],"\"\\\/\b\f\n\r\t":[4,4],"\uDBFF\uDFFF":[5,5]}}"#,
            accepted: true),
        Row("labels differing in case are different labels", #"{"t":1,"d":2,"s":{"A":[1,2],"a":[3,4]}}"#, accepted: true),
        Row("int64 and uint64 limits", #"{"t":-9223372036854775808,"d":9223372036854775807,"s":{"":[18446744073709551615,0]}}"#,
            accepted: true),
        Row("minus zero where signed", #"{"t":-0,"d":-0,"c":-0}"#, accepted: true),
        Row("s null", #"{"t":1,"d":2,"s":null}"#, accepted: true),
        Row("s empty", #"{"t":1,"d":2,"s":{}}"#, accepted: true),
        Row("s and c missing", #"{"d":2,"t":1}"#, accepted: true),
        Row("c null", #"{"t":1,"d":2,"c":null}"#, accepted: true),
        Row("c zero", #"{"t":1,"d":2,"c":0}"#, accepted: true),
        Row("127 levels of unknown nesting", #"{"t":1,"d":2,"x":"# + String(repeating: "[", count: 127) + String(repeating: "]", count: 127) + "}",
            accepted: true),
        // Refused: Go reads these, but into something else or with an error.
        Row("s twice, folded (Go merges)", #"{"t":1,"d":2,"s":{"a":[1,2]},"S":{"b":[3,4]}}"#, accepted: false),
        Row("s twice (Go merges)", #"{"t":1,"d":2,"s":{"a":[1,2]},"s":{"b":[3,4]}}"#, accepted: false),
        Row("s then long s null (Go drops the map)", #"{"t":1,"d":2,"s":{"a":[1,2]},"ſ":null}"#, accepted: false),
        Row("t twice (Go keeps the last)", #"{"t":1,"t":5,"d":2}"#, accepted: false),
        Row("t and T (Go keeps the last)", #"{"t":1,"T":5,"d":2}"#, accepted: false),
        Row("c and C", #"{"t":1,"d":2,"c":1,"C":0}"#, accepted: false),
        Row("c and escaped C null (Go keeps 1)", #"{"t":1,"d":2,"c":1,"\u0043":null}"#, accepted: false),
        Row("duplicate label (Go keeps the last)", #"{"t":1,"d":2,"s":{"a":[1,2],"a":[3,4]}}"#, accepted: false),
        Row("duplicate label through an escape", #"{"t":1,"d":2,"s":{"\u0041":[1,2],"A":[3,4]}}"#, accepted: false),
        Row("labels equal once decoded to U+FFFD", bytes: Array(#"{"t":1,"d":2,"s":{""#.utf8) + [0xFF] + Array(#"":[1,2],"\ud800":[3,4]}}"#.utf8),
            accepted: false),
        Row("minus zero tx (Go: cannot unmarshal into uint64)", #"{"t":1,"d":2,"s":{"8":[-0,4]}}"#, accepted: false),
        Row("minus zero rx", #"{"t":1,"d":2,"s":{"8":[4,-0]}}"#, accepted: false),
        Row("one count (Go zero-fills)", #"{"t":1,"d":2,"s":{"a":[1]}}"#, accepted: false),
        Row("three counts (Go drops the third)", #"{"t":1,"d":2,"s":{"a":[1,2,3]}}"#, accepted: false),
        Row("null count (Go: 0)", #"{"t":1,"d":2,"s":{"a":[null,2]}}"#, accepted: false),
        Row("null counts (Go: [0,0])", #"{"t":1,"d":2,"s":{"a":null}}"#, accepted: false),
        Row("c 2 (Go keeps 2)", #"{"t":1,"d":2,"c":2}"#, accepted: false),
        Row("c -1", #"{"t":1,"d":2,"c":-1}"#, accepted: false),
        Row("c true (Go: error)", #"{"t":1,"d":2,"c":true}"#, accepted: false),
        Row("t null (Go: 0)", #"{"t":null,"d":2}"#, accepted: false),
        Row("t missing (Go: 0)", #"{"d":2,"s":{"a":[1,2]}}"#, accepted: false),
        Row("empty object", "{}", accepted: false),
        Row("null line (Go: all zero)", "null", accepted: false),
        Row("t a string", #"{"t":"1","d":2}"#, accepted: false),
        Row("t a fraction", #"{"t":1.0,"d":2}"#, accepted: false),
        Row("t an exponent", #"{"t":1e2,"d":2}"#, accepted: false),
        Row("t past int64", #"{"t":9223372036854775808,"d":2}"#, accepted: false),
        Row("d below int64", #"{"t":1,"d":-9223372036854775809}"#, accepted: false),
        Row("tx past uint64", #"{"t":1,"d":2,"s":{"a":[18446744073709551616,0]}}"#, accepted: false),
        Row("negative rx", #"{"t":1,"d":2,"s":{"a":[1,-1]}}"#, accepted: false),
        Row("s an array", #"{"t":1,"d":2,"s":[]}"#, accepted: false),
        Row("data after the object", #"{"t":1,"d":2,"x":1}x"#, accepted: false),
        Row("200 levels of unknown nesting (our bound is 128)",
            #"{"t":1,"d":2,"x":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}", accepted: false),
    ]

    /// Go's answers to the table, asked once: per build, by line.
    static let tableAnswers = Result { () throws -> [(build: String, answers: [[UInt8]: GoOracle.Answer])] in
        try GoOracle.answers(to: table.map(\.line)).map { build in
            (build.build, Dictionary(zip(table.map(\.line), build.answers), uniquingKeysWith: { first, _ in first }))
        }
    }

    @Test(arguments: table)
    func tableLineMeansToUsWhatItMeansToGo(_ row: Row) throws {
        let answers = try Self.tableAnswers.get()
        let ours = Self.read(row.line)
        #expect((ours.canonical != nil) == row.accepted, "\(row.name): \(ours)")
        for (build, byLine) in answers {
            let answer = try #require(byLine[row.line])
            if let mismatch = Self.mismatch(ours, answer) {
                Issue.record("\(row.name), \(build): \(mismatch)")
            }
        }
    }

    @Test func tableCountsAreReported() throws {
        let answers = try Self.tableAnswers.get()
        #expect(Set(Self.table.map(\.line)).count == Self.table.count, "table lines are distinct")
        let accepted = Self.table.filter(\.accepted).count
        let goRead = answers.map { "\($0.build): \($0.answers.values.filter(\.succeeded).count) read without error" }
        print("Go oracle, table of \(Self.table.count) lines: \(accepted) accepted, \(Self.table.count - accepted) refused;",
              goRead.joined(separator: "; "))
        #expect(!answers.isEmpty)
    }

    // MARK: Mutated lines

    @Test func mutatedLinesMeanToUsWhatTheyMeanToGo() throws {
        var mutator = LineMutator(seed: 0x60_0AC1E)
        let lines = (0..<4000).map { _ in mutator.next() }
        let answers = try GoOracle.answers(to: lines)
        var accepted = 0, refused = 0, refusedThoughGoReadIt = 0, mismatches = 0
        for (index, line) in lines.enumerated() {
            let ours = Self.read(line)
            if ours.canonical != nil {
                accepted += 1
            } else {
                refused += 1
                if answers.allSatisfy({ $0.answers[index].succeeded }) { refusedThoughGoReadIt += 1 }
            }
            for (build, buildAnswers) in answers {
                if let mismatch = Self.mismatch(ours, buildAnswers[index]) {
                    mismatches += 1
                    if mismatches <= 20 {
                        Issue.record("line \(index + 1) \(Self.show(line)), \(build): \(mismatch)")
                    }
                }
            }
        }
        print("Go oracle, \(lines.count) mutated lines: \(accepted) accepted, \(refused) refused",
              "(\(refusedThoughGoReadIt) of them read by Go without error); \(mismatches) mismatches;",
              "builds: \(answers.map(\.build).joined(separator: ", "))")
        #expect(mismatches == 0)
        // Not vacuous: both outcomes are common.
        #expect(accepted >= lines.count / 5)
        #expect(refused >= lines.count / 5)
    }

    // MARK: Comparing

    /// What our parser made of a line, through `parse(_:lineNumber:)` and
    /// through the reusing `parse(_:lineNumber:into:)` (plain-line fast path
    /// first), which must agree.
    enum Reading: CustomStringConvertible {
        case accepted(canonical: [UInt8])
        case refused(JSONLineError)
        case blank
        case entryPointsDisagree(String)

        /// The canonical line of the accepted event.
        var canonical: [UInt8]? {
            if case .accepted(let canonical) = self { canonical } else { nil }
        }

        var description: String {
            switch self {
            case .accepted(let canonical): "accepted as " + GoOracleTests.show(canonical.dropLast())
            case .refused(let error): "refused: \(error)"
            case .blank: "blank"
            case .entryPointsDisagree(let detail): "the two entry points disagree: " + detail
            }
        }
    }

    static func read(_ line: [UInt8]) -> Reading {
        let alone: Result<Event?, JSONLineError> = Result { () throws(JSONLineError) -> Event? in
            try JSONLinesParser().parse(line, lineNumber: 1)
        }
        var reusing = JSONLinesParser()
        var event = Event(time: 7, duration: 7, counts: [LabelCounts(label: Label("stale"), tx: 7, rx: 7)])
        let reused: Result<Bool, JSONLineError> = line.withUnsafeBytes { bytes in
            Result { () throws(JSONLineError) -> Bool in try reusing.parse(bytes, lineNumber: 1, into: &event) }
        }
        switch (alone, reused) {
        case (.success(let parsed?), .success(true)) where parsed == event:
            return .accepted(canonical: CanonicalJSON.line(for: parsed))
        case (.failure(let error), .failure(let same)) where error == same:
            return .refused(error)
        case (.success(nil), .success(false)):
            return .blank
        default:
            return .entryPointsDisagree("\(alone) versus \(reused), \(event)")
        }
    }

    /// Why our reading differs from Go's answer, or nil when it may stand.
    static func mismatch(_ ours: Reading, _ go: GoOracle.Answer) -> String? {
        if case .entryPointsDisagree = ours { return ours.description }
        guard let canonical = ours.canonical else { return nil }
        guard go.succeeded else { return "we accept it (\(ours)), Go's Unmarshal refuses it" }
        // Go writes "s":null for a nil map (s null or missing) where we write
        // "s":{}: Event has no nil/empty distinction. That one difference is
        // normalized; "s" is the last member Go writes.
        var marshalled = go.marshalled
        let null = Array(#","s":null}"#.utf8)
        if marshalled.count >= null.count, Array(marshalled.suffix(null.count)) == null {
            marshalled.removeLast(null.count)
            marshalled += Array(#","s":{}}"#.utf8)
        }
        marshalled.append(UInt8(ascii: "\n"))
        guard marshalled == canonical else { return "we accept it (\(ours)), Go filled " + show(go.marshalled) }
        return nil
    }

    /// A line for messages: printable ASCII as is, other bytes as \xHH.
    static func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
    }
}

/// Lines made from canonical ones by the edits that reach the parser's edge
/// cases: names in other case, escaped or as long s; duplicated, dropped,
/// reordered and unknown members; odd numbers and counts; whitespace; and,
/// now and then, a raw byte edit.
struct LineMutator {
    private var random: TestRandom

    init(seed: UInt64) {
        random = TestRandom(seed: seed)
    }

    /// A member: its name as written (the JSON string body) and its value's text.
    private struct Member {
        var name: String
        var value: [UInt8]
    }

    private static let nameVariants: [String: [String]] = [
        "t": ["t", "T", #"\u0074"#, #"\u0054"#],
        "d": ["d", "D", #"\u0064"#, #"\u0044"#],
        "c": ["c", "C", #"\u0063"#, #"\u0043"#],
        "s": ["s", "S", #"\u0073"#, #"\u0053"#, "ſ", #"\u017f"#, #"\u017F"#],
    ]

    private static let unknownNames: [String] = [
        "x", "logtail", "tt", "K", "Ś", "ẞ", "ß", "ｓ", "s ", #"t\u0000"#, "ſſ", #"\ud800"#, "", "TS", "\u{212A}", "_s", "t-",
    ]

    private static let unknownValues: [String] = [
        "1", "-1.5e+300", "true", "null", #""a\"\u00e9\ud83d""#, "[]", "{}", #"[1,[2,{"t":3,"s":{"a":[1,2]}}]]"#,
        #"{"client_time":"2026-11-28T01:02:03Z","proc_seq":4,"S":null}"#,
    ]

    private static let signedValues: [String] = [
        "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "-9223372036854775809", "1.0", "1e3", "01", "null", #""1""#, "true", "00", "-", "1764288339865",
    ]

    private static let unsignedValues: [String] = [
        "0", "-0", "1", "-1", "18446744073709551615", "18446744073709551616", "1.5", "2E1", "null", #""2""#, "007",
    ]

    private static let cellularValues: [String] = ["0", "1", "-0", "null", "2", "-1", "true", "1.0", "1e0", #""1""#]

    private static let labels: [[UInt8]] = [
        "a", "b", "A", #"\u0041"#, "8", "é", #"\u00e9"#, #"\ud83d\ude00"#, #"\ud800"#, #"\ude00\ud83d"#, "<>&",
        #"\u003c"#, #"\u2028"#, "", #"\""#, #"\\"#, #"a\/"#, #"\t"#, "😀",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xC5, 0xBF], [0xED, 0xA0, 0x80]]

    private static let countValues: [String] = [
        "[1,2]", "[0,18446744073709551615]", "[ 3 , 4 ]", "[-0,1]", "[1,-0]", "[1]", "[1,2,3]", "[null,1]", "null",
        "[1.0,2]", "[18446744073709551616,0]", "[]", "{}", "[1,-1]",
    ]

    private mutating func pick<T>(_ pool: [T]) -> T {
        pool[Int(random.next() % UInt64(pool.count))]
    }

    private mutating func chance(_ percent: UInt64) -> Bool {
        random.next() % 100 < percent
    }

    /// Mostly a valid value, sometimes an odd one.
    private mutating func signed() -> String {
        chance(75) ? String(Int64(bitPattern: random.next()) >> (random.next() % 64)) : pick(Self.signedValues)
    }

    private mutating func unsigned() -> String {
        chance(85) ? String(random.next() >> (random.next() % 64)) : pick(Self.unsignedValues)
    }

    private mutating func stats() -> [UInt8] {
        if chance(5) { return Array(pick(["null", "{}", "[]", #""s""#]).utf8) }
        var entries: [[UInt8]] = []
        for _ in 0..<Int(random.next() % 5) {
            let label = chance(70) ? Array(String(random.next() % 50).utf8) : pick(Self.labels)
            let counts = chance(85) ? "[\(unsigned()),\(unsigned())]" : pick(Self.countValues)
            entries.append([UInt8(ascii: "\"")] + label + Array("\":\(counts)".utf8))
        }
        return [UInt8(ascii: "{")] + Array(entries.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "}")]
    }

    private mutating func value(for member: String) -> [UInt8] {
        switch member {
        case "t", "d": Array(signed().utf8)
        case "c": Array((chance(70) ? "1" : pick(Self.cellularValues)).utf8)
        default: stats()
        }
    }

    /// The next line.
    mutating func next() -> [UInt8] {
        var members: [Member] = [Member(name: "t", value: value(for: "t")), Member(name: "d", value: value(for: "d"))]
        if chance(40) { members.append(Member(name: "c", value: value(for: "c"))) }
        if chance(90) { members.append(Member(name: "s", value: value(for: "s"))) }
        for _ in 0..<Int(random.next() % 4) {
            switch random.next() % 6 {
            case 0, 1:
                // Another spelling of a known member's name.
                let index = Int(random.next() % UInt64(members.count))
                if let field = Self.field(of: members[index].name) {
                    members[index].name = pick(Self.nameVariants[field] ?? [field])
                }
            case 2:
                // A known member again, under any of its spellings.
                let field = pick(["t", "d", "c", "s"])
                members.insert(Member(name: pick(Self.nameVariants[field] ?? [field]), value: value(for: field)),
                               at: Int(random.next() % UInt64(members.count + 1)))
            case 3:
                members.insert(Member(name: pick(Self.unknownNames), value: Array(pick(Self.unknownValues).utf8)),
                               at: chance(50) ? 0 : Int(random.next() % UInt64(members.count + 1)))
            case 4:
                if members.count > 1 && chance(30) { members.remove(at: Int(random.next() % UInt64(members.count))) }
            default:
                members.shuffle(using: &random)
            }
        }
        let spaced = chance(20)
        var line: [UInt8] = []
        func space() {
            if spaced && chance(40) { line += Array(pick([" ", "\t", "\r", "\n", "  "]).utf8) }
        }
        space()
        line.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            space()
            line += Array("\"\(member.name)\"".utf8)
            space()
            line.append(UInt8(ascii: ":"))
            space()
            line += member.value
            space()
        }
        line.append(UInt8(ascii: "}"))
        space()
        if chance(5) && !line.isEmpty {
            // A raw byte edit, mostly making bad JSON.
            let position = Int(random.next() % UInt64(line.count))
            let byte = pick(Array(#"{}[],:"\-0123456789eE.ntS "#.utf8) + [0x00, 0x80, 0xC5, 0xBF, 0xFF])
            switch random.next() % 3 {
            case 0: line[position] = byte
            case 1: line.insert(byte, at: position)
            default: line.remove(at: position)
            }
        }
        return line
    }

    /// The known member a name is written for, if any (only this generator's spellings).
    private static func field(of name: String) -> String? {
        nameVariants.first { $0.value.contains(name) }?.key
    }
}
