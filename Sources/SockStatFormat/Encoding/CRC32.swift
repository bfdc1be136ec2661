import CZlib

/// CRC-32 as zlib, gzip and PNG compute it (ISO-HDLC: reflected polynomial
/// 0xEDB88320, initial value and final XOR 0xFFFFFFFF). `crc32(b"123456789")`
/// is 0xCBF43926. zlib's implementation is used because it is fast and every
/// language has one, which keeps independent decoders easy to write.
public enum CRC32 {
    /// The checksum of `bytes`, continuing from `initial` (0 to start).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return initial }
        var crc = UInt(initial)
        var pointer = base.assumingMemoryBound(to: Bytef.self)
        var remaining = bytes.count
        // zlib takes a uInt length: feed very large inputs in pieces.
        while remaining > 0 {
            let piece = min(remaining, 1 << 30)
            crc = crc32(crc, pointer, uInt(piece))
            pointer += piece
            remaining -= piece
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// The checksum of `bytes`.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
