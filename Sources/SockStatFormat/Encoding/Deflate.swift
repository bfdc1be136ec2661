import CZlib

/// Compresses block payloads as raw DEFLATE (RFC 1951) streams.
///
/// Raw streams have no zlib header or Adler-32: the block frame carries its
/// own length and CRC-32, so those six bytes a block would be waste. One
/// `Deflater` is kept for the life of a writer and reset per block, so
/// compressing allocates nothing after the first block.
///
/// A class because it owns zlib's stream state, which must be freed once.
public final class Deflater {
    private var stream = z_stream()
    private var isInitialized = false

    /// zlib level 6, the default: on our blocks level 9 is no smaller and slower.
    public static let level: Int32 = 6

    /// Creates a compressor.
    public init() {}

    deinit {
        if isInitialized { deflateEnd(&stream) }
    }

    /// Compresses `input` as one complete raw DEFLATE stream appended to `output`.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        if !isInitialized {
            let status = czlib_deflateInit2(&stream, Self.level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY)
            // Only allocation failure or bad constants can fail here; both are fatal bugs.
            precondition(status == Z_OK, "deflateInit2 failed: \(status)")
            isInitialized = true
        } else {
            deflateReset(&stream)
        }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        let start = output.count
        output.reserveCapacity(start + bound)
        // Grow once to the bound, compress in place, then trim.
        output.append(contentsOf: repeatElement(0, count: bound))
        let written: Int = output.withUnsafeMutableBufferPointer { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress! + start
            stream.avail_out = uInt(bound)
            let status = deflate(&stream, Z_FINISH)
            precondition(status == Z_STREAM_END, "deflate within deflateBound must finish: \(status)")
            return bound - Int(stream.avail_out)
        }
        output.removeLast(bound - written)
    }
}

/// Why a stored payload did not inflate to a valid block.
public enum InflateError: Error, Hashable, Sendable {
    /// zlib rejected the stream (its message is kept).
    case corrupt(String)
    /// The stream would inflate past `FormatLimits.maxBlockBytes`.
    case tooLarge
    /// The stream ended before its final block.
    case truncated
    /// Bytes follow the end of the DEFLATE stream.
    case trailingBytes
}

/// Decompresses raw DEFLATE block payloads into a caller-owned buffer.
///
/// A class because it owns zlib's stream state, which must be freed once.
public final class Inflater {
    private var stream = z_stream()
    private var isInitialized = false

    /// Creates a decompressor.
    public init() {}

    deinit {
        if isInitialized { inflateEnd(&stream) }
    }

    /// Inflates `input`, which must be exactly one raw DEFLATE stream, into
    /// `output` (replacing its contents), producing at most `limit` bytes.
    ///
    /// `output` keeps its capacity between calls, so steady-state decoding
    /// does not allocate.
    public func inflate(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int = FormatLimits.maxBlockBytes) throws(InflateError) {
        if !isInitialized {
            let status = czlib_inflateInit2(&stream, -15)
            precondition(status == Z_OK, "inflateInit2 failed: \(status)")
            isInitialized = true
        } else {
            inflateReset(&stream)
        }
        output.removeAll(keepingCapacity: true)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        // Start with a guess; grow geometrically up to the limit (+1 to notice overflow).
        var capacity = min(max(output.capacity, input.count * 4, 4096), limit + 1)
        var produced = 0
        while true {
            if output.count < capacity {
                output.append(contentsOf: repeatElement(0, count: capacity - output.count))
            }
            let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = uInt(capacity - produced)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced = capacity - Int(stream.avail_out)
                return status
            }
            switch status {
            case Z_STREAM_END:
                output.removeLast(output.count - produced)
                guard produced <= limit else { throw .tooLarge }
                guard stream.avail_in == 0 else { throw .trailingBytes }
                return
            case Z_OK, Z_BUF_ERROR:
                if stream.avail_out == 0 {
                    guard capacity <= limit else { throw .tooLarge }
                    capacity = min(capacity * 2, limit + 1)
                } else if stream.avail_in == 0 {
                    throw .truncated
                }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(message)
            }
        }
    }
}
