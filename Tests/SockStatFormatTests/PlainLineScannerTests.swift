import Testing

@testable import SockStatFormat
import TestSupport

/// The fast path for plain (canonical-shaped) lines: it takes exactly the
/// lines it documents, and on every line, taken or declined, the parser
/// gives what the general parser alone gives.
@Suite struct PlainLineScannerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var line: [UInt8]
        /// Whether the fast path takes the line.
        var isPlain: Bool
        var testDescription: String { "\(isPlain ? "plain" : "declined"): \(String(decoding: line.prefix(80), as: UTF8.self))" }

        init(_ line: String, plain isPlain: Bool) {
            self.line = Array(line.utf8)
            self.isPlain = isPlain
        }

        init(bytes: [UInt8], plain isPlain: Bool) {
            self.line = bytes
            self.isPlain = isPlain
        }
    }

    static let longestLabel = String(repeating: "x", count: FormatLimits.maxLabelBytes)

    static let cases: [Case] = [
        Case(#"{"t":1764288339865,"d":100,"c":1,"s":{"2":[148,148],"8":[1024,96]}}"#, plain: true),
        Case(#"{"t":1764288339865,"d":100,"s":{"dns":[1,0]}}"#, plain: true),
        Case(#"{"t":0,"d":0,"s":{}}"#, plain: true),
        Case(#"{"t":0,"d":0,"s":{"":[0,0]}}"#, plain: true),
        Case(#"{"t":999999999999999999,"d":12345678,"s":{"a":[9999999999999999999,10000000000000000]}}"#, plain: true),
        Case(#"{"t":1,"d":2,"s":{" !#$%&'()*+,-./<>&~":[3,4],"a":[5,6],"ab":[7,8],"b":[9,0]}}"#, plain: true),
        Case(#"{"t":1,"d":2,"s":{"\#(longestLabel)":[1,1]}}"#, plain: true),
        Case(#"{"t":12345678a,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1234567812345678,"d":2,"s":{"a":[1,1]}}"#, plain: true),
        // Numbers past what the fast path sums without checks; the general
        // parser takes those in range.
        Case(#"{"t":1000000000000000000,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":9223372036854775807,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":9223372036854775808,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[18446744073709551615,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[18446744073709551616,1]}}"#, plain: false),
        Case(#"{"t":-1,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":01,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[00,1]}}"#, plain: false),
        Case(#"{"t":1.5,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1e3,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1]}}"#, plain: false),
        // Label order: out of order or repeated goes to the general parser.
        Case(#"{"t":1,"d":2,"s":{"b":[1,1],"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"ab":[1,1],"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1],"a":[2,2]}}"#, plain: false),
        // Labels that need decoding.
        Case(#"{"t":1,"d":2,"s":{"a\u003cb":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a\"":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"é":[1,1]}}"#, plain: false),
        Case(bytes: Array(#"{"t":1,"d":2,"s":{"a"#.utf8) + [0x7F] + Array(#"":[1,1]}}"#.utf8), plain: false),
        Case(bytes: Array(#"{"t":1,"d":2,"s":{"a"#.utf8) + [0x09] + Array(#"":[1,1]}}"#.utf8), plain: false),
        Case(bytes: Array(#"{"t":1,"d":2,"s":{"a"#.utf8) + [0xFF] + Array(#"":[1,1]}}"#.utf8), plain: false),
        Case(#"{"t":1,"d":2,"s":{"\#(longestLabel)y":[1,1]}}"#, plain: false),
        // Other shapes, valid or not.
        Case(#"{"t":1,"d":2,"c":0,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"c":null,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"c":10,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":null}"#, plain: false),
        Case(#"{"t":1,"d":2}"#, plain: false),
        Case(#"{"d":2,"t":1,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1]},"x":0}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1]}} "#, plain: false),
        Case(#" {"t":1,"d":2,"s":{"a":[1,1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1]}}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1]}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1],}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1, 1]}}"#, plain: false),
        Case(#"{"t":1,"d":2,"s":{"a":[1,1]}}"# + "\r", plain: false),
        Case(#"{"t":1,"d":2,"s":{"a:[1,1]}}"#, plain: false),
        Case("", plain: false),
    ]

    @Test(arguments: cases)
    func plainLinesTakeTheFastPathAndEveryLineParsesAsAlone(_ row: Case) {
        var interned: [Label] = []
        var fast = Event(time: 0, duration: 0, counts: [])
        let taken = row.line.withUnsafeBytes { PlainLineScanner.parse($0, into: &fast, interned: &interned) }
        #expect(taken == row.isPlain)
        Self.expectSameAsGeneralParser(row.line)
    }

    @Test func mostLabelsAreTakenAndOneMoreIsDeclined() {
        for count in [FormatLimits.maxLabelsPerEvent, FormatLimits.maxLabelsPerEvent + 1] {
            // Zero-padded numbers sort bytewise in numeric order.
            let members = (0..<count).map { number in
                let digits = String(number)
                return "\"" + String(repeating: "0", count: 5 - digits.count) + digits + "\":[1,2]"
            }.joined(separator: ",")
            let line = Array(#"{"t":1,"d":2,"s":{"#.utf8) + Array(members.utf8) + Array("}}".utf8)
            var interned: [Label] = []
            var fast = Event(time: 0, duration: 0, counts: [])
            let taken = line.withUnsafeBytes { PlainLineScanner.parse($0, into: &fast, interned: &interned) }
            #expect(taken == (count == FormatLimits.maxLabelsPerEvent))
            Self.expectSameAsGeneralParser(line)
        }
    }

    /// Byte edits of plain lines land on every boundary the fast path checks
    /// (digits, quotes, separators, the end); each edited line must parse,
    /// or fail, exactly as the general parser alone has it.
    @Test func editedPlainLinesParseAsAlone() {
        var random = TestRandom(seed: 0x9_1a1e)
        let seeds = Self.cases.filter(\.isPlain).map(\.line).filter { $0.count < 200 }
        let interesting: [UInt8] = Array(#"{}[],:"\-+.eE0123456789tdcsnu "#.utf8) + [0x00, 0x09, 0x7F, 0x80, 0xC3, 0xFF]
        var reusing = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                let byte = interesting[Int(random.next() % UInt64(interesting.count))]
                switch random.next() % 3 {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: if position < bytes.count { bytes.remove(at: position) }
                }
            }
            Self.expectSameAsGeneralParser(bytes, reusing: &reusing, event: &event)
        }
    }

    static func expectSameAsGeneralParser(_ line: [UInt8]) {
        var reusing = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        expectSameAsGeneralParser(line, reusing: &reusing, event: &event)
    }

    /// `parse(_:lineNumber:into:)` (fast path first) against
    /// `parse(_:lineNumber:)` (the general parser only).
    static func expectSameAsGeneralParser(_ line: [UInt8], reusing: inout JSONLinesParser, event: inout Event) {
        let alone: Result<Event?, JSONLineError> = Result { () throws(JSONLineError) -> Event? in
            try JSONLinesParser().parse(line, lineNumber: 7)
        }
        let reused: Result<Bool, JSONLineError> = line.withUnsafeBytes { bytes in
            Result { () throws(JSONLineError) -> Bool in
                try reusing.parse(bytes, lineNumber: 7, into: &event)
            }
        }
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        switch (alone, reused) {
        case (.success(let expected?), .success(true)):
            #expect(event == expected, "\(text)")
        case (.success(nil), .success(false)):
            break
        case (.failure(let expected), .failure(let error)):
            #expect(error == expected, "\(text)")
        default:
            Issue.record("\(text): alone \(alone), with the fast path \(reused)")
        }
    }
}
