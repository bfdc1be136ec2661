import SockStatFormat

/// Hands the payload through unchanged and keeps it, so a test can decode
/// the block `BlockEncoder` built without a codec in the way.
final class PayloadCapture: BlockCompressor {
    var payload: [UInt8] = []
    func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        payload = Array(input)
        output.append(contentsOf: input)
    }
}

/// `events` encoded and decoded again, as blocks of the sizes `split` gives
/// (the way a reader hands them to a writer).
func decodedBlocks(_ events: [Event], split: (Int) -> Int = { _ in 64 }) throws -> [DecodedBlock] {
    var blocks: [DecodedBlock] = []
    var start = 0
    var sequence: UInt64 = 0
    var decoder = BlockDecoder()
    while start < events.count {
        let end = min(events.count, start + max(1, split(blocks.count)))
        var encoder = BlockEncoder(segmentSequence: sequence)
        sequence += 1
        for event in events[start..<end] { try encoder.append(event) }
        let capture = PayloadCapture()
        var frame: [UInt8] = []
        encoder.finishBlock(using: capture, appendingTo: &frame)
        var block = DecodedBlock()
        var failure: BlockError?
        capture.payload.withUnsafeBytes { raw in
            do throws(BlockError) { try decoder.decodePayload(raw, into: &block) } catch { failure = error }
        }
        if let failure { throw failure }
        blocks.append(block)
        start = end
    }
    return blocks
}
