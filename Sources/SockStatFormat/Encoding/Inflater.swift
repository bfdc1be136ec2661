import CZlib

/// Why a block's stored bytes did not decompress to a valid payload.
public struct DecompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the stream.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The codec rejected the stream (its message is the reason).
        public static let corrupt = Code("corrupt")
        /// The stream would decompress past the caller's limit.
        public static let tooLarge = Code("too large")
        /// The stream ended before its final block.
        public static let truncated = Code("truncated")
        /// Bytes follow the end of the stream.
        public static let trailingBytes = Code("trailing bytes")

        public var description: String { name }
    }

    /// What is wrong with the stream.
    public var code: Code
    /// A one-line explanation.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String? = nil) {
        self.code = code
        self.reason = reason ?? code.description
    }

    /// The stream would decompress past the limit.
    public static var tooLarge: DecompressionError { DecompressionError(.tooLarge) }
    /// The stream ended early.
    public static var truncated: DecompressionError { DecompressionError(.truncated) }
    /// Bytes after the stream.
    public static var trailingBytes: DecompressionError { DecompressionError(.trailingBytes) }
    /// The codec rejected the stream, saying `message`.
    public static func corrupt(_ message: String) -> DecompressionError { DecompressionError(.corrupt, message) }

    public var description: String { reason }
}

/// Decompresses raw DEFLATE block payloads into a buffer it owns.
///
/// The buffer grows geometrically up to the limit and is kept, so decoding
/// a stream of blocks neither allocates nor clears memory per block.
///
/// A class because it owns zlib's stream state and the buffer, which must be
/// freed once.
public final class Inflater: BlockDecompressor {
    private var stream = z_stream()
    private var isInitialized = false
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0

    /// Creates a decompressor.
    public init() {}

    deinit {
        if isInitialized { inflateEnd(&stream) }
        buffer?.deallocate()
    }

    /// Inflates `input`, which must be exactly one raw DEFLATE stream,
    /// producing at most `limit` bytes. The result stays valid until the next call.
    public func inflate(_ input: UnsafeRawBufferPointer, limit: Int = FormatLimits.maxBlockBytes) throws(DecompressionError) -> UnsafeRawBufferPointer {
        if !isInitialized {
            let status = czlib_inflateInit2(&stream, -15)
            precondition(status == Z_OK, "inflateInit2 failed: \(status)")
            isInitialized = true
        } else {
            inflateReset(&stream)
        }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        // Room for one byte past the limit, to notice a stream that overflows it.
        grow(to: min(max(capacity, input.count * 4, 4096), limit + 1))
        var produced = 0
        while true {
            stream.next_out = buffer!.assumingMemoryBound(to: Bytef.self) + produced
            stream.avail_out = uInt(capacity - produced)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            produced = capacity - Int(stream.avail_out)
            switch status {
            case Z_STREAM_END:
                guard produced <= limit else { throw .tooLarge }
                guard stream.avail_in == 0 else { throw .trailingBytes }
                return UnsafeRawBufferPointer(start: buffer, count: produced)
            case Z_OK, Z_BUF_ERROR:
                if stream.avail_out == 0 {
                    guard capacity <= limit else { throw .tooLarge }
                    grow(to: min(capacity * 2, limit + 1))
                } else if stream.avail_in == 0 {
                    throw .truncated
                }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(message)
            }
        }
    }

    /// Inflates `input` for a `BlockDecoder`: `inflate(_:limit:)` under the
    /// name `BlockDecompressor` gives it.
    ///
    /// - Parameters:
    ///   - input: Exactly one raw DEFLATE stream.
    ///   - limit: The most bytes the stream may inflate to.
    /// - Returns: The inflated bytes, in the inflater's buffer: valid until
    ///   its next call.
    /// - Throws: `InflateError` when zlib rejects the stream, it passes
    ///   `limit`, ends before its final block, or is followed by more bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionError) -> UnsafeRawBufferPointer {
        try inflate(input, limit: limit)
    }

    /// Inflates into `output` (replacing its contents); for callers that keep the bytes.
    public func inflate(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int = FormatLimits.maxBlockBytes) throws(DecompressionError) {
        let bytes = try inflate(input, limit: limit)
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: bytes)
    }

    private func grow(to wanted: Int) {
        guard wanted > capacity else { return }
        let larger = UnsafeMutableRawPointer.allocate(byteCount: wanted, alignment: 16)
        if let buffer {
            larger.copyMemory(from: buffer, byteCount: capacity)
            buffer.deallocate()
        }
        buffer = larger
        capacity = wanted
    }
}

// Not Sendable: zlib's stream state and the output buffer change with every block.
@available(*, unavailable)
extension Inflater: Sendable {}
