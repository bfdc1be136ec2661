import CZlib
import Foundation
import Testing

@testable import SockStatFormat
import TestSupport

/// The Huffman-only DEFLATE encoder, checked against zlib: zlib must inflate
/// every stream to the input, and the streams must be as small as zlib's own
/// Huffman-only ones.
struct DeflaterTests {
    /// Inputs that reach each path: empty, one symbol, every byte value,
    /// incompressible (stored, over several stored blocks), skewed, lengths
    /// that need limiting, and the edges of 65,534-symbol pieces and
    /// 65,535-byte stored blocks.
    static let inputs: [(String, [UInt8])] = {
        var random = TestRandom(seed: 1)
        var skewed: [UInt8] = []
        for _ in 0..<50_000 {
            // Geometric: byte k with probability 2^-(k+1).
            let value = random.next()
            skewed.append(UInt8(min(value == 0 ? 64 : value.trailingZeroBitCount, 255)))
        }
        // Fibonacci frequencies give an optimal code 20 bits deep; DEFLATE allows 15.
        var fibonacci: [UInt8] = []
        var (a, b) = (1, 1)
        for symbol in 0..<21 {
            fibonacci += repeatElement(UInt8(symbol * 7), count: a)
            (a, b) = (b, a + b)
        }
        // The densest block HostileMemoryTests decodes: `0C 00` over and over.
        var records = [UInt8](repeating: 0, count: 4 << 20)
        for index in stride(from: 0, to: records.count, by: 2) { records[index] = 0x0C }
        // A piece of 65,533 literals and one 4-byte match covers 65,537 bytes:
        // stored, it takes two stored blocks, so the stream has three stored
        // blocks for two pieces.
        var matchAtPieceEnd = (0..<65_533).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        matchAtPieceEnd += matchAtPieceEnd[65_526..<65_530]
        matchAtPieceEnd += (0..<8).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return [
            ("empty", []),
            ("one byte", [42]),
            ("one symbol, three pieces", Array(repeating: 7, count: 150_000)),
            ("every byte value", (0..<4096).map { UInt8(truncatingIfNeeded: $0) }),
            ("random (stored)", (0..<10_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            ("random, two stored blocks and a byte", (0..<(2 * 65_535 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            ("random, 65,534 symbols and one more", (0..<65_535).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            ("4 MiB of one repeated record", records),
            ("skewed", skewed),
            ("Fibonacci frequencies", fibonacci),
            ("Fibonacci, shuffled, twice", (fibonacci + fibonacci).shuffled(using: &random)),
            ("one piece exactly", (0..<65_534).map { UInt8(truncatingIfNeeded: $0 % 13) }),
            ("one piece and a byte", (0..<65_535).map { UInt8(truncatingIfNeeded: $0 % 13) }),
            ("two symbols", (0..<1000).map { UInt8($0 % 2) }),
            ("a piece longer than a stored block", matchAtPieceEnd),
        ]
    }()

    @Test(arguments: inputs.indices)
    func zlibInflatesEveryStreamToItsInput(_ index: Int) throws {
        let (name, input) = Self.inputs[index]
        var stored: [UInt8] = []
        input.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
        var output: [UInt8] = []
        try stored.withUnsafeBytes { try Inflater().inflate($0, into: &output) }
        #expect(output.count == input.count && output == input, "\(name): \(output.count) bytes back of \(input.count)")
        // Never more than stored blocks would take: 5 bytes for each stored
        // block (65,535 bytes at most) and each piece boundary (a piece holds
        // 65,534 symbols, so at least that many bytes), one to align.
        let pieces = max(1, (input.count + Deflater.maximumTokens - 1) / Deflater.maximumTokens)
        let storedBlocks = (input.count + Deflater.storedBlockBytes - 1) / Deflater.storedBlockBytes
        #expect(stored.count <= input.count + 5 * (pieces + storedBlocks) + 1, "\(name): \(stored.count) bytes")
    }

    @Test func reusedDeflaterGivesTheSameBytesAsAFreshOne() {
        let deflater = Deflater()
        var first: [UInt8] = []
        var again: [UInt8] = []
        for (_, input) in Self.inputs {
            var fresh: [UInt8] = []
            input.withUnsafeBytes { Deflater().compress($0, appendingTo: &fresh) }
            var reused: [UInt8] = []
            input.withUnsafeBytes { deflater.compress($0, appendingTo: &reused) }
            first += fresh
            again += reused
        }
        #expect(first == again)
    }

    /// The match table is not cleared between pieces but offset; entries of
    /// earlier pieces must never match, and when the offset nears its limit
    /// the table is cleared. Either way the bytes are a fresh Deflater's.
    @Test(arguments: [MatchFinder.maximumPieceOffset - 70_000, MatchFinder.maximumPieceOffset, MatchFinder.maximumPieceOffset + 1])
    func pieceOffsetsNearTheirLimitGiveTheSameBytes(_ offset: Int) {
        let deflater = Deflater()
        for (name, input) in Self.inputs {
            var fresh: [UInt8] = []
            input.withUnsafeBytes { Deflater().compress($0, appendingTo: &fresh) }
            // Twice: the second pass meets the first's entries in the table.
            deflater.matchFinder.movePieceOffsetForTesting(to: offset)
            for pass in 0..<2 {
                var reused: [UInt8] = []
                input.withUnsafeBytes { deflater.compress($0, appendingTo: &reused) }
                #expect(reused == fresh, "\(name), pass \(pass)")
            }
            #expect(deflater.matchFinder.pieceOffset <= MatchFinder.maximumPieceOffset + Deflater.maximumTokens * 258)
        }
    }

    /// Moving the offset back leaves entries that point ahead of the
    /// position, into the same bytes; they must never become a match (a
    /// negative distance trapped, and read past the input).
    @Test(arguments: Self.inputs.map(\.0))
    func entriesFromALaterOffsetNeverMatch(_ name: String) {
        let input = Self.inputs.first { $0.0 == name }!.1
        var fresh: [UInt8] = []
        input.withUnsafeBytes { Deflater().compress($0, appendingTo: &fresh) }
        let deflater = Deflater()
        for pass in 0..<2 {
            deflater.matchFinder.movePieceOffsetForTesting(to: 1_000)
            var reused: [UInt8] = []
            input.withUnsafeBytes { deflater.compress($0, appendingTo: &reused) }
            #expect(reused == fresh, "pass \(pass)")
        }
    }

    /// On real block payloads (the fixture cut from the reference workload),
    /// the output is no larger than zlib's Huffman-only streams and within 2%
    /// of zlib level 6, which adds LZ77 matching.
    @Test func realPayloadsAreAsSmallAsZlibHuffmanOnly() throws {
        // Tests/SockStatFormatTests/DeflaterTests.swift → repository root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("Fixtures/several-segments/source.jsonl"), encoding: .utf8)
        let parser = JSONLinesParser()
        let events = try source.split(separator: "\n").enumerated().compactMap {
            try parser.parse(Array($0.element.utf8), lineNumber: $0.offset + 1)
        }
        // The payloads as the writer cuts them (10 s blocks), taken back out of their frames.
        var frames: [[UInt8]] = []
        var encoder = BlockEncoder(segmentSequence: 1)
        for event in events {
            if let first = encoder.firstEventTime, event.time - first >= 10_000 {
                var frame: [UInt8] = []
                encoder.finishBlock(using: Deflater(), appendingTo: &frame)
                frames.append(frame)
            }
            try encoder.append(event)
        }
        let payloads = try frames.map { frame in
            var payload: [UInt8] = []
            try frame[BlockFrame.headerSize...].withUnsafeBytes { try Inflater().inflate($0, into: &payload) }
            return payload
        }
        #expect(payloads.count > 50)
        var ours = 0
        var huffmanOnly = 0
        var level6 = 0
        let deflater = Deflater()
        for payload in payloads {
            var stored: [UInt8] = []
            payload.withUnsafeBytes { deflater.compress($0, appendingTo: &stored) }
            ours += stored.count
            huffmanOnly += zlibDeflate(payload, level: 6, strategy: Z_HUFFMAN_ONLY)
            level6 += zlibDeflate(payload, level: 6, strategy: Z_DEFAULT_STRATEGY)
        }
        #expect(ours <= huffmanOnly, "ours \(ours), zlib Huffman-only \(huffmanOnly)")
        #expect(Double(ours) <= Double(level6) * 1.02, "ours \(ours), zlib level 6 \(level6)")
    }

    /// Size of zlib's raw DEFLATE of `input`.
    private func zlibDeflate(_ input: [UInt8], level: Int32, strategy: Int32) -> Int {
        var stream = z_stream()
        #expect(czlib_deflateInit2(&stream, level, Z_DEFLATED, -15, 8, strategy) == Z_OK)
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        return input.withUnsafeBytes { bytes in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(bytes.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                #expect(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return out.count - Int(stream.avail_out)
            }
        }
    }
}
