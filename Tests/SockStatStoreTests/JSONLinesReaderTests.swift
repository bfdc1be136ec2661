import Foundation
import SockStatFormat
import SockStatStore
import SystemPackage
import Testing

/// The one JSON-lines reader (`encode` and `--replay`).
struct JSONLinesReaderTests {
    static func lines(_ count: Int) -> [String] {
        (0..<count).map { #"{"t":\#($0),"d":100,"s":{"wlan0":[\#($0 * 7),\#($0)]}}"# }
    }

    /// Every line comes back once, in order, with its number, whether read
    /// from memory or from a file in chunks that cut lines anywhere; a last
    /// line without "\n" counts, blank lines are blank.
    @Test(arguments: [false, true])
    func everyLineComesBackInOrderWithItsNumber(fromFile: Bool) throws {
        let text = Self.lines(20_000).joined(separator: "\n") + "\n\n   \n" + Self.lines(1)[0]
        var reader: JSONLinesReader
        let scratch = try ScratchDirectory()
        if fromFile {
            try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
            let path = scratch.path + "/lines.jsonl"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            reader = JSONLinesReader(fileDescriptor: try FileDescriptor.open(FilePath(path), .readOnly), closes: true)
        } else {
            reader = JSONLinesReader(bytes: Array(text.utf8))
        }
        defer { reader.close() }
        var event = Event(time: 0, duration: 0, counts: [])
        var parser = JSONLinesParser()
        var times: [Int64] = []
        var blanks = 0
        while let found = try reader.next(parsingWith: &parser, into: &event) {
            if found { times.append(event.time) } else { blanks += 1 }
        }
        #expect(times == (0..<20_000).map(Int64.init) + [0])
        #expect(blanks == 2)
        #expect(reader.lineNumber == 20_003)
    }

    /// An invalid line is reported with its line and column, and reading goes
    /// on after it; a line over the limit ends the input.
    @Test func anInvalidLineIsReportedAndReadingGoesOn() throws {
        let text = [Self.lines(1)[0], #"{"t":1.5,"d":1}"#, Self.lines(2)[1], String(repeating: " ", count: 200), Self.lines(1)[0]]
            .joined(separator: "\n")
        var reader = JSONLinesReader(bytes: Array(text.utf8), maxLineBytes: 100)
        var event = Event(time: 0, duration: 0, counts: [])
        var parser = JSONLinesParser()
        #expect(try reader.next(parsingWith: &parser, into: &event) == true)
        let invalid = #expect(throws: JSONLinesReadError.self) { _ = try reader.next(parsingWith: &parser, into: &event) }
        #expect(invalid?.code == .invalidLine)
        #expect(invalid?.description == "line 2, column 7: fraction not allowed in integer 't'")
        #expect(try reader.next(parsingWith: &parser, into: &event) == true)
        #expect(event.time == 1)
        let long = #expect(throws: JSONLinesReadError.self) { _ = try reader.next(parsingWith: &parser, into: &event) }
        #expect(long?.code == .lineTooLong)
        #expect(long?.line == 4)
    }
}
