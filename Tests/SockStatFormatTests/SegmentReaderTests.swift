import Testing
@testable import SockStatFormat
import TestSupport

// MARK: - Helpers shared by the block and segment suites

/// A segment built in memory, with where each block's frame lies.
struct BuiltSegment {
    var bytes: [UInt8]
    /// Byte range of each block's frame, in order.
    var frames: [Range<Int>]
    /// Each block's events, as appended.
    var blocks: [[Event]]

    /// The frame bytes of block `index`.
    func frame(_ index: Int) -> [UInt8] { Array(bytes[frames[index]]) }

    /// The events of the given blocks, in canonical order.
    func events(ofBlocks indices: some Sequence<Int>) -> [Event] {
        indices.flatMap { blocks[$0] }.map(canonical)
    }

    var header: [UInt8] { Array(bytes[..<SegmentHeader.encodedSize]) }
}

/// Builds a segment: a v1 header, then one block per element of `blocks`.
func buildSegment(sequence: UInt64 = 42, creationTime: Int64 = 1_764_288_339_865,
                  blocks: [[Event]]) throws -> BuiltSegment {
    var out = SegmentHeader(sequence: sequence, creationTime: creationTime).encoded()
    var encoder = BlockEncoder(segmentSequence: sequence)
    let deflater = Deflater()
    var frames: [Range<Int>] = []
    for events in blocks {
        for event in events { try encoder.append(event) }
        let start = out.count
        encoder.finishBlock(using: deflater, appendingTo: &out)
        frames.append(start..<out.count)
    }
    return BuiltSegment(bytes: out, frames: frames, blocks: blocks)
}

/// Everything one pass of `SegmentReader` over `bytes` reported.
struct ReadOutcome {
    var events: [Event] = []
    var damage: [Damage] = []
    var tornTail = 0
    var error: SegmentError?
    /// Offset and events of each block read.
    var blocks: [(offset: Int, events: [Event])] = []
    var header: SegmentHeader?
    /// Every step, in order, as text (for failure messages).
    var steps: [String] = []
}

/// Reads `bytes` to the end with `SegmentReader`, recording an issue if it
/// does not end (each step must consume bytes, so a bound is easy to give).
func readSegment(_ bytes: [UInt8]) -> ReadOutcome {
    var outcome = ReadOutcome()
    var reader: SegmentReader
    do {
        reader = try SegmentReader(bytes: bytes)
    } catch {
        outcome.error = error
        return outcome
    }
    outcome.header = reader.header
    var decoder = BlockDecoder()
    var block = DecodedBlock()
    var ended = false
    for _ in 0..<(bytes.count + 3) {
        switch reader.next(into: &block, using: &decoder) {
        case .block(let offset):
            let events = block.events
            outcome.blocks.append((offset, events))
            outcome.events += events
            outcome.steps.append("block at \(offset): \(events.count) events")
        case .damage(let damage):
            outcome.damage.append(damage)
            outcome.steps.append("damage \(damage)")
        case .end(let tornTail):
            outcome.tornTail = tornTail
            outcome.steps.append("end, torn tail \(tornTail)")
            ended = true
        }
        if ended { break }
    }
    if !ended { Issue.record("SegmentReader did not reach the end of \(bytes.count) bytes") }
    return outcome
}

/// Reads `bytes` to the end: all events, all damage, the torn tail, or the error.
func readAll(_ bytes: [UInt8]) -> (events: [Event], damage: [Damage], tornTail: Int, error: SegmentError?) {
    let outcome = readSegment(bytes)
    return (outcome.events, outcome.damage, outcome.tornTail, outcome.error)
}

/// A copy of `bytes` with the byte at `index` XORed with `mask`.
func flipping(_ bytes: [UInt8], at index: Int, with mask: UInt8 = 0xFF) -> [UInt8] {
    var copy = bytes
    copy[index] ^= mask
    return copy
}

/// A header with its checksum recomputed after `change` edits bytes 0 ..< 36.
func rewrittenHeader(_ header: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
    var fields = Array(header[..<36])
    change(&fields)
    let crc = CRC32.checksum(fields)
    return fields + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
}

// MARK: - Segment reading

@Suite struct SegmentReaderTests {
    static let creationTime: Int64 = 1_764_288_339_865

    /// Four blocks of a few events each, every block with labels of its own.
    static let standardBlocks: [[Event]] = {
        let t = creationTime
        func counts(_ pairs: [(String, UInt64, UInt64)]) -> [LabelCounts] {
            pairs.map { LabelCounts(label: Label($0.0), tx: $0.1, rx: $0.2) }
        }
        return [
            [
                Event(time: t, duration: 100, counts: counts([("8", 1024, 96), ("2", 148, 148)])),
                Event(time: t + 100, duration: 100, counts: counts([("wlan0", 1, 2)])),
                Event(time: t + 250, duration: 50, counts: counts([("8", 0, 7), ("wlan0", 3, 0)])),
            ],
            [
                Event(time: t + 1000, duration: 100, isCellular: true, counts: counts([("rmnet0", 40, 60)])),
                Event(time: t + 1100, duration: 100, counts: counts([("dns", 5, 5), ("8", 9, 9)])),
            ],
            [
                Event(time: t + 2000, duration: 0, counts: []),
                Event(time: t + 2100, duration: 100, counts: counts([("z", .max, 0), ("", 1, 1)])),
                Event(time: t + 2200, duration: 100, isCellular: true, counts: counts([("é", 2, 3)])),
            ],
            [
                Event(time: t + 3000, duration: 100, counts: counts([("last", 11, 22)])),
            ],
        ]
    }()

    static func standardSegment(sequence: UInt64 = 42) throws -> BuiltSegment {
        try buildSegment(sequence: sequence, creationTime: creationTime, blocks: standardBlocks)
    }

    // MARK: Intact segments

    @Test func intactSegmentYieldsEveryBlockInOrder() throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(segment.bytes)
        #expect(outcome.error == nil)
        #expect(outcome.damage == [])
        #expect(outcome.tornTail == 0)
        #expect(outcome.header == SegmentHeader(sequence: 42, creationTime: Self.creationTime))
        #expect(outcome.blocks.map(\.offset) == segment.frames.map(\.lowerBound))
        #expect(outcome.blocks.map(\.events) == Self.standardBlocks.map { $0.map(canonical) })
        #expect(segment.frames.first?.lowerBound == SegmentHeader.encodedSize)
        #expect(segment.frames.last?.upperBound == segment.bytes.count)
    }

    @Test func headerBytesAreTheDocumentedLayout() {
        // Computed with Python's struct and zlib.crc32 from Spec/FORMAT.md's layout.
        #expect(SegmentHeader(sequence: 7, creationTime: Self.creationTime).encoded() == [
            0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A,  // magic
            0x01, 0x00, 0x28, 0x00,  // version 1, header length 40
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // incompatible, compatible features
            0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // sequence 7
            0x99, 0x9F, 0xC7, 0xC7, 0x9A, 0x01, 0x00, 0x00,  // creation time 1764288339865
            0xC2, 0x92, 0x35, 0xAA,  // CRC-32 of the 36 bytes before
        ])
    }

    @Test func handWrittenSegmentIsRead() {
        // Header as above; one frame written out by hand: the stored bytes are a
        // DEFLATE stored block holding a hand-written payload, CRC from Python's zlib.
        let header: [UInt8] = [
            0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A, 0x01, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x99, 0x9F, 0xC7, 0xC7,
            0x9A, 0x01, 0x00, 0x00, 0xC2, 0x92, 0x35, 0xAA,
        ]
        let frame: [UInt8] = [
            0xB5, 0x0C, 0x4B, 0x1D, 0x1A, 0x00, 0x00, 0x00,  // marker, length 26
            0x08, 0x9A, 0x08, 0x08, 0x3D, 0x19, 0x1E, 0xB8,  // CRC of the stored bytes, header check
            0x01, 0x15, 0x00, 0xEA, 0xFF,  // final stored block of 21 bytes
            0x07, 0x00, 0xD0, 0x0F, 0x11, 0x00, 0x61, 0x11, 0x01, 0x62, 0x52, 0x00, 0xC8, 0x01, 0x00, 0xAC,
            0x02, 0x00, 0x01, 0x01, 0x02,
        ]
        let outcome = readSegment(header + frame)
        #expect(outcome.damage == [])
        #expect(outcome.blocks.map(\.offset) == [40])
        #expect(outcome.events == [Event(time: 1000, duration: 100, counts: [
            LabelCounts(label: Label("a"), tx: 300, rx: 0), LabelCounts(label: Label("b"), tx: 1, rx: 2),
        ])])
    }

    @Test func segmentWithoutBlocksEndsCleanly() {
        let outcome = readSegment(SegmentHeader(sequence: 1, creationTime: 0).encoded())
        #expect(outcome.error == nil)
        #expect(outcome.damage == [])
        #expect(outcome.events == [])
        #expect(outcome.tornTail == 0)
        #expect(outcome.header?.sequence == 1)
    }

    @Test func readingPastTheEndKeepsReportingTheEnd() throws {
        let segment = try Self.standardSegment()
        for bytes in [segment.bytes, segment.bytes + [0, 0, 0], segment.bytes + Array("junk".utf8), Array(segment.bytes[..<20])] {
            var reader = try SegmentReader(bytes: bytes)
            var decoder = BlockDecoder()
            var block = DecodedBlock()
            var ends = 0
            for _ in 0..<(bytes.count + 10) {
                if case .end = reader.next(into: &block, using: &decoder) { ends += 1 }
            }
            // The first end may report a torn tail; every later one is a bare end.
            #expect(ends > 5)
            guard case .end(let tornTail) = reader.next(into: &block, using: &decoder) else {
                Issue.record("not at the end")
                continue
            }
            #expect(tornTail == 0)
        }
    }

    // MARK: Truncation

    @Test func everyPrefixYieldsExactlyTheCompleteBlocks() throws {
        let segment = try Self.standardSegment()
        let headerSize = SegmentHeader.encodedSize
        for length in 0...segment.bytes.count {
            let outcome = readSegment(Array(segment.bytes[..<length]))
            if length == 0 {
                #expect(outcome.error?.code == .notASegment)
                continue
            }
            #expect(outcome.error == nil, "prefix \(length)")
            if length < headerSize {
                // A cut header: reported, and there is nothing after it.
                #expect(outcome.damage.map { [$0.offset, $0.length] } == [[0, length]], "prefix \(length)")
                #expect(outcome.events == [], "prefix \(length)")
                #expect(outcome.tornTail == 0, "prefix \(length)")
                continue
            }
            let complete = segment.frames.indices.filter { segment.frames[$0].upperBound <= length }
            let completeEnd = complete.last.map { segment.frames[$0].upperBound } ?? headerSize
            #expect(outcome.damage == [], "prefix \(length): \(outcome.steps)")
            #expect(outcome.events == segment.events(ofBlocks: complete), "prefix \(length)")
            #expect(outcome.tornTail == length - completeEnd, "prefix \(length)")
        }
    }

    @Test func truncatedTrailingBlockIsACleanEnd() throws {
        let segment = try Self.standardSegment()
        let last = segment.frames[3]
        for cut in [1, 3, 4, 11, 12, 13, last.count - 1] {
            let outcome = readSegment(Array(segment.bytes[..<(last.lowerBound + cut)]))
            #expect(outcome.damage == [])
            #expect(outcome.tornTail == cut)
            #expect(outcome.events == segment.events(ofBlocks: 0..<3))
        }
    }

    @Test func blockCutShortByTheNextBlockIsReported() throws {
        // A writer died mid-block, and a later writer appended after the torn bytes.
        let segment = try Self.standardSegment()
        for cut in [1, 4, 8, 12, 13, segment.frames[2].count - 1] {
            let bytes = Array(segment.bytes[..<segment.frames[2].lowerBound])
                + Array(segment.frame(2).prefix(cut)) + segment.frame(3)
            let outcome = readSegment(bytes)
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frames[2].lowerBound, cut]], "cut \(cut)")
            #expect(outcome.events == segment.events(ofBlocks: [0, 1, 3]))
            #expect(outcome.tornTail == 0)
        }
    }

    // MARK: Damaged blocks

    static let flipMasks: [UInt8] = [0x01, 0x80, 0xFF]

    @Test(arguments: [0, 1, 2])
    func anyByteFlippedInABlockCostsOnlyThatBlock(_ damaged: Int) throws {
        let segment = try Self.standardSegment()
        let frame = segment.frames[damaged]
        let others = segment.blocks.indices.filter { $0 != damaged }
        for index in frame {
            for mask in Self.flipMasks {
                let outcome = readSegment(flipping(segment.bytes, at: index, with: mask))
                let where_ = "byte \(index - frame.lowerBound) of block \(damaged) ^ \(mask)"
                #expect(outcome.error == nil, "\(where_)")
                #expect(outcome.events == segment.events(ofBlocks: others), "\(where_): \(outcome.steps)")
                #expect(outcome.damage.map { [$0.offset, $0.length] } == [[frame.lowerBound, frame.count]],
                        "\(where_): \(outcome.steps)")
                #expect(outcome.tornTail == 0, "\(where_)")
            }
        }
    }

    @Test func badMarkerIsReportedAndSkipped() throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(flipping(segment.bytes, at: segment.frames[1].lowerBound + 2, with: 0x10))
        #expect(outcome.damage.count == 1)
        #expect(outcome.damage.first?.offset == segment.frames[1].lowerBound)
        #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]))
    }

    @Test func badLengthIsReportedAndSkipped() throws {
        let segment = try Self.standardSegment()
        let lengthAt = segment.frames[1].lowerBound + 4
        // Shorter, longer but inside the file, past the file, zero, beyond the limit.
        let stored = segment.frames[1].count - BlockFrame.headerSize
        for length in [stored - 1, stored + 1, segment.bytes.count, 0, FormatLimits.maxStoredBlockBytes + 1] {
            var bytes = segment.bytes
            for shift in 0..<4 { bytes[lengthAt + shift] = UInt8(truncatingIfNeeded: length >> (8 * shift)) }
            let outcome = readSegment(bytes)
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frames[1].lowerBound, segment.frames[1].count]],
                    "length \(length)")
            #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]), "length \(length)")
        }
    }

    @Test func checksumMismatchCostsOnlyThatBlock() throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(flipping(segment.bytes, at: segment.frames[2].lowerBound + 9, with: 0x04))
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frames[2].lowerBound, segment.frames[2].count]])
        #expect(outcome.events == segment.events(ofBlocks: [0, 1, 3]))
    }

    @Test func damageInTheLastBlockRunsToTheEndOfTheFile() throws {
        let segment = try Self.standardSegment()
        let frame = segment.frames[3]
        // Marker, checksum and stored bytes; the length is covered below.
        for index in Array(frame.lowerBound..<(frame.lowerBound + 4)) + Array((frame.lowerBound + 8)..<frame.upperBound) {
            let outcome = readSegment(flipping(segment.bytes, at: index, with: 0x01))
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[frame.lowerBound, frame.count]],
                    "byte \(index - frame.lowerBound)")
            #expect(outcome.events == segment.events(ofBlocks: 0..<3))
            #expect(outcome.tornTail == 0)
        }
    }

    @Test func lastBlockLengthFlipIsDamageWhereverItPoints() throws {
        // The header check covers the length, so a last block whose damaged
        // length points past the end of the file is damage, not a torn write
        // (before the check it ended the segment cleanly, a block lost with
        // exit status 0).
        let segment = try Self.standardSegment()
        let frame = segment.frames[3]
        let stored = frame.count - BlockFrame.headerSize
        for index in (frame.lowerBound + 4)..<(frame.lowerBound + 8) {
            for mask in Self.flipMasks {
                let length = stored ^ (Int(mask) << (8 * (index - frame.lowerBound - 4)))
                let outcome = readSegment(flipping(segment.bytes, at: index, with: mask))
                #expect(outcome.events == segment.events(ofBlocks: 0..<3))
                #expect(outcome.damage.map { [$0.offset, $0.length] } == [[frame.lowerBound, frame.count]], "length \(length)")
                #expect(outcome.tornTail == 0, "length \(length)")
            }
        }
    }

    /// A block written in part and followed by whole blocks (a torn write
    /// with more appended after it) is damage up to the next block, which is
    /// read: a frame whose header holds does not hide what its length covers.
    @Test func aBlockCutShortHidesNothingAfterIt() throws {
        let segment = try Self.standardSegment()
        let cut = segment.frames[1]
        for kept in [BlockFrame.headerSize, BlockFrame.headerSize + 1, cut.count / 2, cut.count - 1] {
            let bytes = Array(segment.bytes[..<(cut.lowerBound + kept)]) + Array(segment.bytes[cut.upperBound...])
            let outcome = readSegment(bytes)
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[cut.lowerBound, kept]], "kept \(kept)")
            #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]), "kept \(kept)")
        }
    }

    @Test func zeroedRunBeforeValidBlocksIsDamageNotATornTail() throws {
        let segment = try Self.standardSegment()
        var bytes = segment.bytes
        for index in segment.frames[1] { bytes[index] = 0 }
        let outcome = readSegment(bytes)
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.frames[1].lowerBound, segment.frames[1].count]])
        #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]))
        #expect(outcome.tornTail == 0)
    }

    // MARK: Header damage

    @Test func anyHeaderByteFlippedAfterTheMagicIsReportedAndBlocksAreRead() throws {
        let segment = try Self.standardSegment()
        for index in 8..<SegmentHeader.encodedSize {
            for mask in Self.flipMasks {
                let outcome = readSegment(flipping(segment.bytes, at: index, with: mask))
                #expect(outcome.error == nil, "header byte \(index) ^ \(mask)")
                #expect(outcome.header == nil, "header byte \(index) ^ \(mask)")
                #expect(outcome.damage.map { [$0.offset, $0.length] } == [[0, SegmentHeader.encodedSize]],
                        "header byte \(index) ^ \(mask): \(outcome.steps)")
                #expect(outcome.events == segment.events(ofBlocks: 0..<4), "header byte \(index) ^ \(mask)")
                #expect(outcome.tornTail == 0)
            }
        }
    }

    @Test func flippedCreationTimeIsHeaderDamageOnly() throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(flipping(segment.bytes, at: 30, with: 0x01))
        #expect(outcome.damage.count == 1)
        #expect(outcome.damage.first?.offset == 0)
        #expect(outcome.blocks.map(\.offset) == segment.frames.map(\.lowerBound))
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func badMagicIsNotASegment() throws {
        let segment = try Self.standardSegment()
        for index in 0..<8 {
            for mask in Self.flipMasks {
                let outcome = readSegment(flipping(segment.bytes, at: index, with: mask))
                #expect(outcome.error?.code == .notASegment, "magic byte \(index) ^ \(mask)")
                #expect(outcome.error?.offset == index, "magic byte \(index) ^ \(mask)")
                #expect(outcome.events == [])
            }
        }
    }

    @Test(arguments: [
        [], Array(#"{"t":1,"d":2,"s":{}}"#.utf8), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0x00],
        [0x89, 0x53, 0x53, 0x4D], [0xB5, 0x0C, 0x4B, 0x1D],
    ] as [[UInt8]])
    func otherFilesAreNotSegments(_ bytes: [UInt8]) {
        #expect(readSegment(bytes).error?.code == .notASegment)
    }

    @Test func headerCutInsideTheMagicIsHeaderDamage() {
        for length in 1...8 {
            let outcome = readSegment(Array(SegmentHeader.magic.prefix(length)))
            #expect(outcome.error == nil)
            #expect(outcome.damage.count == 1)
            #expect(outcome.events == [])
        }
    }

    @Test(arguments: [0, 2, 3, 0x0100, 0xFFFF] as [UInt16])
    func unsupportedVersionIsRefused(_ version: UInt16) throws {
        let segment = try Self.standardSegment()
        let header = rewrittenHeader(segment.header) {
            $0[8] = UInt8(version & 0xFF)
            $0[9] = UInt8(version >> 8)
        }
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.error?.code == .unsupported)
        #expect(outcome.error?.offset == 8)
        #expect(outcome.events == [])
    }

    @Test(arguments: [1, 7, 15, 31])
    func unknownIncompatibleFeatureIsRefused(_ bit: Int) throws {
        let segment = try Self.standardSegment()
        let header = rewrittenHeader(segment.header) { $0[12 + bit / 8] |= 1 << UInt8(bit % 8) }
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.error?.code == .unsupported)
        #expect(outcome.error?.offset == 12)
    }

    /// Bit 0 is known (a rollup tier, FORMAT.md 4.1), but a 40-byte header
    /// has no room for its fields: refused at offset 36.
    @Test func theRollupBitWithoutItsFieldsIsRefused() throws {
        let segment = try Self.standardSegment()
        let header = rewrittenHeader(segment.header) { $0[12] |= 1 }
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.error?.code == .unsupported)
        #expect(outcome.error?.offset == 36)
        #expect(outcome.error?.description.contains("invalid rollup tier header") == true)
    }

    @Test func unknownCompatibleFeaturesAreIgnored() throws {
        let segment = try Self.standardSegment()
        let header = rewrittenHeader(segment.header) {
            $0[16] = 0x01
            $0[19] = 0x80
        }
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.error == nil)
        #expect(outcome.damage == [])
        #expect(outcome.header?.compatibleFeatures == 0x8000_0001)
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func longerHeaderIsSkippedByItsLength() throws {
        // A later writer's 48-byte header: 8 bytes a v1 reader skips, then the CRC.
        let segment = try Self.standardSegment()
        var header = Array(segment.header[..<36])
        header[10] = 48
        header += [0xDE, 0xAD, 0xBE, 0xEF, 0xB5, 0x0C, 0x4B, 0x1D]  // even a marker there is skipped
        let crc = CRC32.checksum(header)
        header += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.damage == [])
        #expect(outcome.header?.sequence == 42)
        #expect(outcome.blocks.first?.offset == 48)
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test(arguments: [0, 39, 4097, 0xFFFF] as [UInt16])
    func impossibleHeaderLengthIsHeaderDamage(_ length: UInt16) throws {
        let segment = try Self.standardSegment()
        let header = rewrittenHeader(segment.header) {
            $0[10] = UInt8(length & 0xFF)
            $0[11] = UInt8(length >> 8)
        }
        let outcome = readSegment(header + segment.bytes[SegmentHeader.encodedSize...])
        #expect(outcome.error == nil)
        #expect(outcome.header == nil)
        #expect(outcome.damage.map(\.offset) == [0])
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func oversizedSegmentIsRefused() {
        var bytes = [UInt8](repeating: 0, count: FormatLimits.maxSegmentBytes + 1)
        bytes.replaceSubrange(0..<40, with: SegmentHeader(sequence: 1, creationTime: 0).encoded())
        #expect(readSegment(bytes).error?.code == .tooLarge)
    }

    // MARK: Bytes after the last block

    @Test(arguments: ["x", "not a block, just junk", String(repeating: "junk ", count: 200)])
    func junkAppendedIsDamageAtTheEnd(_ junk: String) throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(segment.bytes + Array(junk.utf8))
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[segment.bytes.count, junk.utf8.count]])
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
        #expect(outcome.tornTail == 0)
    }

    @Test(arguments: [1, 2, 11, 12, 13, 4096])
    func zerosAppendedAreATornTail(_ count: Int) throws {
        let segment = try Self.standardSegment()
        let outcome = readSegment(segment.bytes + [UInt8](repeating: 0, count: count))
        #expect(outcome.damage == [])
        #expect(outcome.tornTail == count)
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func partialMarkerAppendedIsATornTail() throws {
        let segment = try Self.standardSegment()
        for count in 1...4 {
            let outcome = readSegment(segment.bytes + BlockFrame.marker.prefix(count))
            #expect(outcome.damage == [])
            #expect(outcome.tornTail == count)
        }
    }

    // MARK: Blocks out of place

    @Test func duplicatedBlockIsReportedAndItsEventsComeOnce() throws {
        let segment = try Self.standardSegment()
        let copyAt = segment.frames[1].upperBound
        var bytes = segment.bytes
        bytes.insert(contentsOf: segment.frame(1), at: copyAt)
        let outcome = readSegment(bytes)
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[copyAt, segment.frames[1].count]])
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func swappedBlocksReportTheOneOutOfOrder() throws {
        let segment = try Self.standardSegment()
        let bytes = segment.header + segment.frame(0) + segment.frame(2) + segment.frame(1) + segment.frame(3)
        let outcome = readSegment(bytes)
        let movedAt = segment.header.count + segment.frames[0].count + segment.frames[2].count
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[movedAt, segment.frames[1].count]])
        // Block 1 came after block 2: it is dropped so that output stays in order.
        #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]))
        let times = outcome.events.map(\.time)
        #expect(times == times.sorted())
    }

    @Test func frameFromAnotherSegmentIsReported() throws {
        let segment = try Self.standardSegment(sequence: 42)
        // Block index 2 of segment 99: accepted by index alone it would push out our block 2.
        let foreign = try buildSegment(sequence: 99, blocks: [[Self.standardBlocks[3][0]], [Self.standardBlocks[3][0]],
                                                              [Event(time: 5, duration: 5, counts: [])]])
        let insertAt = segment.frames[1].upperBound
        var bytes = segment.bytes
        bytes.insert(contentsOf: foreign.frame(2), at: insertAt)
        let outcome = readSegment(bytes)
        #expect(outcome.damage.map { [$0.offset, $0.length] } == [[insertAt, foreign.frames[2].count]])
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func foreignFrameInSegmentWithDamagedHeaderIsStillCaught() throws {
        // The header is damaged, so the sequence comes from the first good block.
        let segment = try Self.standardSegment(sequence: 42)
        let foreign = try buildSegment(sequence: 99, blocks: [[Event(time: 5, duration: 5, counts: [])]] + Array(repeating: [Event(time: 5, duration: 5, counts: [])], count: 2))
        var bytes = flipping(segment.bytes, at: 20)
        bytes.insert(contentsOf: foreign.frame(2), at: segment.frames[0].upperBound)
        let outcome = readSegment(bytes)
        #expect(outcome.damage.map(\.offset) == [0, segment.frames[0].upperBound])
        #expect(outcome.events == segment.events(ofBlocks: 0..<4))
    }

    @Test func checksumValidFrameOfBadDeflateIsReportedAndTheNextBlockRead() throws {
        let segment = try Self.standardSegment()
        let badStreams: [[UInt8]] = [
            [0xFF, 0xFF, 0xFF, 0xFF],  // reserved block type
            [0x01, 0x05, 0x00],  // stored block cut short
            [0x03, 0x00, 0x00],  // bytes after the stream
            [0x01, 0x01, 0x00, 0xFE, 0xFF, 0x07],  // inflates to a cut-short preamble
        ]
        for stored in badStreams {
            // The frame is written out here, checksum and all.
            let length = UInt32(stored.count)
            let lengthBytes = [UInt8(length), 0, 0, 0]
            let crc = CRC32.checksum(lengthBytes + stored)
            let frame = BlockFrame.marker + lengthBytes
                + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)] + stored
            let insertAt = segment.frames[1].upperBound
            var bytes = segment.bytes
            bytes.insert(contentsOf: frame, at: insertAt)
            let outcome = readSegment(bytes)
            #expect(outcome.damage.map { [$0.offset, $0.length] } == [[insertAt, frame.count]], "\(stored)")
            #expect(outcome.blocks.map(\.offset).contains(insertAt + frame.count))
            #expect(outcome.events == segment.events(ofBlocks: 0..<4), "\(stored)")
        }
    }

    @Test func blockIndexGapsAreFine() throws {
        // Blocks 0 and 2 of a segment whose block 1 was lost entirely.
        let segment = try Self.standardSegment()
        let outcome = readSegment(segment.header + segment.frame(0) + segment.frame(2) + segment.frame(3))
        #expect(outcome.damage == [])
        #expect(outcome.events == segment.events(ofBlocks: [0, 2, 3]))
    }

    // MARK: Anything goes in, nothing traps

    @Test func randomJunkNeverTrapsAndReportsSaneRegions() throws {
        var random = TestRandom(seed: 0x00BA_D5EC)
        let segment = try Self.standardSegment()
        let header = segment.header
        for round in 0..<600 {
            let size = random.below(4) == 0 ? random.below(64) : random.below(3000)
            let bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = random.bytes(size)
            case 1: bytes = SegmentHeader.magic + random.bytes(size)
            case 2: bytes = header + random.bytes(size)
            default:
                // Frames and junk spliced together.
                var spliced = header
                for _ in 0..<random.below(6) {
                    if random.oneIn(2) {
                        let frame = segment.frame(random.below(4))
                        spliced += random.oneIn(3) ? Array(frame.prefix(random.below(frame.count))) : frame
                    } else {
                        spliced += random.bytes(random.below(40))
                    }
                }
                bytes = spliced
            }
            checkSane(readSegment(bytes), of: bytes, knownBlocks: segment.blocks, round: round)
        }
    }

    @Test func randomlyMutatedSegmentsYieldOnlyIntactBlocks() throws {
        var random = TestRandom(seed: 0x0F11_9B17)
        var generator = EventGenerator(seed: 17)
        // Small events (at most 8 labels), so that 400 reads stay quick.
        let blocks = (0..<6).map { _ in
            (0..<(1 + generator.random.below(8))).map { _ in
                var event = generator.event()
                event.counts = Array(event.counts.prefix(8))
                return event
            }
        }
        let segment = try buildSegment(sequence: 3, blocks: blocks)
        for round in 0..<400 {
            var bytes = segment.bytes
            for _ in 0..<(1 + random.below(4)) {
                let index = random.below(bytes.count)
                switch random.below(4) {
                case 0: bytes[index] ^= UInt8(1 << random.below(8))
                case 1: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                }
            }
            if random.oneIn(4) { bytes.removeLast(random.below(bytes.count)) }
            let outcome = readSegment(bytes)
            checkSane(outcome, of: bytes, knownBlocks: blocks, round: round)
            // Nothing is ever lost without a trace: each block is read, or lies in
            // reported damage, the header damage or the torn tail.
        }
    }

    /// Checks what any read of any bytes must satisfy.
    private func checkSane(_ outcome: ReadOutcome, of bytes: [UInt8], knownBlocks: [[Event]], round: Int) {
        if outcome.error != nil {
            #expect(outcome.events == [] && outcome.damage == [], "round \(round)")
            return
        }
        #expect(outcome.tornTail >= 0 && outcome.tornTail <= bytes.count, "round \(round)")
        var regions = outcome.damage.map { $0.offset..<($0.offset + $0.length) }
        regions += outcome.blocks.map { $0.offset..<($0.offset + 1) }
        regions.sort { $0.lowerBound < $1.lowerBound }
        var previousEnd = 0
        for region in regions {
            #expect(region.lowerBound >= previousEnd, "round \(round): overlapping \(outcome.steps)")
            #expect(region.upperBound <= bytes.count - outcome.tornTail, "round \(round): \(outcome.steps)")
            #expect(!region.isEmpty, "round \(round)")
            previousEnd = region.upperBound
        }
        let expected = knownBlocks.map { $0.map(canonical) }
        for block in outcome.blocks {
            #expect(expected.contains(block.events), "round \(round): a block came out that was never written")
        }
        // Blocks come out in strictly increasing index order.
        let indices = outcome.blocks.compactMap { block in expected.firstIndex(of: block.events) }
        #expect(indices == indices.sorted() && Set(indices).count == indices.count, "round \(round)")
    }
}
