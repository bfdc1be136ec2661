import Foundation
import SockStatAnalysis
import SockStatFormat
import Testing

@Suite struct LabelNamesTests {
    @Test func theTailscalePresetNamesLabels0To12() {
        let names = LabelNames.tailscale
        #expect(names.names.count == 13)
        #expect(names.name(for: Label("0")) == "ControlClientAuto")
        #expect(names.name(for: Label("8")) == "MagicsockConnUDP4")
        #expect(names.name(for: Label("12")) == "DNSForwarderTCP")
        #expect(names.name(for: Label("13")) == nil)
        #expect(LabelNames.presets["tailscale"] == names)
    }

    @Test func aFileMapsLabelBytesToNames() throws {
        let file = Array("# comment\n\n8\tMagicsock v4\r\nwlan0\tWi-Fi\n\tthe empty label\n".utf8) + [0xFF, 0x09] + Array("odd\n".utf8)
        let names = try LabelNames(parsing: file)
        #expect(names.names == [Label("8"): "Magicsock v4", Label("wlan0"): "Wi-Fi", Label(""): "the empty label",
                                Label(bytes: [0xFF]): "odd"])
    }

    @Test(arguments: [
        ("a\tA\nb\n", 2, "found no TAB"),
        ("a\t\n", 1, "empty"),
        ("# x\na\tA\na\tB\n", 3, "named twice"),
        ("a\tA\u{7}\n", 1, "control character"),
    ])
    func aMalformedFileNamesItsLine(text: String, line: Int, reason: String) {
        #expect {
            try LabelNames(parsing: Array(text.utf8))
        } throws: { error in
            guard let error = error as? LabelNamesError else { return false }
            return error.line == line && error.description.hasPrefix("line \(line): ") && error.reason.contains(reason)
        }
    }

    @Test func aJSONObjectFileMapsLabelsToNames() throws {
        let file = Array(#"  {"8": "Magicsock v4", "wlan0":"Wi-Fi \u00e9\ud83d\ude00", "":"empty", "a\tb":"tab\/slash"}"#.utf8) + [0x0A]
        let names = try LabelNames(parsing: file)
        #expect(names.names == [Label("8"): "Magicsock v4", Label("wlan0"): "Wi-Fi é😀", Label(""): "empty",
                                Label("a\tb"): "tab/slash"])
        #expect(try LabelNames(parsing: Array(" {}\n".utf8)).names.isEmpty)
    }

    @Test(arguments: [
        ("{\n\"a\": \"A\",\n\"a\": \"B\"\n}", 3, "named twice"),
        ("{\"a\": 1}", 1, "a name"),
        ("{\"a\": \"A\",}", 1, "a label"),
        ("{\n\"a\": \"A\"\n", 3, "end of the file"),
        ("{\"a\": \"A\"} x", 1, "after the object"),
        ("{\"a\": \"\\q\"}", 1, "unknown escape"),
        ("{\"a\": \"\\ud800\"}", 1, "surrogate"),
        ("{\"a\": \"\"}", 1, "empty"),
        ("{\"a\": \"\\u0007\"}", 1, "control character"),
    ] as [(String, Int, String)])
    func aMalformedJSONFileNamesItsLine(text: String, line: Int, reason: String) {
        #expect {
            try LabelNames(parsing: Array(text.utf8))
        } throws: { error in
            guard let error = error as? LabelNamesError else { return false }
            return error.line == line && error.reason.contains(reason)
        }
    }

    @Test func aNameOfInvalidUTF8IsRefused() {
        #expect(throws: LabelNamesError.self) { try LabelNames(parsing: Array("a\t".utf8) + [0xC3, 0x28, 0x0A]) }
    }
}

@Suite struct LabelTextTests {
    @Test(arguments: [
        (Array("8".utf8), "8"),
        (Array("é ü 漢".utf8), "é ü 漢"),
        (Array("a\\b".utf8), #"a\\b"#),
        (Array("\t\n\r".utf8), #"\t\n\r"#),
        ([0x1B] + Array("[31m".utf8), #"\u{001B}[31m"#),
        (Array("\u{202E}evil".utf8), #"\u{202E}evil"#),
        ([0x7F] as [UInt8], #"\u{007F}"#),
        ([0xFF, 0x41], #"\xFFA"#),
        ([0xC3], #"\xC3"#),
        ([0xE2, 0x82, 0x41], #"\xE2\x82A"#),
        ([0xED, 0xA0, 0x80], #"\xED\xA0\x80"#),  // a surrogate, not UTF-8
        ([] as [UInt8], #""""#),
    ] as [([UInt8], String)])
    func labelsAreShownSafely(bytes: [UInt8], shown: String) {
        let text = LabelText.display(bytes)
        #expect(text == shown)
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }
}

@Suite struct UnitsAndTimesTests {
    @Test(arguments: [
        (UInt64(0), "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"), (10 * 1024, "10.0 KiB"),
        (1_023_000, "999 KiB"), (1_024_000, "0.98 MiB"), (1_048_064, "1.00 MiB"), (1 << 20, "1.00 MiB"), (150 << 30, "150 GiB"), (UInt64.max, "16.0 EiB"),
    ] as [(UInt64, String)])
    func bytesInBinaryUnits(bytes: UInt64, shown: String) {
        #expect(HumanUnits.bytes(ByteTotal(bytes)) == shown)
    }

    @Test(arguments: [
        ("Z", Int64(0)), ("+00:00", 0), ("+01:00", 3_600_000), ("-05:30", -19_800_000), ("+0530", 19_800_000),
        ("+14", 50_400_000), ("+18:00", 64_800_000),
    ] as [(String, Int64)])
    func offsetsParse(text: String, milliseconds: Int64) {
        #expect(ISOTime.parseOffset(text) == milliseconds)
        #expect(ISOTime.parseOffset(ISOTime.offsetSuffix(milliseconds)) == milliseconds)
    }

    @Test(arguments: ["", "01:00", "+1:00", "+18:01", "+24:00", "+01:60", "+01:00:00", "UTC", "+ab:cd"])
    func badOffsetsAreRefused(text: String) {
        #expect(ISOTime.parseOffset(text) == nil)
    }

    /// Against Foundation's formatter, over a wide spread of times.
    @Test func isoTimesMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for time in stride(from: Int64(-86_400_000 * 800), to: 4_102_444_800_000, by: 86_399_937_123) {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(time) / 1000))
            let shown = ISOTime.format(time)
            let withMilliseconds = shown.contains(".") ? shown : String(shown.dropLast()) + ".000Z"
            #expect(withMilliseconds == expected)
        }
        #expect(ISOTime.format(0, offset: 3_600_000) == "1970-01-01T01:00:00+01:00")
    }
}

/// The table stays readable whatever the labels are.
@Suite struct SummaryTableTests {
    /// A 1,000-byte label (`Fixtures/unicode-labels` has one) once padded
    /// every row to its width; it is cut, and the columns still line up.
    @Test func aLongLabelOrNameIsCutAndTheColumnsStayAligned() throws {
        let long = String(repeating: "x", count: 1000)
        let events = [Event(time: 1_000, duration: 100, counts: [LabelCounts(label: Label(long), tx: 5, rx: 6),
                                                                  LabelCounts(label: Label("a"), tx: 1, rx: 2)])]
        var summary = TrafficSummary()
        for block in try decodedBlocks(events) { summary.add(block) }
        let names = try LabelNames(parsing: Array("a\t\(String(repeating: "n", count: 300))\n".utf8))
        let text = SummaryText.render(summary.figures, context: SummaryContext(source: "logs", names: names))
        let table = text.split(separator: "\n").prefix(4).map(String.init)
        let header = try #require(table.first)
        // Every row's last column ends where the header's does.
        for row in table.dropFirst().prefix(2) { #expect(row.count == header.count, "\(row)") }
        #expect(header.count <= 2 * SummaryText.widestLabel + 80)
        let cut = String(repeating: "x", count: SummaryText.widestLabel - 1) + "…"
        #expect(table[1].hasPrefix(cut + " "))
        #expect(table[2].contains(String(repeating: "n", count: SummaryText.widestLabel - 1) + "…"))
        // The JSON keeps the label whole.
        let json = String(decoding: SummaryJSON.render(summary.figures, context: SummaryContext(source: "logs")), as: UTF8.self)
        #expect(json.contains(#""\#(long)":"#))
    }
}

extension SummaryTableTests {
    /// Two labels of invalid UTF-8 share the JSON key "\ufffd" (as canonical
    /// JSON writes them); `label_hex` tells them apart, and the table shows their bytes.
    @Test func invalidUTF8LabelsAreToldApart() throws {
        let events = [Event(time: 1_000, duration: 100, counts: [LabelCounts(label: Label(bytes: [0xFF]), tx: 5, rx: 6),
                                                                  LabelCounts(label: Label(bytes: [0x61, 0xFE]), tx: 1, rx: 2)])]
        var summary = TrafficSummary()
        for block in try decodedBlocks(events) { summary.add(block) }
        let json = String(decoding: SummaryJSON.render(summary.figures, context: SummaryContext(source: "logs")), as: UTF8.self)
        #expect(json.contains(#""a\ufffd":{"label_hex":"61fe","tx":1,"rx":2,"#), "\(json)")
        #expect(json.contains(#""\ufffd":{"label_hex":"ff","tx":5,"rx":6,"#), "\(json)")
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
        let text = SummaryText.render(summary.figures, context: SummaryContext(source: "logs"))
        #expect(text.contains("\n\\xFF ") && text.contains("\na\\xFE "), "\(text)")
    }
}
