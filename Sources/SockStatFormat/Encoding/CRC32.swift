import CZlib

/// CRC-32 as zlib, gzip and PNG compute it (ISO-HDLC: reflected polynomial
/// 0xEDB88320, initial value and final XOR 0xFFFFFFFF). `crc32(b"123456789")`
/// is 0xCBF43926. zlib's implementation is used because it is fast and every
/// language has one, which keeps independent decoders easy to write.
public enum CRC32: Sendable {
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

extension CRC32 {
    /// The reflected CRC-32 polynomial.
    static let polynomial: UInt32 = 0xEDB8_8320

    /// `a · b` modulo the CRC-32 polynomial, both as reflected bit patterns
    /// (bit 31 is x^0), as zlib's `multmodp`.
    @inline(__always)
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var a = a
        var b = b
        var product: UInt32 = 0
        while a != 0 {
            if a & 0x8000_0000 != 0 { product ^= b }
            a <<= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
        }
        return product
    }

    /// x^(8 · j · 16^i) modulo the polynomial at `16 * i + j`, for i in
    /// 0 ..< 16 and j in 0 ..< 16: the factors of `shift(byteCount:)`, one
    /// per hexadecimal digit of the count.
    static let shiftFactors: [UInt32] = {
        var table = [UInt32](repeating: 1 << 31, count: 256)
        var step: UInt32 = 1 << 23  // x^8: one byte
        for digit in 0..<16 {
            var power: UInt32 = 1 << 31  // x^0
            for value in 0..<16 {
                table[16 * digit + value] = power
                power = multiply(power, step)
            }
            step = power  // x^(8 · 16^(digit + 1))
        }
        return table
    }()

    /// x^(8 · `byteCount`) modulo the polynomial: what a CRC is multiplied
    /// by to move it past `byteCount` bytes (zlib's `x2nmodp(n, 3)`), with
    /// one multiplication per nonzero hexadecimal digit of the count.
    static func shift(byteCount: Int) -> UInt32 {
        var result: UInt32 = 1 << 31  // x^0
        var n = UInt64(byteCount)
        var digit = 0
        while n != 0 {
            let value = Int(n & 0xF)
            if value != 0 { result = multiply(shiftFactors[16 * digit + value], result) }
            n >>= 4
            digit += 1
        }
        return result
    }

    /// The CRC of `a ‖ b` from the CRCs of `a` and of `b` and the length of
    /// `b` (zlib's `crc32_combine`).
    static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthOfB: Int) -> UInt32 {
        multiply(shift(byteCount: lengthOfB), crcA) ^ crcB
    }
}

/// The CRC-32 of any range of one buffer, at a cost that does not grow with
/// the range's length.
///
/// CRC-32 is linear: crc(A ‖ B) = crc(A) · x^(8 |B|) ⊕ crc(B), modulo its
/// polynomial (zlib's `crc32_combine`). So with P(i) the CRC of the first i
/// bytes, crc(bytes[a ..< b]) = P(b) ⊕ P(a) · x^(8 (b − a)). P is computed by
/// one forward pass, as far as queries reach, which keeps P every `stride`
/// bytes on its way; P behind the pass is the checkpoint before it continued
/// over fewer than `stride` bytes. Reading frames in order, every query is
/// ahead of the pass: each byte is checksummed once, as a plain CRC would.
/// Memory: 4 bytes per `stride` bytes of the buffer (1 MiB for 64 MiB).
struct RangeCRC32 {
    static let stride = 256
    /// `checkpoints[i]` is P(i · stride), for every i · stride ≤ `reach`.
    private var checkpoints: [UInt32] = [0]
    /// How far the forward pass has gone, and P there.
    private var reach = 0
    private var reachValue: UInt32 = 0

    /// The CRC-32 of `bytes[range]`; `bytes` must be the same buffer at every call.
    mutating func checksum(_ range: Range<Int>, of bytes: UnsafeRawBufferPointer) -> UInt32 {
        let start = prefix(range.lowerBound, of: bytes)
        let end = prefix(range.upperBound, of: bytes)
        return end ^ CRC32.multiply(CRC32.shift(byteCount: range.count), start)
    }

    /// P(`position`).
    private mutating func prefix(_ position: Int, of bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard position >= reach else {
            let index = position / Self.stride
            let base = index * Self.stride
            return CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[base..<position]), continuing: checkpoints[index])
        }
        var at = reach
        var value = reachValue
        while true {
            let next = (at / Self.stride + 1) * Self.stride
            guard next <= position else { break }
            value = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[at..<next]), continuing: value)
            checkpoints.append(value)
            at = next
        }
        value = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[at..<position]), continuing: value)
        reach = position
        reachValue = value
        return value
    }
}
