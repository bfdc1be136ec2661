import Testing
import CZlib
@testable import SockStatFormat
import TestSupport

// MARK: - Helpers shared by the block and segment suites

/// LEB128 written here, independently of `Varint.append`, to build payloads by hand.
func leb128(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7F)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}

/// ZigZag written here, independently of `ZigZag.encode`.
func zigZag(_ value: Int64) -> UInt64 {
    value >= 0 ? UInt64(value) &* 2 : value.magnitude &* 2 &- 1
}

/// An uncompressed block payload built record by record.
struct PayloadBuilder {
    var bytes: [UInt8]

    /// The preamble: segment sequence, block index, zigzag base time.
    init(sequence: UInt64 = 7, blockIndex: UInt64 = 0, baseTime: Int64 = 1000) {
        bytes = leb128(sequence) + leb128(blockIndex) + leb128(zigZag(baseTime))
    }

    /// A record: varint(length << 3 | type), then the body.
    mutating func record(type: UInt64, _ body: [UInt8]) {
        bytes += leb128(UInt64(body.count) << 3 | type) + body
    }

    mutating func label(id: UInt64, _ name: [UInt8]) {
        record(type: 1, leb128(id) + name)
    }

    mutating func label(id: UInt64, _ name: String) {
        label(id: id, Array(name.utf8))
    }

    /// An event record; each entry is (label id, tx, rx).
    mutating func event(gap: Int64 = 0, durationDelta: Int64 = 0, cellular: Bool = false, _ entries: [[UInt64]]) {
        var body = leb128(zigZag(gap)) + leb128(zigZag(durationDelta))
        for entry in entries {
            for field in entry { body += leb128(field) }
        }
        record(type: cellular ? 3 : 2, body)
    }

    func with(_ change: (inout PayloadBuilder) -> Void) -> PayloadBuilder {
        var copy = self
        change(&copy)
        return copy
    }
}

/// Decodes an uncompressed payload with `decoder`.
func decodePayload(_ payload: [UInt8], with decoder: inout BlockDecoder) -> Result<DecodedBlock, BlockError> {
    var block = DecodedBlock()
    var failure: BlockError?
    payload.withUnsafeBytes { raw in
        do throws(BlockError) { try decoder.decodePayload(raw, into: &block) } catch { failure = error }
    }
    if let failure { return .failure(failure) }
    return .success(block)
}

/// Decodes an uncompressed payload with a fresh decoder.
func decodePayload(_ payload: [UInt8]) -> Result<DecodedBlock, BlockError> {
    var decoder = BlockDecoder()
    return decodePayload(payload, with: &decoder)
}

/// `event` with its counts in canonical (bytewise label) order, as decoders return them.
func canonical(_ event: Event) -> Event {
    var copy = event
    copy.counts.sort { $0.label.bytes.lexicographicallyPrecedes($1.label.bytes) }
    return copy
}

/// The canonical JSON lines `CanonicalJSONBlockWriter` writes for every block of `bytes`.
func blockWriterOutput(_ bytes: [UInt8], range: TimeRange = TimeRange()) throws -> (output: [UInt8], written: Int) {
    final class Sink { var bytes: [UInt8] = [] }
    let sink = Sink()
    let output = OutputBuffer(capacity: 65536) { sink.bytes.append(contentsOf: $0) }
    var writer = CanonicalJSONBlockWriter()
    var reader = try SegmentReader(bytes: bytes)
    var decoder = BlockDecoder()
    var block = DecodedBlock()
    var written = 0
    loop: while true {
        switch reader.next(into: &block, using: &decoder) {
        case .block: written += try writer.write(block, to: output, range: range)
        case .damage(let damage): Issue.record("unexpected damage \(damage)")
        case .end: break loop
        }
    }
    try output.flush()
    return (sink.bytes, written)
}

/// Random events that stress the codec: extreme times and counts, odd labels.
struct EventGenerator {
    var random: TestRandom
    private var time: Int64 = 1_764_288_339_865
    private var serial = 0

    static let specialLabels: [Label] = [
        Label(""),
        Label("8"),
        Label("2"),
        Label("wlan0"),
        Label("rmnet_data0"),
        Label(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: FormatLimits.maxLabelBytes)),
        Label(bytes: (0..<FormatLimits.maxLabelBytes).map { UInt8($0 % 0x20) }),  // control bytes, escape to 6 each
        Label(bytes: Array(0...0x1F)),
        Label(bytes: [0xFF, 0xFE, 0xC0, 0x80]),  // invalid UTF-8
        Label(bytes: [0xED, 0xA0, 0x80]),  // UTF-8 surrogate
        Label(bytes: [0x61, 0x00, 0x62]),  // embedded NUL
        Label(#"<a href="x">&\"#),
        Label("line\u{2028}para\u{2029}"),
        Label("日本語😀"),
        Label("\u{7F}"),
        Label(bytes: [0xE2, 0x82]),  // truncated sequence
    ]

    init(seed: UInt64) {
        random = TestRandom(seed: seed)
    }

    mutating func count() -> UInt64 {
        switch random.below(6) {
        case 0: return 0
        case 1: return .max
        case 2: return random.next()
        case 3: return random.next() >> UInt64(random.below(64))
        default: return UInt64(random.below(100_000))
        }
    }

    mutating func label() -> Label {
        switch random.below(4) {
        case 0: return Self.specialLabels[random.below(Self.specialLabels.count)]
        case 1: return Label(bytes: random.bytes(random.below(12)))
        default: return Label("uid-\(random.below(300))")
        }
    }

    /// Distinct labels for one event, in no particular order.
    mutating func labels(_ wanted: Int) -> [Label] {
        var seen = Set<Label>()
        var out: [Label] = []
        var attempts = 0
        while out.count < wanted {
            attempts += 1
            // Past a few collisions, fall back to labels unique by construction.
            let candidate = attempts > wanted * 4 ? Label("many-\(serial)-\(out.count)") : label()
            if seen.insert(candidate).inserted { out.append(candidate) }
        }
        return out
    }

    mutating func event() -> Event {
        let wanted: Int
        switch random.below(30) {
        case 0...3: wanted = 0
        case 4: wanted = 100 + random.below(FormatLimits.maxLabelsPerEvent - 100 + 1)
        case 5: wanted = FormatLimits.maxLabelsPerEvent
        default: wanted = 1 + random.below(6)
        }
        serial += 1
        var names: [Label]
        if wanted > 16 {
            // Many labels: short ones, so blocks stay far below the 4 MiB limit.
            names = (0..<wanted).map { Label("l\(serial)-\($0 * 7919 % wanted)") }
            if random.oneIn(2) { names[0] = Label("") }
        } else {
            names = labels(wanted)
        }
        let counts = names.map { LabelCounts(label: $0, tx: count(), rx: count()) }

        let duration: Int64
        switch random.below(8) {
        case 0: duration = .min
        case 1: duration = .max
        case 2: duration = Int64(bitPattern: random.next())
        case 3: duration = -Int64(random.below(1000))
        default: duration = Int64(random.below(5000))
        }
        switch random.below(10) {
        case 0: time = .min
        case 1: time = .max
        case 2: time = Int64(bitPattern: random.next())
        case 3: time = time &- Int64(random.below(100_000))  // backwards
        default: time = time &+ Int64(random.below(100_000))
        }
        return Event(time: time, duration: duration, isCellular: random.oneIn(3), counts: counts)
    }
}

/// Hand-written segment helpers live in SegmentReaderTests.swift (`buildSegment`, `readAll`).

// MARK: - CRC-32 and DEFLATE

@Suite struct BlockCodecChecksumAndDeflateTests {
    @Test func crc32OfCheckStringIsTheCatalogueValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func crc32KnownAnswers() {
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum([0x00]) == 0xD202_EF8D)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func crc32ContinuesAcrossPieces() {
        let first = Array("12345".utf8).withUnsafeBytes { CRC32.checksum($0) }
        let whole = Array("6789".utf8).withUnsafeBytes { CRC32.checksum($0, continuing: first) }
        #expect(whole == 0xCBF4_3926)
        // Continuing over nothing returns the running value unchanged.
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0, continuing: 0x1234_5678) } == 0x1234_5678)
    }

    @Test func frameLayoutIsMarkerLengthChecksumHeaderCheckStored() {
        var out: [UInt8] = [0xAA]
        ([0x01, 0x02, 0x03] as [UInt8]).withUnsafeBytes { BlockFrame.append(stored: $0, to: &out) }
        // Python's zlib.crc32: of 01 02 03, 0x55BC801D; of the 12 header
        // bytes B5 0C 4B 1D 03 00 00 00 1D 80 BC 55, 0x38EFF4C3.
        #expect(out == [0xAA, 0xB5, 0x0C, 0x4B, 0x1D, 0x03, 0x00, 0x00, 0x00, 0x1D, 0x80, 0xBC, 0x55,
                        0xC3, 0xF4, 0xEF, 0x38, 0x01, 0x02, 0x03])
    }

    @Test func probeAcceptsAValidFrameAndReportsItsPayload() {
        var out: [UInt8] = [0x00, 0x00]
        ([0x01, 0x02, 0x03] as [UInt8]).withUnsafeBytes { BlockFrame.append(stored: $0, to: &out) }
        out.withUnsafeBytes { raw in
            #expect(BlockFrame.probe(raw, at: 2) == .valid(payload: 18..<21))
            var frames = FrameLocator()
            #expect(frames.probe(raw, at: 2) == .valid(payload: 18..<21))
            #expect(frames.nextValid(raw, from: 0) == 2)
            #expect(frames.nextValid(raw, from: 3) == nil)
        }
    }

    /// A caller's offset outside the bytes is an answer, not a trap.
    @Test(arguments: [-1, Int.min, 22, 1 << 40, Int.max])
    func probeOutsideTheBytesIsInvalid(_ offset: Int) {
        var out: [UInt8] = [0x00, 0x00]
        ([0x01, 0x02, 0x03] as [UInt8]).withUnsafeBytes { BlockFrame.append(stored: $0, to: &out) }
        out.withUnsafeBytes { raw in
            guard case .invalid(let reason) = BlockFrame.probe(raw, at: offset) else {
                Issue.record("offset \(offset) not refused")
                return
            }
            #expect(reason.contains("outside 21 bytes"))
            var frames = FrameLocator()
            #expect(frames.probe(raw, at: offset) == .invalid(reason))
            #expect(BlockFrame.probe(raw, at: raw.count) == .incomplete, "the empty rest is a torn write's start")
        }
    }

    @Test func probeOfEveryProperPrefixIsIncomplete() {
        var frame: [UInt8] = []
        ([0x01, 0x02, 0x03] as [UInt8]).withUnsafeBytes { BlockFrame.append(stored: $0, to: &frame) }
        for length in 1..<frame.count {
            Array(frame[..<length]).withUnsafeBytes { raw in
                #expect(BlockFrame.probe(raw, at: 0) == .incomplete, "prefix of \(length) bytes")
            }
        }
    }

    @Test func probeRejectsZeroAndOversizedLengths() {
        for length: UInt32 in [0, UInt32(FormatLimits.maxStoredBlockBytes) + 1, .max] {
            var frame = BlockFrame.marker
            withUnsafeBytes(of: length.littleEndian) { frame += $0 }
            frame += [0, 0, 0, 0, 0, 0, 0, 0, 0x01]
            frame.withUnsafeBytes { raw in
                guard case .invalid = BlockFrame.probe(raw, at: 0) else {
                    Issue.record("length \(length) not rejected")
                    return
                }
            }
        }
    }

    /// Every bit of the 16-byte frame header is covered: a flip anywhere in
    /// it is caught by the header check (or the marker) in constant time,
    /// and a flip in the stored bytes by their CRC.
    @Test func everyBitOfAFrameIsChecked() {
        var frame: [UInt8] = []
        ([0x01, 0x02, 0x03, 0x04, 0x05] as [UInt8]).withUnsafeBytes { BlockFrame.append(stored: $0, to: &frame) }
        for bit in 0..<(frame.count * 8) {
            var flipped = frame
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            flipped.withUnsafeBytes { raw in
                guard case .invalid(let reason) = BlockFrame.probe(raw, at: 0) else {
                    // A flipped length may point past the end: still not a frame that holds.
                    if bit / 8 >= 4 && bit / 8 < 8, BlockFrame.probe(raw, at: 0) == .incomplete {
                        Issue.record("bit \(bit): a flipped length passed as a torn write")
                    } else {
                        Issue.record("bit \(bit) not caught")
                    }
                    return
                }
                let expected = bit < 32 ? "no block marker" : bit < 128 ? "header" : "block checksum mismatch"
                #expect(reason.contains(expected) || (bit >= 32 && bit < 64 && reason.contains("out of range")),
                        "bit \(bit): \(reason)")
            }
        }
    }

    /// CRC-32's linearity as the reader uses it, against zlib: combining
    /// two CRCs, and the CRC of a range from two prefix CRCs.
    @Test(arguments: [0, 1, 255, 256, 257, 1000, 65_537])
    func rangeChecksumsEqualDirectOnes(size: Int) {
        var random = TestRandom(seed: UInt64(size) + 1)
        let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        bytes.withUnsafeBytes { raw in
            var ranges = RangeCRC32()
            for _ in 0..<50 {
                let a = size == 0 ? 0 : Int(random.next() % UInt64(size + 1))
                let b = a + (size - a == 0 ? 0 : Int(random.next() % UInt64(size - a + 1)))
                let direct = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[a..<b]))
                #expect(ranges.checksum(a..<b, of: raw) == direct, "\(a)..<\(b)")
                let head = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<a]))
                let whole = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<b]))
                #expect(CRC32.combine(head, direct, lengthOfB: b - a) == whole)
                #expect(UInt32(crc32_combine(uLong(head), uLong(direct), off_t(b - a))) == whole)
            }
        }
    }

    @Test func inflaterDecodesAHandWrittenStoredBlock() throws {
        // BFINAL=1 BTYPE=00, LEN=5, NLEN=~5, then "hello".
        let stream: [UInt8] = [0x01, 0x05, 0x00, 0xFA, 0xFF, 0x68, 0x65, 0x6C, 0x6C, 0x6F]
        var output: [UInt8] = [9, 9, 9]
        try stream.withUnsafeBytes { try Inflater().inflate($0, into: &output) }
        #expect(output == Array("hello".utf8))
    }

    @Test func inflaterDecodesStreamsPythonZlibWrote() throws {
        let inflater = Inflater()
        var output: [UInt8] = []
        // zlib.compressobj(6, DEFLATED, -15) of "hello hello hello hello".
        let hello: [UInt8] = [0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8, 0x40, 0x27, 0x01]
        try hello.withUnsafeBytes { try inflater.inflate($0, into: &output) }
        #expect(output == Array("hello hello hello hello".utf8))
        // The same of "": one empty fixed-Huffman block. The output is replaced, not appended to.
        try ([0x03, 0x00] as [UInt8]).withUnsafeBytes { try inflater.inflate($0, into: &output) }
        #expect(output == [])
    }

    static let roundTripSizes = [0, 1, 2, 100, 4095, 4096, 4097, 65_536, 300_000]

    @Test(arguments: roundTripSizes)
    func deflateThenInflateGivesBackTheInput(_ size: Int) throws {
        var random = TestRandom(seed: UInt64(size) &+ 77)
        // Half random bytes (incompressible), half runs (highly compressible).
        let input: [UInt8] = (0..<size).map { index in
            index < size / 2 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(index / 1000 % 256)
        }
        let deflater = Deflater()
        var stored: [UInt8] = [0xEE]
        input.withUnsafeBytes { deflater.compress($0, appendingTo: &stored) }
        #expect(stored.first == 0xEE)  // appended, not replaced
        var output: [UInt8] = []
        try stored.dropFirst().withUnsafeBytes { try Inflater().inflate($0, into: &output) }
        #expect(output == input)
    }

    @Test func oneDeflaterAndInflaterServeManyBlocks() throws {
        let deflater = Deflater()
        let inflater = Inflater()
        var random = TestRandom(seed: 4)
        var output: [UInt8] = []
        for round in 0..<20 {
            let input = (0..<random.below(20_000)).map { UInt8(truncatingIfNeeded: $0 * round) }
            var stored: [UInt8] = []
            input.withUnsafeBytes { deflater.compress($0, appendingTo: &stored) }
            try stored.withUnsafeBytes { try inflater.inflate($0, into: &output) }
            #expect(output == input, "round \(round)")
        }
    }

    @Test func inflaterRejectsGarbage() {
        let inflater = Inflater()
        // 0xFF: a final block of the reserved type 11.
        guard case .failure(let error) = inflateResult([0xFF, 0xFF, 0xFF, 0xFF], with: inflater), error.code == .corrupt else {
            Issue.record("reserved block type accepted")
            return
        }
        // A stored block whose NLEN is not the complement of LEN.
        guard case .failure(let error) = inflateResult([0x01, 0x05, 0x00, 0x00, 0x00, 0x68, 0x65, 0x6C, 0x6C, 0x6F], with: inflater), error.code == .corrupt else {
            Issue.record("bad NLEN accepted")
            return
        }
        // The inflater still works afterwards.
        #expect(inflateResult([0x03, 0x00], with: inflater) == .success([]))
    }

    @Test func inflaterRejectsEveryTruncationOfAStream() {
        let input = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* $0 >> 3) }
        let stored = deflate(input)
        let inflater = Inflater()
        #expect(inflateResult(stored, with: inflater) == .success(input))
        for length in 0..<stored.count {
            #expect(inflateResult(Array(stored[..<length]), with: inflater) == .failure(.truncated),
                    "prefix of \(length) of \(stored.count) bytes")
        }
    }

    @Test func inflaterRejectsBytesAfterTheStream() {
        let inflater = Inflater()
        for trailing: [UInt8] in [[0x00], [0x03, 0x00], [0xFF, 0xFF, 0xFF]] {
            #expect(inflateResult([0x03, 0x00] + trailing, with: inflater) == .failure(.trailingBytes), "\(trailing)")
        }
        let text = Array("some text to compress, some text to compress".utf8)
        #expect(inflateResult(deflate(text) + [0x00], with: inflater) == .failure(.trailingBytes))
    }

    @Test func inflaterEnforcesItsOutputLimitExactly() {
        let inflater = Inflater()
        for size in [1, 1000, 4096, 4097, 8193, 100_000] {
            let input = [UInt8](repeating: 0x61, count: size)
            let stored = deflate(input)
            #expect(inflateResult(stored, with: inflater, limit: size) == .success(input), "exactly at the limit of \(size)")
            #expect(inflateResult(stored, with: inflater, limit: size - 1) == .failure(.tooLarge),
                    "one over the limit of \(size - 1)")
        }
    }

    @Test func inflaterDefaultLimitIsTheBlockLimit() {
        let inflater = Inflater()
        let atLimit = deflate([UInt8](repeating: 0, count: FormatLimits.maxBlockBytes))
        #expect((try? inflateResult(atLimit, with: inflater).get().count) == FormatLimits.maxBlockBytes)
        let overLimit = deflate([UInt8](repeating: 0, count: FormatLimits.maxBlockBytes + 1))
        #expect(inflateResult(overLimit, with: inflater) == .failure(.tooLarge))
    }
}

/// Raw DEFLATE of `input` with a fresh `Deflater`.
func deflate(_ input: [UInt8]) -> [UInt8] {
    var stored: [UInt8] = []
    input.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
    return stored
}

/// Inflates `stored`, returning the output or the typed error.
func inflateResult(_ stored: [UInt8], with inflater: Inflater = Inflater(),
                   limit: Int = FormatLimits.maxBlockBytes) -> Result<[UInt8], DecompressionError> {
    var output: [UInt8] = []
    var failure: DecompressionError?
    stored.withUnsafeBytes { raw in
        do throws(DecompressionError) { try inflater.inflate(raw, into: &output, limit: limit) } catch { failure = error }
    }
    if let failure { return .failure(failure) }
    return .success(output)
}

// MARK: - Blocks

@Suite struct BlockCodecTests {
    // MARK: Round trips

    @Test(arguments: [1, 2, 3, 20, 0xDEAD_BEEF] as [UInt64])
    func randomizedEventsRoundTripThroughFramesAndTheReader(_ seed: UInt64) throws {
        var generator = EventGenerator(seed: seed)
        var blocks: [[Event]] = []
        for _ in 0..<(3 + generator.random.below(6)) {
            blocks.append((0..<(1 + generator.random.below(25))).map { _ in generator.event() })
        }
        let segment = try buildSegment(sequence: seed, blocks: blocks)
        let result = readAll(segment.bytes)
        #expect(result.error == nil)
        #expect(result.damage == [])
        #expect(result.tornTail == 0)
        let expected = blocks.joined().map(canonical)
        #expect(result.events.count == expected.count)
        #expect(result.events == expected)
    }

    @Test func eventsWithExtremeValuesRoundTrip() throws {
        let a = Label("a")
        let events = [
            Event(time: .min, duration: .max, counts: [LabelCounts(label: a, tx: 0, rx: .max)]),
            Event(time: .max, duration: .min, isCellular: true, counts: [LabelCounts(label: a, tx: .max, rx: 0)]),
            Event(time: 0, duration: 0, counts: []),
            Event(time: .min, duration: .min, counts: []),
            Event(time: .max, duration: .max, counts: [LabelCounts(label: Label(""), tx: .max, rx: .max)]),
            Event(time: -1, duration: -1, isCellular: true, counts: []),
        ]
        let result = readAll(try buildSegment(blocks: [events, events.reversed()]).bytes)
        #expect(result.damage == [])
        #expect(result.events == events + events.reversed())
    }

    @Test func eventWithMostLabelsOfMostBytesRoundTrips() throws {
        // 1024 labels of 1024 bytes: about 1 MiB of payload, one block.
        let counts = (0..<FormatLimits.maxLabelsPerEvent).map { index in
            var bytes = [UInt8](repeating: UInt8(index % 251), count: FormatLimits.maxLabelBytes)
            bytes[0] = UInt8(index >> 8)
            bytes[1] = UInt8(index & 0xFF)
            return LabelCounts(label: Label(bytes: bytes), tx: UInt64(index), rx: .max - UInt64(index))
        }
        let event = Event(time: 5, duration: 6, counts: counts.reversed())
        let segment = try buildSegment(blocks: [[event]])
        let result = readAll(segment.bytes)
        #expect(result.damage == [])
        #expect(result.events == [canonical(event)])
        #expect(result.events.first?.counts.first?.label.bytes.prefix(2) == [0, 0])
        // And its JSON through the block writer (labels escape to up to 6 bytes a byte).
        let json = try blockWriterOutput(segment.bytes)
        #expect(json.written == 1)
        #expect(json.output == CanonicalJSON.line(for: event))
    }

    @Test func countsComeBackSortedByLabelBytesNotByString() throws {
        // "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9) < "\u{FFFF}"-ish bytes; invalid 0xFF last.
        let labels = [Label(bytes: [0xFF]), Label("é"), Label("a"), Label("Z"), Label(""), Label("a\u{0}")]
        let event = Event(time: 1, duration: 2, counts: labels.enumerated().map {
            LabelCounts(label: $1, tx: UInt64($0), rx: 0)
        })
        let result = readAll(try buildSegment(blocks: [[event]]).bytes)
        let order = result.events.first?.counts.map(\.label.bytes)
        #expect(order == [[], [0x5A], [0x61], [0x61, 0x00], [0xC3, 0xA9], [0xFF]])
    }

    // MARK: Encoder format, pinned byte for byte

    @Test func encoderWritesTheDocumentedPayload() throws {
        var encoder = BlockEncoder(segmentSequence: 7)
        try encoder.append(Event(time: 1000, duration: 100, counts: [
            LabelCounts(label: Label("b"), tx: 1, rx: 2),
            LabelCounts(label: Label("a"), tx: 300, rx: 0),
        ]))
        try encoder.append(Event(time: 1200, duration: 100, isCellular: true, counts: [
            LabelCounts(label: Label("a"), tx: 1, rx: 1),
        ]))
        try encoder.append(Event(time: 1300, duration: 100, isCellular: true, counts: [
            LabelCounts(label: Label("a"), tx: 2, rx: 2),
        ]))
        try encoder.append(Event(time: 1350, duration: 100, counts: []))
        #expect(encoder.eventCount == 4)
        #expect(encoder.firstEventTime == 1000)
        #expect(encoder.labelCount == 2)
        var out: [UInt8] = []
        let deflater = Deflater()
        encoder.finishBlock(using: deflater, appendingTo: &out)
        #expect(encoder.eventCount == 0)
        #expect(encoder.firstEventTime == nil)
        #expect(encoder.nextBlockIndex == 1)
        let firstFrameEnd = out.count
        try encoder.append(Event(time: 2000, duration: 50, counts: [LabelCounts(label: Label("b"), tx: 0, rx: 0)]))
        encoder.finishBlock(using: deflater, appendingTo: &out)

        let payloads = try framePayloads(out)
        #expect(payloads.first?.offset == 0)
        #expect(payloads.last?.offset == firstFrameEnd)
        #expect(payloads.map(\.payload) == [
            [
                0x07, 0x00, 0xD0, 0x0F,  // sequence 7, block 0, base time zigzag(1000) = 2000
                0x11, 0x00, 0x61,  // label record (2 bytes, type 1): id 0 "a" (sorted first)
                0x11, 0x01, 0x62,  // label record: id 1 "b"
                0x4C, 0xC8, 0x01,  // adjacent event (9 bytes, type 4, gap 0 not stored): duration delta zigzag(100)
                0x00, 0xAC, 0x02, 0x00,  // "a": 300, 0
                0x01, 0x01, 0x02,  // "b": 1, 2
                0x33, 0xC8, 0x01, 0x00,  // cellular event (6 bytes, type 3): gap 100 after 1000+100, delta 0
                0x00, 0x01, 0x01,  // "a": 1, 1 (already defined in this block)
                0x25, 0x00,  // adjacent cellular event (4 bytes, type 5): starts at 1200+100, delta 0
                0x00, 0x02, 0x02,  // "a": 2, 2
                0x12, 0x63, 0x00,  // event (2 bytes, type 2): gap zigzag(-50) = 99 after 1300+100, delta 0, no labels
            ],
            [
                0x07, 0x01, 0xA0, 0x1F,  // sequence 7, block 1, base time zigzag(2000) = 4000
                0x11, 0x01, 0x62,  // "b" defined again, keeping its segment-wide id 1
                0x24, 0x64, 0x01, 0x00, 0x00,  // adjacent event (4 bytes): delta zigzag(50), "b": 0, 0
            ],
        ])
    }

    /// Gap and cellular flag, and the record type a writer must use for them.
    @Test(arguments: [
        (0, false, RecordType.adjacentEvent), (0, true, RecordType.adjacentCellularEvent),
        (1, false, RecordType.event), (1, true, RecordType.cellularEvent),
        (-1, false, RecordType.event), (Int64.min, true, RecordType.cellularEvent),
    ] as [(Int64, Bool, UInt64)])
    func encoderUsesAdjacentTypesExactlyWhenTheGapIsZero(_ gap: Int64, _ cellular: Bool, _ type: UInt64) throws {
        var encoder = BlockEncoder(segmentSequence: 1)
        try encoder.append(Event(time: 10, duration: 5, counts: []))
        try encoder.append(Event(time: 15 &+ gap, duration: 5, isCellular: cellular, counts: []))
        var out: [UInt8] = []
        encoder.finishBlock(using: Deflater(), appendingTo: &out)
        let payload = try #require(framePayloads(out).first).payload
        // Preamble 01 00 14; the first event is adjacent (4 << 3 | 4 = 0x0C, body: delta zigzag(5) = 0x0A).
        #expect(Array(payload.prefix(5)) == [0x01, 0x00, 0x14, 0x0C, 0x0A])
        let header = payload[5]
        #expect(UInt64(header & 7) == type)
        let gapBytes = gap == 0 ? [] : leb128(zigZag(gap))
        #expect(Array(payload[6...]) == gapBytes + [0x00])
        #expect(UInt64(header >> 3) == UInt64(gapBytes.count + 1))
    }

    @Test func finishingAnEmptyBlockWritesNothing() {
        var encoder = BlockEncoder(segmentSequence: 1)
        var out: [UInt8] = [1, 2, 3]
        encoder.finishBlock(using: Deflater(), appendingTo: &out)
        #expect(out == [1, 2, 3])
        #expect(encoder.nextBlockIndex == 0)
    }

    @Test func payloadBoundCoversEveryEventAfterTheFirst() throws {
        var generator = EventGenerator(seed: 99)
        var encoder = BlockEncoder(segmentSequence: .max)
        try encoder.append(Event(time: 0, duration: 0, counts: []))
        for _ in 0..<300 {
            let event = generator.event()
            let before = encoder.payloadByteCount
            try encoder.append(event)
            let added = encoder.payloadByteCount - before
            #expect(added <= BlockEncoder.payloadBound(of: event), "\(event.counts.count) labels")
            if encoder.payloadByteCount > 1 << 20 {
                var discarded: [UInt8] = []
                encoder.finishBlock(using: Deflater(), appendingTo: &discarded)
                try encoder.append(Event(time: 0, duration: 0, counts: []))
            }
        }
    }

    // BUG: BlockEncoder.payloadBound(of:) (Sources/SockStatFormat/Blocks/BlockEncoder.swift,
    // `payloadBound(of:)`, lines 40-46) allows 3 * Varint.maxBytes = 30 bytes of
    // per-event overhead, but the first event of a block also writes the block
    // preamble (segment sequence, block index, base time: up to 30 bytes more).
    // With segment sequence UInt64.max, time Int64.min and duration Int64.min, a
    // zero-label first event adds 32 bytes (preamble 10 + 1 + 10, record header 1,
    // no gap (adjacent type), duration delta 10): the bound must cover the preamble.
    @Test func payloadBoundCoversTheFirstEventOfABlock() throws {
        var encoder = BlockEncoder(segmentSequence: .max)
        let event = Event(time: .min, duration: .min, counts: [])
        try encoder.append(event)
        #expect(encoder.payloadByteCount <= BlockEncoder.payloadBound(of: event))
    }

    // MARK: Writer-side limits

    static let a = LabelCounts(label: Label("a"), tx: 1, rx: 2)

    /// Events the encoder must refuse, with a fresh label among them so that a
    /// half-applied append would show up in `labelCount`.
    static let refusedEvents: [(name: String, event: Event)] = [
        ("label of 1025 bytes", Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("fresh"), tx: 1, rx: 1),
            LabelCounts(label: Label(bytes: [UInt8](repeating: 0x41, count: FormatLimits.maxLabelBytes + 1)), tx: 1, rx: 1),
        ])),
        ("1025 labels", Event(time: 1, duration: 1, counts: (0...FormatLimits.maxLabelsPerEvent).map {
            LabelCounts(label: Label("n\($0)"), tx: 1, rx: 1)
        })),
        ("duplicate label", Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("fresh"), tx: 1, rx: 1), a, LabelCounts(label: Label("a"), tx: 3, rx: 4),
        ])),
        ("duplicate label, not adjacent in the caller's order", Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("z"), tx: 1, rx: 1), a, LabelCounts(label: Label("m"), tx: 1, rx: 1),
            LabelCounts(label: Label("z"), tx: 9, rx: 9),
        ])),
        ("duplicate empty label", Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label(""), tx: 1, rx: 1), LabelCounts(label: Label(""), tx: 1, rx: 1),
        ])),
    ]

    @Test(arguments: refusedEvents.indices)
    func refusedEventLeavesTheEncoderUnchanged(_ index: Int) throws {
        let (name, bad) = Self.refusedEvents[index]
        let before = Event(time: 100, duration: 10, counts: [Self.a])
        let after = Event(time: 200, duration: 10, isCellular: true,
                          counts: [Self.a, LabelCounts(label: Label("b"), tx: 5, rx: 6)])

        // Refused in the middle of a block and as the first event of a block.
        for refuseFirst in [false, true] {
            var encoder = BlockEncoder(segmentSequence: 3)
            var reference = BlockEncoder(segmentSequence: 3)
            if !refuseFirst {
                try encoder.append(before)
                try reference.append(before)
            }
            let payloadBytes = encoder.payloadByteCount
            let error = #expect(throws: EventError.self, "\(name)") { try encoder.append(bad) }
            #expect(error?.needsNewSegment == false)
            #expect(encoder.payloadByteCount == payloadBytes, "\(name)")
            #expect(encoder.eventCount == (refuseFirst ? 0 : 1))
            #expect(encoder.labelCount == (refuseFirst ? 0 : 1), "\(name)")
            #expect(encoder.firstEventTime == (refuseFirst ? nil : 100))
            try encoder.append(after)
            try reference.append(after)
            let deflater = Deflater()
            var out = SegmentHeader(sequence: 3, creationTime: 0).encoded()
            var expected = out
            encoder.finishBlock(using: deflater, appendingTo: &out)
            reference.finishBlock(using: deflater, appendingTo: &expected)
            #expect(out == expected, "\(name): the refused event left a trace")
            let result = readAll(out)
            #expect(result.damage == [])
            #expect(result.events == (refuseFirst ? [] : [before]) + [after])
        }
    }

    @Test func limitsThemselvesAreAccepted() throws {
        let longest = LabelCounts(label: Label(bytes: [UInt8](repeating: 0x41, count: FormatLimits.maxLabelBytes)), tx: 1, rx: 1)
        let most = Event(time: 1, duration: 1, counts: (0..<FormatLimits.maxLabelsPerEvent).map {
            LabelCounts(label: Label("n\($0)"), tx: UInt64($0), rx: 1)
        })
        let events = [Event(time: 0, duration: 1, counts: [longest]), most]
        #expect(readAll(try buildSegment(blocks: [events]).bytes).events == events.map(canonical))
    }

    @Test func fullLabelDictionaryAsksForANewSegment() throws {
        // 64 events of 1024 new labels fill ids 0...65535 exactly.
        var encoder = BlockEncoder(segmentSequence: 5)
        let deflater = Deflater()
        var out = SegmentHeader(sequence: 5, creationTime: 0).encoded()
        var written: [Event] = []
        let perEvent = FormatLimits.maxLabelsPerEvent
        for batch in 0..<(FormatLimits.labelIDLimit / perEvent) {
            let event = Event(time: Int64(batch), duration: 1, counts: (0..<perEvent).map {
                LabelCounts(label: Label("\(batch).\($0)"), tx: 1, rx: 2)
            })
            try encoder.append(event)
            encoder.finishBlock(using: deflater, appendingTo: &out)
            written.append(event)
        }
        #expect(encoder.labelCount == FormatLimits.labelIDLimit)

        let fresh = Event(time: 100, duration: 1, counts: [LabelCounts(label: Label("one too many"), tx: 1, rx: 1)])
        let error = #expect(throws: EventError.self) { try encoder.append(fresh) }
        #expect(error?.needsNewSegment == true)
        #expect(encoder.labelCount == FormatLimits.labelIDLimit)
        #expect(encoder.payloadByteCount == 0)

        // Labels already known still work, including the one with id 65535.
        // Ids go in bytewise label order within an event, so the last id is the largest label of the last batch.
        let last = try #require((0..<perEvent).map { Label("\(FormatLimits.labelIDLimit / perEvent - 1).\($0)") }.max())
        #expect(last == Label("63.999"))
        let known = Event(time: 101, duration: 1, counts: [LabelCounts(label: last, tx: 7, rx: 8)])
        try encoder.append(known)
        encoder.finishBlock(using: deflater, appendingTo: &out)
        written.append(known)

        let result = readAll(out)
        #expect(result.damage == [])
        #expect(result.events.count == written.count)
        #expect(result.events == written.map(canonical))
        // The last block's payload names the label by the 3-byte id 65535 (FF FF 03).
        let lastPayload = try #require(framePayloads(out, from: SegmentHeader.encodedSize).last).payload
        #expect(lastPayload.starts(with: [0x05, 0x40]))  // sequence 5, block 64
        let idBytes: [UInt8] = [0xFF, 0xFF, 0x03]
        #expect((0...(lastPayload.count - 3)).contains { Array(lastPayload[$0..<($0 + 3)]) == idBytes })
    }

    // MARK: Decoder, on hand-built payloads

    @Test func decoderReadsAHandWrittenPayload() throws {
        var builder = PayloadBuilder(sequence: 9, blockIndex: 4, baseTime: 1000)
        builder.label(id: 0, "b")
        builder.label(id: 1, "a")
        builder.event(gap: 0, durationDelta: 100, [[0, 1, 2], [1, 3, 4]])
        builder.event(gap: -50, durationDelta: -100, cellular: true, [])
        builder.event(gap: 7, durationDelta: 5, [[1, 0, .max]])
        let block = try decodePayload(builder.bytes).get()
        #expect(block.segmentSequence == 9)
        #expect(block.blockIndex == 4)
        #expect(block.labelCount == 2)
        let b = Label("b"), a = Label("a")
        #expect(block.events == [
            Event(time: 1000, duration: 100, counts: [LabelCounts(label: a, tx: 3, rx: 4), LabelCounts(label: b, tx: 1, rx: 2)]),
            // previous end 1100, gap -50; duration 100 - 100.
            Event(time: 1050, duration: 0, isCellular: true, counts: []),
            // previous end 1050, gap 7; duration 0 + 5.
            Event(time: 1057, duration: 5, counts: [LabelCounts(label: a, tx: 0, rx: .max)]),
        ])
    }

    @Test func decoderReadsAPayloadWrittenOutByteByByte() throws {
        let payload: [UInt8] = [
            0x07, 0x00, 0x00,  // sequence 7, block 0, base time 0
            0x11, 0x00, 0x61,  // label id 0 "a"
            0x2A, 0x00, 0x00, 0x00, 0x05, 0x06,  // event (5 bytes): gap 0, delta 0, "a": 5, 6
        ]
        let block = try decodePayload(payload).get()
        #expect(block.events == [Event(time: 0, duration: 0, counts: [LabelCounts(label: Label("a"), tx: 5, rx: 6)])])
    }

    @Test func decoderAcceptsPreambleWithoutRecords() throws {
        let block = try decodePayload(PayloadBuilder().bytes).get()
        #expect(block.eventCount == 0)
        #expect(block.events == [])
    }

    @Test func decoderAcceptsTheHighestLabelIDAndTheLongestLabel() throws {
        let longest = [UInt8](repeating: 0x7A, count: FormatLimits.maxLabelBytes)
        let payload = PayloadBuilder().with {
            $0.label(id: UInt64(FormatLimits.labelIDLimit - 1), longest)
            $0.label(id: 0, [])
            $0.event([[65535, 1, 1], [0, 2, 2]])
        }
        let block = try decodePayload(payload.bytes).get()
        #expect(block.events == [Event(time: 1000, duration: 0, counts: [
            LabelCounts(label: Label(""), tx: 2, rx: 2), LabelCounts(label: Label(bytes: longest), tx: 1, rx: 1),
        ])])
    }

    /// A payload the decoder must reject.
    struct BadPayload: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var testDescription: String { name }
    }

    static let base = PayloadBuilder()
    static let badPayloads: [BadPayload] = [
        BadPayload(name: "empty payload", bytes: []),
        BadPayload(name: "preamble cut after the sequence", bytes: [0x07]),
        BadPayload(name: "preamble cut after the block index", bytes: [0x07, 0x00]),
        BadPayload(name: "base time varint cut short", bytes: [0x07, 0x00, 0x80]),
        BadPayload(name: "11-byte varint as segment sequence", bytes: [UInt8](repeating: 0xFF, count: 10) + [0x01, 0x00, 0x00]),
        BadPayload(name: "overlong varint as block index", bytes: [0x07, 0x80, 0x00, 0x00]),
        BadPayload(name: "undefined label id", bytes: base.with { $0.event([[0, 1, 1]]) }.bytes),
        BadPayload(name: "label used before its definition", bytes: base.with {
            $0.event([[0, 1, 1]])
            $0.label(id: 0, "a")
        }.bytes),
        BadPayload(name: "label id 65536 used, never definable", bytes: base.with { $0.event([[65536, 1, 1]]) }.bytes),
        BadPayload(name: "label id UInt64.max used", bytes: base.with { $0.event([[.max, 1, 1]]) }.bytes),
        BadPayload(name: "label id defined twice", bytes: base.with {
            $0.label(id: 0, "a")
            $0.label(id: 0, "b")
        }.bytes),
        BadPayload(name: "label id defined twice with the same name", bytes: base.with {
            $0.label(id: 3, "a")
            $0.label(id: 3, "a")
        }.bytes),
        BadPayload(name: "same name under two ids", bytes: base.with {
            $0.label(id: 0, "a")
            $0.label(id: 1, "a")
            $0.event([[0, 1, 1]])
        }.bytes),
        BadPayload(name: "empty name under two ids", bytes: base.with {
            $0.label(id: 5, [])
            $0.label(id: 6, [])
        }.bytes),
        BadPayload(name: "label id 65536", bytes: base.with { $0.label(id: 65536, "a") }.bytes),
        BadPayload(name: "label id 2^32", bytes: base.with { $0.label(id: 1 << 32, "a") }.bytes),
        BadPayload(name: "label of 1025 bytes", bytes: base.with {
            $0.label(id: 0, [UInt8](repeating: 0x41, count: FormatLimits.maxLabelBytes + 1))
        }.bytes),
        BadPayload(name: "label record without an id", bytes: base.with { $0.record(type: 1, []) }.bytes),
        BadPayload(name: "label id with an 11-byte varint",
                   bytes: base.with { $0.record(type: 1, [UInt8](repeating: 0xFF, count: 10) + [0x01, 0x61]) }.bytes),
        BadPayload(name: "repeated id in one event", bytes: base.with {
            $0.label(id: 0, "a")
            $0.event([[0, 1, 1], [0, 2, 2]])
        }.bytes),
        BadPayload(name: "repeated id in one event, not adjacent", bytes: base.with {
            $0.label(id: 0, "a")
            $0.label(id: 1, "b")
            $0.event([[0, 1, 1], [1, 1, 1], [0, 2, 2]])
        }.bytes),
        BadPayload(name: "record length past the end", bytes: base.bytes + [0x52, 0x00, 0x00]),
        BadPayload(name: "record length one past the end", bytes: base.with { $0.label(id: 0, "abc") }.bytes.dropLast()),
        BadPayload(name: "record length 2^60", bytes: base.bytes + leb128(1 << 63 | 2) + [0x00, 0x00]),
        BadPayload(name: "record header cut short", bytes: base.bytes + [0x80]),
        BadPayload(name: "record header 11-byte varint", bytes: base.bytes + [UInt8](repeating: 0xFF, count: 11)),
        BadPayload(name: "record header overlong", bytes: base.bytes + [0x92, 0x00, 0x00, 0x61]),
        BadPayload(name: "event without a body", bytes: base.with { $0.record(type: 2, []) }.bytes),
        BadPayload(name: "event with only a gap", bytes: base.with { $0.record(type: 3, [0x00]) }.bytes),
        BadPayload(name: "adjacent event without a body", bytes: base.with { $0.record(type: 4, []) }.bytes),
        BadPayload(name: "adjacent cellular event without a body", bytes: base.with { $0.record(type: 5, []) }.bytes),
        BadPayload(name: "adjacent event with a truncated triple", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 4, [0x00, 0x00, 0x01])
        }.bytes),
        BadPayload(name: "adjacent event using an undefined id", bytes: base.with { $0.record(type: 5, [0x00, 0x03, 0x01, 0x01]) }.bytes),
        BadPayload(name: "adjacent event with an overlong delta", bytes: base.with { $0.record(type: 4, [0x80, 0x00]) }.bytes),
        BadPayload(name: "triple missing rx", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 2, [0x00, 0x00, 0x00, 0x01])
        }.bytes),
        BadPayload(name: "triple of only an id", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 2, [0x00, 0x00, 0x00, 0x01, 0x01, 0x00])
        }.bytes),
        BadPayload(name: "triple with a varint cut at the body end", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 2, [0x00, 0x00, 0x00, 0x01, 0x80])
        }.bytes),
        BadPayload(name: "11-byte varint as tx", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 2, [0x00, 0x00, 0x00] + [UInt8](repeating: 0xFF, count: 10) + [0x01, 0x00])
        }.bytes),
        BadPayload(name: "10th varint byte 0x02 as rx", bytes: base.with {
            $0.label(id: 0, "a")
            $0.record(type: 2, [0x00, 0x00, 0x00, 0x00] + [UInt8](repeating: 0xFF, count: 9) + [0x02])
        }.bytes),
        BadPayload(name: "overlong gap", bytes: base.with { $0.record(type: 2, [0x80, 0x00, 0x00]) }.bytes),
        BadPayload(name: "1025 labels in one event", bytes: base.with { payload in
            for id in 0...UInt64(FormatLimits.maxLabelsPerEvent) { payload.label(id: id, Array("n\(id)".utf8)) }
            payload.event((0...UInt64(FormatLimits.maxLabelsPerEvent)).map { [$0, 1, 1] })
        }.bytes),
    ]

    @Test(arguments: badPayloads)
    func decoderRejectsBadPayload(_ bad: BadPayload) {
        switch decodePayload(bad.bytes) {
        case .success(let block): Issue.record("decoded \(block.eventCount) events")
        case .failure(let error): #expect(!error.reason.isEmpty)
        }
    }

    @Test(arguments: badPayloads)
    func decoderRejectsBadPayloadInsideAValidFrame(_ bad: BadPayload) throws {
        // Framed and deflated, between two good blocks: only that block is lost.
        let good = Event(time: 10, duration: 1, counts: [Self.a])
        var segment = try buildSegment(sequence: 7, blocks: [[good]])
        var stored: [UInt8] = []
        bad.bytes.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
        let badOffset = segment.bytes.count
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &segment.bytes) }
        let badLength = segment.bytes.count - badOffset
        // A later block of the same segment, index 5.
        var encoder = BlockEncoder(segmentSequence: 7)
        var discarded: [UInt8] = []
        for _ in 0..<5 {
            try encoder.append(good)
            encoder.finishBlock(using: Deflater(), appendingTo: &discarded)
        }
        try encoder.append(good)
        encoder.finishBlock(using: Deflater(), appendingTo: &segment.bytes)

        let result = readAll(segment.bytes)
        #expect(result.events == [good, good])
        #expect(result.damage.map { [$0.offset, $0.length] } == [[badOffset, badLength]])
    }

    @Test(arguments: [0, 6, 7] as [UInt64])
    func unknownRecordTypesAreSkippedByTheirLength(_ type: UInt64) throws {
        let payload = PayloadBuilder().with {
            $0.record(type: type, [])
            $0.label(id: 0, "a")
            // A body that would be invalid as any known record.
            $0.record(type: type, [0xFF, 0xFF, 0xFF, 0x80])
            $0.event([[0, 1, 2]])
            $0.record(type: type, [UInt8](repeating: 0x80, count: 300))
        }
        let block = try decodePayload(payload.bytes).get()
        #expect(block.events == [Event(time: 1000, duration: 0, counts: [LabelCounts(label: Label("a"), tx: 1, rx: 2)])])
    }

    @Test func adjacentEventTypesStartWhereThePreviousEventEnded() throws {
        var builder = PayloadBuilder(baseTime: 1000)
        builder.label(id: 0, "a")
        builder.record(type: 4, [0xC8, 0x01, 0x00, 0x05, 0x06])  // delta +100, "a": 5, 6
        builder.record(type: 5, [0x00])  // cellular, delta 0, no labels
        builder.record(type: 2, [0x00, 0x03])  // a stored gap of 0 is accepted too; delta -2
        builder.record(type: 3, [0x00, 0x00, 0x00, 0x07, 0x08])  // the same, cellular; "a": 7, 8
        builder.record(type: 4, [0x00])
        let block = try decodePayload(builder.bytes).get()
        let a = Label("a")
        #expect(block.events == [
            Event(time: 1000, duration: 100, counts: [LabelCounts(label: a, tx: 5, rx: 6)]),
            Event(time: 1100, duration: 100, isCellular: true, counts: []),
            Event(time: 1200, duration: 98, counts: []),
            Event(time: 1298, duration: 98, isCellular: true, counts: [LabelCounts(label: a, tx: 7, rx: 8)]),
            Event(time: 1396, duration: 98, counts: []),
        ])
    }

    @Test func storedZeroGapDecodesLikeTheAdjacentType() throws {
        for cellular in [false, true] {
            let stored = PayloadBuilder().with {
                $0.label(id: 0, "x")
                $0.record(type: cellular ? 3 : 2, [0x00, 0x02, 0x00, 0x01, 0x02])
            }
            let adjacent = PayloadBuilder().with {
                $0.label(id: 0, "x")
                $0.record(type: cellular ? 5 : 4, [0x02, 0x00, 0x01, 0x02])
            }
            let storedEvents = try decodePayload(stored.bytes).get().events
            #expect(storedEvents == [Event(time: 1000, duration: 1, isCellular: cellular,
                                           counts: [LabelCounts(label: Label("x"), tx: 1, rx: 2)])])
            #expect(try decodePayload(adjacent.bytes).get().events == storedEvents)
        }
    }

    @Test func recordTypeIsTheLowThreeBitsOnly() throws {
        // Header 0x0F = length 1, type 7 (skipped); 0x12 = length 2, type 2 (an event).
        let payload = PayloadBuilder().bytes + [0x0F, 0xFF] + [0x12, 0x00, 0x00]
        let block = try decodePayload(payload).get()
        #expect(block.events == [Event(time: 1000, duration: 0, counts: [])])
    }

    @Test func labelsDoNotCarryOverFromOneBlockToTheNext() throws {
        var decoder = BlockDecoder()
        let defining = PayloadBuilder().with {
            $0.label(id: 0, "a")
            $0.event([[0, 1, 1]])
        }
        let using = PayloadBuilder(blockIndex: 1).with { $0.event([[0, 1, 1]]) }
        #expect((try? decodePayload(defining.bytes, with: &decoder).get()) != nil)
        #expect((try? decodePayload(using.bytes, with: &decoder).get()) == nil)
        // Defining id 0 again in a new block is not "defined twice".
        #expect((try? decodePayload(defining.bytes, with: &decoder).get()) != nil)
    }

    @Test func failedBlockLeavesNoLabelsBehind() throws {
        var decoder = BlockDecoder()
        let failing = PayloadBuilder().with {
            $0.label(id: 0, "a")
            $0.label(id: 9, "b")
            $0.event([[0, 1, 1], [0, 1, 1]])  // repeated id: fails after both definitions
        }
        #expect((try? decodePayload(failing.bytes, with: &decoder).get()) == nil)
        let undefined = PayloadBuilder().with { $0.event([[9, 1, 1]]) }
        #expect((try? decodePayload(undefined.bytes, with: &decoder).get()) == nil)
        let redefining = PayloadBuilder().with {
            $0.label(id: 9, "c")
            $0.label(id: 0, "d")
            $0.event([[9, 1, 1], [0, 2, 2]])
        }
        let block = try decodePayload(redefining.bytes, with: &decoder).get()
        #expect(block.events.first?.counts.map(\.label) == [Label("c"), Label("d")])
    }

    /// A block that fails part way (after events were decoded, before the
    /// labels were ranked) leaves the caller's block empty, so writing it
    /// writes nothing instead of reading past its columns.
    @Test(arguments: [
        "repeated label id after two good events",
        "undefined label id after two good events",
        "label defined under two ids (found when ranking)",
        "stored bytes that do not inflate",
    ])
    func aFailedDecodeLeavesTheBlockEmpty(_ failure: String) throws {
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        let good = PayloadBuilder().with {
            $0.label(id: 0, "a")
            $0.event([[0, 1, 1]])
        }
        try good.bytes.withUnsafeBytes { try decoder.decodePayload($0, into: &block) }
        try #require(block.eventCount == 1)
        let bad = PayloadBuilder().with {
            $0.label(id: 0, "a")
            $0.label(id: 1, failure.hasPrefix("label defined") ? "a" : "b")
            $0.event([[0, 1, 1]])
            $0.event([[1, 2, 2]])
            if failure.hasPrefix("repeated") { $0.event([[0, 1, 1], [0, 1, 1]]) }
            if failure.hasPrefix("undefined") { $0.event([[7, 1, 1]]) }
        }
        let threw: Bool
        if failure.hasPrefix("stored") {
            threw = (try? ([0xFF, 0x00, 0x01] as [UInt8]).withUnsafeBytes { try decoder.decode(stored: $0, into: &block) }) == nil
        } else {
            threw = (try? bad.bytes.withUnsafeBytes { try decoder.decodePayload($0, into: &block) }) == nil
        }
        #expect(threw)
        try #require(block.eventCount == 0, "events of a failed block were left in it")
        #expect(block.labelCount == 0)
        var writer = CanonicalJSONBlockWriter()
        var written: [UInt8] = []
        let output = OutputBuffer { written.append(contentsOf: $0) }
        #expect(try writer.write(block, to: output) == 0)
        try output.flush()
        #expect(written.isEmpty)
    }

    @Test func decoderRejectsStoredBytesThatInflateTooFar() throws {
        // A valid preamble followed by an unknown record padding past 4 MiB.
        let padding = FormatLimits.maxBlockBytes
        var payload = PayloadBuilder().bytes
        payload += leb128(UInt64(padding) << 3 | 7)
        payload += [UInt8](repeating: 0, count: padding)
        var stored: [UInt8] = []
        payload.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        var failure: BlockError?
        stored.withUnsafeBytes { raw in
            do throws(BlockError) { try decoder.decode(stored: raw, into: &block) } catch { failure = error }
        }
        #expect(failure != nil)
        // The same payload, uncompressed, is fine: the limit is on inflation.
        #expect((try? decodePayload(payload).get()) != nil)
    }

    // MARK: Canonical JSON from decoded blocks

    @Test(arguments: [5, 6, 7, 8] as [UInt64])
    func blockWriterMatchesCanonicalJSONOfEachEvent(_ seed: UInt64) throws {
        var generator = EventGenerator(seed: seed)
        let blocks = (0..<4).map { _ in (0..<(1 + generator.random.below(30))).map { _ in generator.event() } }
        let segment = try buildSegment(sequence: seed, blocks: blocks)
        let expected = blocks.joined().flatMap { CanonicalJSON.line(for: $0) }
        let (output, written) = try blockWriterOutput(segment.bytes)
        #expect(written == blocks.joined().count)
        #expect(output.count == expected.count)
        #expect(output == expected)
    }

    @Test func blockWriterSortsEntriesAnotherWriterLeftUnsorted() throws {
        let payload = PayloadBuilder(baseTime: -5).with {
            $0.label(id: 0, "b")
            $0.label(id: 1, "a")
            $0.label(id: 2, "<c>")
            $0.event(durationDelta: 3, cellular: true, [[0, 1, 2], [2, 5, 6], [1, 3, 4]])
            $0.event([[1, 7, 8]])
        }
        let block = try decodePayload(payload.bytes).get()
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let output = OutputBuffer(capacity: 65536) { sink.bytes.append(contentsOf: $0) }
        var writer = CanonicalJSONBlockWriter()
        #expect(try writer.write(block, to: output) == 2)
        try output.flush()
        #expect(String(decoding: sink.bytes, as: UTF8.self) == """
            {"t":-5,"d":3,"c":1,"s":{"\\u003cc\\u003e":[5,6],"a":[3,4],"b":[1,2]}}
            {"t":-2,"d":3,"s":{"a":[7,8]}}

            """)
    }

    @Test func blockWriterWritesExtremeValuesInFull() throws {
        let events = [
            Event(time: .min, duration: .max, isCellular: true, counts: [LabelCounts(label: Label("a"), tx: .max, rx: 0)]),
            Event(time: .max, duration: .min, counts: []),
        ]
        let output = try blockWriterOutput(try buildSegment(blocks: [events]).bytes).output
        #expect(String(decoding: output, as: UTF8.self) == """
            {"t":-9223372036854775808,"d":9223372036854775807,"c":1,"s":{"a":[18446744073709551615,0]}}
            {"t":9223372036854775807,"d":-9223372036854775808,"s":{}}

            """)
    }

    static let rangeTimes: [Int64] = [.min, -5, 10, 20, 30, 40, .max]

    struct RangeCase: CustomTestStringConvertible, Sendable {
        var since: Int64?
        var until: Int64?
        var kept: [Int64]
        var testDescription: String { "since \(since.map(String.init) ?? "-") until \(until.map(String.init) ?? "-")" }
    }

    static let rangeCases: [RangeCase] = [
        RangeCase(since: nil, until: nil, kept: rangeTimes),
        RangeCase(since: 20, until: 40, kept: [20, 30]),
        RangeCase(since: 20, until: nil, kept: [20, 30, 40, .max]),
        RangeCase(since: nil, until: 20, kept: [.min, -5, 10]),
        RangeCase(since: 21, until: 30, kept: []),
        RangeCase(since: 40, until: 41, kept: [40]),
        RangeCase(since: 30, until: 30, kept: []),
        RangeCase(since: 41, until: 40, kept: []),
        RangeCase(since: .min, until: -4, kept: [.min, -5]),
        RangeCase(since: -5, until: -5, kept: []),
        RangeCase(since: .max, until: nil, kept: [.max]),
        // An explicit until: .max excludes t = Int64.max (until is exclusive).
        RangeCase(since: nil, until: .max, kept: [.min, -5, 10, 20, 30, 40]),
        RangeCase(since: nil, until: .max - 1, kept: [.min, -5, 10, 20, 30, 40]),
        RangeCase(since: .min + 1, until: nil, kept: [-5, 10, 20, 30, 40, .max]),
    ]

    @Test(arguments: rangeCases)
    func blockWriterKeepsOnlyEventsInTheTimeRange(_ entry: RangeCase) throws {
        let events = Self.rangeTimes.map { Event(time: $0, duration: 1, counts: [Self.a]) }
        // Two blocks, so the range applies per block and across them.
        let segment = try buildSegment(blocks: [Array(events[..<3]), Array(events[3...])])
        let range = TimeRange(since: entry.since, until: entry.until)
        let (output, written) = try blockWriterOutput(segment.bytes, range: range)
        let expected = entry.kept.flatMap { CanonicalJSON.line(for: Event(time: $0, duration: 1, counts: [Self.a])) }
        #expect(written == entry.kept.count)
        #expect(output == expected)
    }
}

/// The frames of `bytes` (frames only, back to back, no header): offset and inflated payload.
func framePayloads(_ bytes: [UInt8], from start: Int = 0) throws -> [(offset: Int, payload: [UInt8])] {
    var out: [(offset: Int, payload: [UInt8])] = []
    var position = start
    let inflater = Inflater()
    while position < bytes.count {
        try #require(Array(bytes[position..<(position + 4)]) == [0xB5, 0x0C, 0x4B, 0x1D])
        let length = (0..<4).reduce(0) { $0 | Int(bytes[position + 4 + $1]) << (8 * $1) }
        let stored = Array(bytes[(position + BlockFrame.headerSize)..<(position + BlockFrame.headerSize + length)])
        var payload: [UInt8] = []
        try stored.withUnsafeBytes { try inflater.inflate($0, into: &payload) }
        out.append((position, payload))
        position += BlockFrame.headerSize + length
    }
    return out
}
