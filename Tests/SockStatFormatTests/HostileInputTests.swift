import Testing
@testable import SockStatFormat

// Hostile input of issue 5: payloads and frames built to hit every limit of
// Spec/FORMAT.md section 8 at and past its value, varints of 11 and more
// bytes in every field, dictionary abuse, huge declared lengths, and blocks
// of hundreds of thousands of tiny records. Each hostile block sits between
// two good blocks of its segment and must be reported as damage at its own
// frame (offset and length), with both neighbours read; each block at a
// limit must decode to exactly the events it was built from. Memory: the
// decoded columns of a block stay within 21 bytes per payload byte (the
// bound stated in Spec/GUARANTEES.md), checked from the buffers' capacities.

/// A segment of sequence 7: a good block (index 0), the block under test
/// (index 1, or whatever its payload says), a good block (index 5).
struct HostileSegment {
    var bytes: [UInt8]
    var frame: Range<Int>
    var good: [Event]

    static let goodEvent = Event(time: 10, duration: 1, counts: [LabelCounts(label: Label("good"), tx: 1, rx: 2)])

    init(stored: [UInt8]) throws {
        var segment = try buildSegment(sequence: 7, blocks: [[Self.goodEvent]])
        let start = segment.bytes.count
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &segment.bytes) }
        frame = start..<segment.bytes.count
        var encoder = BlockEncoder(segmentSequence: 7)
        var discarded: [UInt8] = []
        for _ in 0..<5 {
            try encoder.append(Self.goodEvent)
            encoder.finishBlock(using: Deflater(), appendingTo: &discarded)
        }
        try encoder.append(Self.goodEvent)
        encoder.finishBlock(using: Deflater(), appendingTo: &segment.bytes)
        bytes = segment.bytes
        good = [Self.goodEvent, Self.goodEvent]
    }

    init(payload: [UInt8]) throws {
        var stored: [UInt8] = []
        payload.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
        try self.init(stored: stored)
    }
}

/// One hostile payload and what the Spec says of it: the events it holds
/// (built from the same values as the payload), or nil when it is damaged.
struct HostileCase: CustomTestStringConvertible, Sendable {
    var name: String
    var payload: [UInt8]
    var events: [Event]?
    var testDescription: String { name }
}

/// The builder for block 1 of segment 7, base time `base`.
private let base: Int64 = 1_000
private func block() -> PayloadBuilder { PayloadBuilder(sequence: 7, blockIndex: 1, baseTime: base) }

/// An event of block 1 at the base time with no gap and no duration change.
private func firstEvent(_ entries: [(Label, UInt64, UInt64)]) -> Event {
    canonical(Event(time: base, duration: 0, counts: entries.map { LabelCounts(label: $0.0, tx: $0.1, rx: $0.2) }))
}

/// Bytes of a varint that a reader must reject, by what is wrong with it.
enum BadVarint: String, CaseIterable, Sendable {
    case elevenBytes, twelveBytes, tenthByteTwo, overlongTwoBytes, overlongTenBytes, thousandContinuationBytes

    var bytes: [UInt8] {
        switch self {
        case .elevenBytes: [UInt8](repeating: 0xFF, count: 10) + [0x01]
        case .twelveBytes: [UInt8](repeating: 0x80, count: 11) + [0x01]
        case .tenthByteTwo: [UInt8](repeating: 0xFF, count: 9) + [0x02]
        case .overlongTwoBytes: [0x80, 0x00]
        case .overlongTenBytes: [UInt8](repeating: 0x80, count: 9) + [0x00]
        case .thousandContinuationBytes: [UInt8](repeating: 0x80, count: 1_000) + [0x01]
        }
    }
}

/// Every varint field of a payload, with `bad` in its place (and the record
/// length, where there is one, covering it).
enum VarintField: String, CaseIterable, Sendable {
    case segmentSequence, blockIndex, baseTime, recordHeader, labelID, gap, durationDelta, tripleID, tx, rx

    func payload(with bad: [UInt8]) -> [UInt8] {
        let preamble = leb128(7) + leb128(1) + leb128(zigZag(base))
        let label = leb128(UInt64(3) << 3 | 1) + [0x00, 0x61, 0x62]  // id 0 = "ab"
        func record(_ type: UInt64, _ body: [UInt8]) -> [UInt8] { leb128(UInt64(body.count) << 3 | type) + body }
        switch self {
        case .segmentSequence: return bad + leb128(1) + leb128(zigZag(base))
        case .blockIndex: return leb128(7) + bad + leb128(zigZag(base))
        case .baseTime: return leb128(7) + leb128(1) + bad
        case .recordHeader: return preamble + bad + [0x00]
        case .labelID: return preamble + record(1, bad + [0x61])
        case .gap: return preamble + label + record(2, bad + [0x00, 0x00, 0x01, 0x01])
        case .durationDelta: return preamble + label + record(4, bad + [0x00, 0x01, 0x01])
        case .tripleID: return preamble + label + record(4, [0x00] + bad + [0x01, 0x01])
        case .tx: return preamble + label + record(4, [0x00, 0x00] + bad + [0x01])
        case .rx: return preamble + label + record(4, [0x00, 0x00, 0x01] + bad)
        }
    }
}

struct HostileInputTests {
    // MARK: Limits, at and past

    static let limitCases: [HostileCase] = {
        var cases: [HostileCase] = []
        let longest = Label(bytes: [UInt8](repeating: 0x7A, count: FormatLimits.maxLabelBytes))
        cases.append(HostileCase(name: "label of 1024 bytes", payload: block().with {
            $0.label(id: 0, longest.bytes)
            $0.event([[0, 3, 4]])
        }.bytes, events: [firstEvent([(longest, 3, 4)])]))
        cases.append(HostileCase(name: "label of 1025 bytes", payload: block().with {
            $0.label(id: 0, longest.bytes + [0x7A])
            $0.event([[0, 3, 4]])
        }.bytes, events: nil))
        cases.append(HostileCase(name: "empty label", payload: block().with {
            $0.label(id: 0, [])
            $0.event([[0, 3, 4]])
        }.bytes, events: [firstEvent([(Label(""), 3, 4)])]))
        for count in [FormatLimits.maxLabelsPerEvent, FormatLimits.maxLabelsPerEvent + 1] {
            let labels = (0..<count).map { Label("n\($0)") }
            let payload = block().with { builder in
                for (id, label) in labels.enumerated() { builder.label(id: UInt64(id), label.bytes) }
                builder.event(labels.indices.map { [UInt64($0), UInt64($0), 1] })
            }
            cases.append(HostileCase(name: "\(count) labels in one event", payload: payload.bytes,
                                     events: count <= FormatLimits.maxLabelsPerEvent
                                         ? [firstEvent(labels.enumerated().map { ($0.element, UInt64($0.offset), 1) })] : nil))
        }
        for id in [UInt64(FormatLimits.labelIDLimit - 1), UInt64(FormatLimits.labelIDLimit), 1 << 32, 1 << 63, .max] {
            cases.append(HostileCase(name: "label id \(id)", payload: block().with {
                $0.label(id: id, "x")
                $0.event([[id, 1, 1]])
            }.bytes, events: id < UInt64(FormatLimits.labelIDLimit) ? [firstEvent([(Label("x"), 1, 1)])] : nil))
        }
        cases.append(HostileCase(name: "event with no labels", payload: block().with { $0.event([]) }.bytes,
                                 events: [firstEvent([])]))
        // Inflated payload of exactly the limit, and one byte more (an unknown record pads it).
        for size in [FormatLimits.maxBlockBytes, FormatLimits.maxBlockBytes + 1] {
            var payload = block().with { $0.label(id: 0, "p"); $0.event([[0, 1, 1]]) }.bytes
            var header = UInt64(0) << 3 | 7
            var padding = 0
            // Pick the padding so that header + padding ends exactly at `size`.
            for headerBytes in 1...10 {
                padding = size - payload.count - headerBytes
                header = UInt64(padding) << 3 | 7
                if leb128(header).count == headerBytes { break }
            }
            payload += leb128(header) + [UInt8](repeating: 0, count: padding)
            precondition(payload.count == size)
            cases.append(HostileCase(name: "payload of \(size) bytes", payload: payload,
                                     events: size <= FormatLimits.maxBlockBytes ? [firstEvent([(Label("p"), 1, 1)])] : nil))
        }
        return cases
    }()

    @Test(arguments: limitCases)
    func aBlockAtALimitDecodesAndOnePastItIsDamageAtItsFrame(_ hostile: HostileCase) throws {
        try check(hostile)
    }

    // MARK: Varints of 11 and more bytes, overlong, overflowing, in every field

    static let varintCases: [HostileCase] = VarintField.allCases.flatMap { field in
        BadVarint.allCases.map { bad in
            HostileCase(name: "\(field) as \(bad)", payload: field.payload(with: bad.bytes), events: nil)
        } + [HostileCase(name: "\(field) cut short", payload: field.truncated, events: nil)]
    }

    @Test(arguments: varintCases)
    func aBadVarintInAnyFieldIsDamageAtItsFrame(_ hostile: HostileCase) throws {
        try check(hostile)
    }

    @Test func theVarintFieldsReadBackWhenTheirVarintsAreGood() throws {
        // The same payloads with a good varint in place decode: the damage above is the varint's.
        for field in VarintField.allCases {
            let good: [UInt8] = switch field {
            case .segmentSequence: leb128(7)
            case .blockIndex: leb128(1)
            case .baseTime: leb128(zigZag(base))
            case .recordHeader: [0x00]  // an empty record of type 0
            case .labelID: [0x01]
            case .gap, .durationDelta, .tripleID: [0x00]
            case .tx, .rx: [0x01]
            }
            let payload = field.payload(with: good)
            let result = decodePayload(payload)
            #expect((try? result.get()) != nil, "\(field): \(result)")
        }
    }

    // MARK: The dictionary abused

    static let dictionaryCases: [HostileCase] = [
        HostileCase(name: "id never defined", payload: block().with { $0.label(id: 1, "a"); $0.event([[0, 1, 1]]) }.bytes, events: nil),
        HostileCase(name: "id used before its definition", payload: block().with { $0.event([[0, 1, 1]]); $0.label(id: 0, "a") }.bytes, events: nil),
        HostileCase(name: "id defined twice, same text", payload: block().with { $0.label(id: 2, "a"); $0.label(id: 2, "a") }.bytes, events: nil),
        HostileCase(name: "id defined twice, other text", payload: block().with { $0.label(id: 2, "a"); $0.label(id: 2, "b") }.bytes, events: nil),
        HostileCase(name: "text defined under two ids", payload: block().with { $0.label(id: 2, "a"); $0.label(id: 3, "a") }.bytes, events: nil),
        HostileCase(name: "one id twice in an event", payload: block().with { $0.label(id: 0, "a"); $0.event([[0, 1, 1], [0, 1, 1]]) }.bytes, events: nil),
        HostileCase(name: "label record with no id", payload: block().with { $0.record(type: 1, []) }.bytes, events: nil),
    ]

    @Test(arguments: dictionaryCases)
    func dictionaryAbuseIsDamageAtItsFrame(_ hostile: HostileCase) throws {
        try check(hostile)
    }

    // MARK: Huge declared lengths

    static let lengthCases: [HostileCase] = {
        let preamble = block().bytes
        let body: [UInt8] = [0x00, 0x00]  // an adjacent event with no labels, duration delta 0 and one byte more
        return [
            HostileCase(name: "record length exactly what remains", payload: preamble + leb128(UInt64(1) << 3 | 4) + [0x00],
                        events: [firstEvent([])]),
            HostileCase(name: "record length one past what remains", payload: preamble + leb128(UInt64(body.count + 1) << 3 | 4) + body, events: nil),
            HostileCase(name: "record length 2^32", payload: preamble + leb128(UInt64(1) << 35 | 4) + body, events: nil),
            HostileCase(name: "record length 2^61 - 1", payload: preamble + leb128(UInt64.max & ~7 | 4) + body, events: nil),
            HostileCase(name: "unknown record claiming 4 MiB", payload: preamble + leb128(UInt64(FormatLimits.maxBlockBytes) << 3 | 6) + body, events: nil),
        ]
    }()

    @Test(arguments: lengthCases)
    func aDeclaredLengthPastThePayloadIsDamageAtItsFrame(_ hostile: HostileCase) throws {
        try check(hostile)
    }

    /// Frame lengths at and past the limit (FORMAT.md 5): a length in range
    /// with a matching CRC is a frame (whose bad deflate is damage); a length
    /// out of range is not, and the reader finds the next frame by its marker.
    @Test(arguments: [0, 1, FormatLimits.maxStoredBlockBytes, FormatLimits.maxStoredBlockBytes + 1, Int(UInt32.max)])
    func storedLengthsAtAndPastTheLimit(_ length: Int) throws {
        let inRange = length >= 1 && length <= FormatLimits.maxStoredBlockBytes
        // In range: that many bytes of junk with their CRC. Out of range: a frame header claiming it.
        let segment = try HostileSegment(stored: inRange ? [UInt8](repeating: 0xFF, count: length) : [0x03, 0x00])
        var bytes = segment.bytes
        if !inRange {
            bytes.replaceSubrange((segment.frame.lowerBound + 4)..<(segment.frame.lowerBound + 8),
                                  with: withUnsafeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, Array.init))
        }
        let outcome = readSegment(bytes)
        #expect(outcome.events == segment.good)
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frame.lowerBound, segment.frame.count]])
        #expect(outcome.damage.first?.reason.contains(inRange ? "deflate" : "out of range") == true, "\(outcome.damage)")
    }

    /// A header of 4096 bytes, the longest allowed, is read and its blocks
    /// follow it; one of 4097 is header damage and the blocks are still read.
    @Test(arguments: [FormatLimits.maxHeaderBytes, FormatLimits.maxHeaderBytes + 1])
    func headerLengthAtAndPastTheLimit(_ length: Int) throws {
        let segment = try HostileSegment(payload: block().with { $0.label(id: 0, "h"); $0.event([[0, 1, 1]]) }.bytes)
        var header = Array(segment.bytes[..<36])
        header[10] = UInt8(length & 0xFF)
        header[11] = UInt8(length >> 8)
        header += [UInt8](repeating: 0, count: min(length, FormatLimits.maxHeaderBytes) - 40)
        header += withUnsafeBytes(of: CRC32.checksum(header).littleEndian, Array.init)
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        let blocks = [HostileSegment.goodEvent, firstEvent([(Label("h"), 1, 1)]), HostileSegment.goodEvent]
        #expect(outcome.events == blocks)
        if length <= FormatLimits.maxHeaderBytes {
            #expect(outcome.header?.sequence == 7)
            #expect(outcome.damage == [])
        } else {
            #expect(outcome.header == nil)
            // The header's 40 fixed bytes, then what a longer header would have held.
            #expect(outcome.damage.map(\.offset) == [0, SegmentHeader.encodedSize])
        }
    }

    // MARK: Deeply repeated records, within the payload limit

    /// Every label id defined (65 536 label records), an event using the last
    /// 1 024 of them: a valid block. One definition more is damage.
    @Test(arguments: [false, true])
    func everyLabelIDDefinedDecodesAndOneMoreIsDamage(_ oneMore: Bool) throws {
        let limit = FormatLimits.labelIDLimit
        let names = (0..<limit).map { Label("l\($0)") }
        let used = Array((limit - FormatLimits.maxLabelsPerEvent)..<limit)
        var builder = block()
        for id in 0..<limit { builder.label(id: UInt64(id), names[id].bytes) }
        if oneMore { builder.label(id: UInt64(limit), "extra") }
        builder.event(used.map { [UInt64($0), UInt64($0), 2] })
        try check(HostileCase(name: "all ids", payload: builder.bytes,
                              events: oneMore ? nil : [firstEvent(used.map { (names[$0], UInt64($0), 2) })]))
    }

    /// Payloads of one tiny record repeated to fill 1 MiB (the writer's block
    /// cap; 4 MiB is checked in a child process by HostileMemoryTests):
    /// empty unknown records, empty events (2 bytes each: 524 286 events), and
    /// events of one label (5 bytes each). Each decodes to exactly the events
    /// its records say, and the decoded columns stay within 21 bytes per
    /// payload byte.
    @Test(arguments: ["unknown records", "empty events", "one-label events"])
    func aMegabyteOfTinyRecordsDecodesWithinTheMemoryBound(_ kind: String) throws {
        let size = 1 << 20
        var payload = block().bytes
        let record: [UInt8]
        var expectedEvent: Event?
        switch kind {
        case "unknown records": record = [0x00]                     // type 0, length 0
        case "empty events":
            record = [0x0C, 0x00]                                   // type 4, length 1: duration delta 0
            expectedEvent = firstEvent([])
        default:
            payload += leb128(UInt64(2) << 3 | 1) + [0x00, 0x61]    // id 0 = "a"
            record = [0x24, 0x00, 0x00, 0x01, 0x02]                 // type 4, length 4: delta 0, id 0, tx 1, rx 2
            expectedEvent = firstEvent([(Label("a"), 1, 2)])
        }
        let count = (size - payload.count) / record.count
        payload.reserveCapacity(size)
        for _ in 0..<count { payload.append(contentsOf: record) }
        var decoder = BlockDecoder()
        var decoded = DecodedBlock()
        var failure: BlockError?
        payload.withUnsafeBytes { raw in
            do throws(BlockError) { try decoder.decodePayload(raw, into: &decoded) } catch { failure = error }
        }
        #expect(failure == nil)
        let events = expectedEvent == nil ? 0 : count
        #expect(decoded.eventCount == events)
        if let expectedEvent, events > 0 {
            // Adjacent events of duration 0 all start at the base time.
            #expect(decoded.event(at: 0) == expectedEvent)
            #expect(decoded.event(at: events - 1) == expectedEvent)
        }
        let retained = Self.retainedBytes(decoded)
        #expect(retained <= 21 * payload.count + (1 << 16), "\(retained) bytes kept for a payload of \(payload.count)")
    }

    /// The bytes a decoded block's buffers hold (capacities, not counts).
    static func retainedBytes(_ block: DecodedBlock) -> Int {
        block.times.capacity * 8 + block.durations.capacity * 8 + block.cellular.capacity + block.entryStart.capacity * 4
            + block.entrySlots.capacity * 4 + block.tx.capacity * 8 + block.rx.capacity * 8
            + block.labelBytes.capacity + block.labelStart.capacity * 4 + block.labelRank.capacity * 4
    }

    /// One decoder and block reused for many blocks (as every reader does):
    /// memory is that of the largest block, not the sum.
    @Test func buffersAreReusedAcrossBlocks() throws {
        var decoder = BlockDecoder()
        var decoded = DecodedBlock()
        var payload = block().bytes
        for _ in 0..<20_000 { payload += [0x0C, 0x00] }
        var kept: [Int] = []
        for _ in 0..<5 {
            payload.withUnsafeBytes { raw in try? decoder.decodePayload(raw, into: &decoded) }
            #expect(decoded.eventCount == 20_000)
            kept.append(Self.retainedBytes(decoded))
        }
        #expect(Set(kept).count == 1, "\(kept)")
    }

    // MARK: The checks every case gets

    func check(_ hostile: HostileCase) throws {
        let segment = try HostileSegment(payload: hostile.payload)
        let outcome = readSegment(segment.bytes)
        #expect(outcome.error == nil)
        if let events = hostile.events {
            #expect(outcome.damage == [], "\(outcome.steps)")
            #expect(outcome.events == [segment.good[0]] + events + [segment.good[1]])
        } else {
            // Damage at exactly its frame, neighbours read, a reason given, nothing of it emitted.
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frame.lowerBound, segment.frame.count]],
                    "\(outcome.steps)")
            #expect(outcome.damage.allSatisfy { !$0.reason.isEmpty })
            #expect(outcome.events == segment.good)
        }
    }
}

extension VarintField {
    /// The payload with this field's varint cut short by the end of what holds it.
    var truncated: [UInt8] {
        let preamble = leb128(7) + leb128(1) + leb128(zigZag(base))
        let label = leb128(UInt64(3) << 3 | 1) + [0x00, 0x61, 0x62]
        func record(_ type: UInt64, _ body: [UInt8]) -> [UInt8] { leb128(UInt64(body.count) << 3 | type) + body }
        switch self {
        case .segmentSequence: return [0x87]
        case .blockIndex: return leb128(7) + [0x81]
        case .baseTime: return leb128(7) + leb128(1) + [0xD0]
        case .recordHeader: return preamble + [0x80]
        case .labelID: return preamble + record(1, [0x80])
        case .gap: return preamble + label + record(2, [0x80])
        case .durationDelta: return preamble + label + record(4, [0x80])
        case .tripleID: return preamble + label + record(4, [0x00, 0x80])
        case .tx: return preamble + label + record(4, [0x00, 0x00, 0x80])
        case .rx: return preamble + label + record(4, [0x00, 0x00, 0x01, 0x80])
        }
    }
}
