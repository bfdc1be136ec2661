/// Compresses block payloads into the bytes a block frame stores.
///
/// The block encoder reaches its codec only through this protocol, so a new
/// codec (behind a segment feature bit) is one conforming type, handed to
/// `BlockEncoder.finishBlock(using:appendingTo:)`. `Deflater`, raw DEFLATE,
/// is the codec of every segment written today.
///
/// A conforming type keeps its tables and scratch between calls, so that a
/// writer that keeps one compressor for its life stops allocating; hence a
/// class, whose calls change its own state. Its output must be a pure function
/// of the input: the same payload gives the same bytes on every host and with
/// a fresh or a reused compressor (the committed fixtures are checked byte
/// for byte). A compressor is used by one thread at a time.
public protocol BlockCompressor: AnyObject {
    /// Compresses `input` as one complete stream appended to `output`.
    ///
    /// The stream is self-delimiting for the matching decompressor, which
    /// is given exactly these bytes back; the block frame carries their length
    /// and checksum.
    ///
    /// - Parameters:
    ///   - input: One block's uncompressed payload.
    ///   - output: Where the stream is appended; bytes already there are kept.
    func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8])
}

/// Decompresses the bytes a block frame stores back into a block payload.
///
/// The block decoder reaches its codec only through this protocol, so a new
/// codec is one conforming type, handed to `BlockDecoder.init(decompressor:)`.
/// `Inflater`, raw DEFLATE through zlib, reads every segment written today.
///
/// Stored bytes are untrusted: a decompressor stops as soon as its output
/// passes the caller's limit, so a hostile stream costs at most about that
/// much memory, and it reports damage as an error, never a trap. It owns the
/// buffer it returns and keeps it between calls, so decoding a stream of
/// blocks does not allocate per block; hence a class. A decompressor is used
/// by one thread at a time.
public protocol BlockDecompressor: AnyObject {
    /// Decompresses `input`, which must be exactly one complete stream,
    /// into at most `limit` bytes.
    ///
    /// - Parameters:
    ///   - input: One block's stored bytes, as the matching compressor wrote them.
    ///   - limit: The most bytes the payload may have; a stream that would
    ///     produce more fails with `.tooLarge` once it passes the limit.
    /// - Returns: The payload, in memory the decompressor owns: valid until
    ///   its next call, which overwrites it.
    /// - Throws: `DecompressionError`: `.corrupt` when the stream is malformed,
    ///   `.tooLarge` past `limit`, `.truncated` when it ends before its last
    ///   block, `.trailingBytes` when bytes follow its end.
    func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionError) -> UnsafeRawBufferPointer
}
