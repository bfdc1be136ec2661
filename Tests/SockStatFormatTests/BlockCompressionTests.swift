import Testing

import SockStatFormat

/// The codec seam: `BlockEncoder` and `BlockDecoder` reach their codec only
/// through `BlockCompressor` and `BlockDecompressor`, so another codec plugs
/// in without either of them changing. (Deflater and Inflater, the codec
/// every segment uses, are checked by DeflaterTests and the fixtures.)
struct BlockCompressionTests {
    /// Stores payloads as they are, and records how it was called.
    final class StoredCodec: BlockCompressor, BlockDecompressor {
        var compressCalls = 0
        var limits: [Int] = []
        /// Thrown by `decompress` instead of decompressing, when set.
        var failure: DecompressionError?
        private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 1)

        deinit { buffer.deallocate() }

        func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
            compressCalls += 1
            output.append(contentsOf: input)
        }

        func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionError) -> UnsafeRawBufferPointer {
            limits.append(limit)
            if let failure { throw failure }
            guard input.count <= limit else { throw .tooLarge }
            if input.count > buffer.count {
                buffer.deallocate()
                buffer = .allocate(byteCount: input.count, alignment: 1)
            }
            buffer.copyMemory(from: input)
            return UnsafeRawBufferPointer(rebasing: buffer[..<input.count])
        }
    }

    static let events = [
        Event(time: 1_000, duration: 100, counts: [
            LabelCounts(label: Label("a"), tx: 300, rx: 0),
            LabelCounts(label: Label("b"), tx: 1, rx: 2),
        ]),
        Event(time: 1_100, duration: 100, isCellular: true, counts: [LabelCounts(label: Label("a"), tx: 1, rx: 1)]),
        Event(time: 2_000, duration: 50, counts: []),
    ]

    /// The stored bytes of one block encoded with `codec`, out of its frame.
    private func storedBlock(with codec: StoredCodec) throws -> [UInt8] {
        var encoder = BlockEncoder(segmentSequence: 3)
        for event in Self.events { try encoder.append(event) }
        var frame: [UInt8] = []
        encoder.finishBlock(using: codec, appendingTo: &frame)
        let probe = frame.withUnsafeBytes { BlockFrame.probe($0, at: 0) }
        guard case .valid(let range) = probe else {
            Issue.record("no valid frame: \(probe)")
            return []
        }
        return Array(frame[range])
    }

    @Test func anotherCodecRoundTripsThroughTheEncoderAndTheDecoder() throws {
        let codec = StoredCodec()
        let stored = try storedBlock(with: codec)
        #expect(codec.compressCalls == 1)

        var decoder = BlockDecoder(decompressor: codec)
        var block = DecodedBlock()
        try stored.withUnsafeBytes { try decoder.decode(stored: $0, into: &block) }
        #expect(codec.limits == [FormatLimits.maxBlockBytes])
        #expect(block.segmentSequence == 3)
        #expect(block.events == Self.events)

        // Stored as is, the frame holds the payload itself.
        var plain = DecodedBlock()
        var payloadDecoder = BlockDecoder()
        try stored.withUnsafeBytes { try payloadDecoder.decodePayload($0, into: &plain) }
        #expect(plain.events == Self.events)
    }

    @Test func anEmptyBlockNeverReachesTheCompressor() {
        let codec = StoredCodec()
        var encoder = BlockEncoder(segmentSequence: 1)
        var out: [UInt8] = []
        encoder.finishBlock(using: codec, appendingTo: &out)
        #expect(codec.compressCalls == 0)
        #expect(out.isEmpty)
    }

    /// Every decompressor failure becomes a `BlockError` saying which.
    @Test(arguments: [
        (DecompressionError.corrupt("bad code lengths"), "bad code lengths"),
        (DecompressionError.tooLarge, "past \(FormatLimits.maxBlockBytes) bytes"),
        (DecompressionError.truncated, "cut short"),
        (DecompressionError.trailingBytes, "after the end"),
    ])
    func decompressorFailuresAreBlockErrors(_ failure: DecompressionError, _ expected: String) throws {
        let codec = StoredCodec()
        let stored = try storedBlock(with: codec)
        codec.failure = failure
        var decoder = BlockDecoder(decompressor: codec)
        var block = DecodedBlock()
        let error = #expect(throws: BlockError.self) {
            try stored.withUnsafeBytes { try decoder.decode(stored: $0, into: &block) }
        }
        #expect(error?.reason.contains(expected) == true, "\(String(describing: error))")
        #expect(block.eventCount == 0)
    }
}
