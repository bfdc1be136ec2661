import Foundation
import Testing

/// The decoder in `Spec/conformance/go`, written in Go from Spec/FORMAT.md
/// alone, gives every fixture's events and exit status: the Spec suffices to
/// read the format, and the lines Go's own `encoding/json` writes for the
/// struct of section 1 are the canonical JSON of section 9.
struct GoConformanceDecoderTests {
    /// Built once per test run. Classic `encoding/json` where the toolchain
    /// has a choice: the one on v2 (the default from Go 1.27) writes invalid
    /// UTF-8 as a raw U+FFFD, not the `\ufffd` section 9 asks for
    /// (golang/go#75163); before Go 1.25 there is only the classic one.
    static let decoder: Result<URL, GoToolchain.Failure> = Result { () throws(GoToolchain.Failure) -> URL in
        let purpose = "the Go conformance decoder"
        if let classic = try GoToolchain.build("Spec/conformance/go", named: "sslogdecode-nojsonv2",
                                               experiment: "nojsonv2", purpose: purpose) {
            return classic
        }
        guard let fallback = try GoToolchain.build("Spec/conformance/go", named: "sslogdecode", purpose: purpose) else {
            throw GoToolchain.Failure(description: "go build of Spec/conformance/go gave no executable")
        }
        return fallback
    }

    static let fixtures = GoToolchain.root.appendingPathComponent("Fixtures")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: fixtures.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }()

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 30)
    }

    /// stdout and exit status, with and without `--strict`; stderr wording
    /// is not normative (section 14).
    @Test(.enabled(if: GoToolchain.shouldRun), arguments: cases)
    func decodesEveryFixtureAsRecorded(_ name: String) throws {
        let decoder = try Self.decoder.get()
        let directory = Self.fixtures.appendingPathComponent(name)
        let target = FileManager.default.fileExists(atPath: directory.appendingPathComponent("input").path) ? "input" : "input.sslog"
        for mode in ["expected", "strict"] {
            var expectedMode = mode
            if mode == "strict", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("strict.exit").path) {
                expectedMode = "expected"  // intact input: --strict changes nothing
            }
            let run = try GoToolchain.run(decoder, (mode == "strict" ? ["--strict"] : []) + [target], in: directory)
            let expectedOut = try Data(contentsOf: directory.appendingPathComponent("\(expectedMode).jsonl"))
            let expectedExit = try String(contentsOf: directory.appendingPathComponent("\(expectedMode).exit"), encoding: .utf8)
            #expect(Data(run.stdout) == expectedOut, "\(name) \(mode): stdout differs; stderr: \(String(decoding: run.stderr, as: UTF8.self))")
            #expect("\(run.status)\n" == expectedExit, "\(name) \(mode): exit status differs")
        }
    }

    /// No fixture holds invalid UTF-8 (the encoder reads JSON, which cannot),
    /// but a recorder can store any bytes as a label: each byte that does not
    /// start a valid sequence is `\ufffd`, a real U+FFFD stays as it is, and
    /// members sort by the raw bytes (section 9).
    @Test(.enabled(if: GoToolchain.shouldRun))
    func invalidUTF8InALabelIsWrittenAsSection9Says() throws {
        let decoder = try Self.decoder.get()
        let labels: [[UInt8]] = [
            [0xFF],                    // not a start byte
            [0xEF, 0xBF, 0xBD],        // U+FFFD itself, valid
            [0x61, 0xC0, 0x80],        // overlong NUL after "a"
            [0xED, 0xA0, 0x80],        // encoded surrogate
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xE2, 0x82],              // cut short
        ]
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sslogdecode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let segment = scratch.appendingPathComponent("labels.sslog")
        try Data(Self.segmentWithOneEvent(labels: labels)).write(to: segment)

        let run = try GoToolchain.run(decoder, [segment.path])
        let escape = #"\ufffd"#
        let members = [
            "\"a\(escape)\(escape)\":[2,2]",
            "\"\(escape)\(escape)\":[5,5]",
            "\"\(escape)\(escape)\(escape)\":[3,3]",
            "\"\u{FFFD}\":[1,1]",
            "\"\(escape)\(escape)\(escape)\(escape)\":[4,4]",
            "\"\(escape)\":[0,0]",
        ]
        let expected = #"{"t":1000,"d":100,"s":{"# + members.joined(separator: ",") + "}}\n"
        #expect(String(decoding: run.stdout, as: UTF8.self) == expected, "stderr: \(String(decoding: run.stderr, as: UTF8.self))")
        #expect(run.status == 0)
    }

    /// The decoder's own Go tests: range checksums, varint boundaries, the
    /// DEFLATE rules, 10.2, and a file of forged frame headers read in
    /// linear time.
    @Test(.enabled(if: GoToolchain.shouldRun))
    func goTestsOfTheDecoderPass() throws {
        let result = try GoToolchain.go(["test", "-count=1", "."], in: GoToolchain.root.appendingPathComponent("Spec/conformance/go"),
                                        experiment: "nojsonv2", purpose: "the Go conformance decoder's tests")
        let output = String(decoding: result.stdout + result.stderr, as: UTF8.self)
        // A Go from before the experiment rejects its name: test with the defaults.
        if result.status != 0, output.contains("nojsonv2") {
            let fallback = try GoToolchain.go(["test", "-count=1", "."], in: GoToolchain.root.appendingPathComponent("Spec/conformance/go"),
                                              purpose: "the Go conformance decoder's tests")
            #expect(fallback.status == 0, "\(String(decoding: fallback.stdout + fallback.stderr, as: UTF8.self))")
            return
        }
        #expect(result.status == 0, "\(output)")
    }

    // MARK: A segment by hand (sections 4–6)

    /// One block holding `labels` as ids 0, 1, … and one adjacent event at
    /// t = 1000, d = 100 using each label `id` with tx = rx = id. The
    /// stored bytes are one stored (uncompressed) DEFLATE block.
    static func segmentWithOneEvent(labels: [[UInt8]]) -> [UInt8] {
        var payload: [UInt8] = []
        appendVarint(1, to: &payload)                 // segment sequence
        appendVarint(0, to: &payload)                 // block index
        appendVarint(2000, to: &payload)              // base time: zigzag(1000)
        for (id, label) in labels.enumerated() {
            var body: [UInt8] = []
            appendVarint(UInt64(id), to: &body)
            appendRecord(type: 1, body: body + label, to: &payload)
        }
        var event: [UInt8] = []
        appendVarint(200, to: &event)                 // duration delta: zigzag(100)
        for id in labels.indices {
            for value in [id, id, id] { appendVarint(UInt64(value), to: &event) }
        }
        appendRecord(type: 4, body: event, to: &payload)

        let length = UInt16(payload.count)
        let stored = [0x01] + littleEndian(length) + littleEndian(~length) + payload  // BFINAL, BTYPE 00

        var header = [0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A] + littleEndian(UInt16(1)) + littleEndian(UInt16(40))
        header += littleEndian(UInt32(0)) + littleEndian(UInt32(0)) + littleEndian(UInt64(1)) + littleEndian(UInt64(1000))
        header += littleEndian(crc32(header))
        var frame = [0xB5, 0x0C, 0x4B, 0x1D] + littleEndian(UInt32(stored.count)) + littleEndian(crc32(stored))
        frame += littleEndian(crc32(frame))
        return header + frame + stored
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func appendRecord(type: UInt64, body: [UInt8], to payload: inout [UInt8]) {
        appendVarint(UInt64(body.count) << 3 | type, to: &payload)
        payload += body
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// CRC-32/ISO-HDLC, bit by bit: written here so the test shares no code
    /// with the library it checks.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? crc >> 1 ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
