/// Writes bits least significant first, as DEFLATE packs them, into memory
/// the caller has sized.
struct BitWriter {
    private let start: UnsafeMutableRawPointer
    private var position = 0
    private var buffer: UInt64 = 0
    private(set) var pendingBits = 0

    init(_ start: UnsafeMutableRawPointer) {
        self.start = start
    }

    /// Appends the low `count` (at most 32) bits of `value`.
    @inline(__always)
    mutating func write(_ value: UInt64, count: Int) {
        buffer |= value << UInt64(pendingBits)
        pendingBits += count
        if pendingBits >= 32 {
            (start + position).storeBytes(of: UInt32(truncatingIfNeeded: buffer).littleEndian, as: UInt32.self)
            position += 4
            buffer >>= 32
            pendingBits -= 32
        }
    }

    /// Pads with zero bits to a byte boundary and writes the whole bytes held.
    mutating func alignToByte() {
        while pendingBits > 0 {
            start.storeBytes(of: UInt8(truncatingIfNeeded: buffer), toByteOffset: position, as: UInt8.self)
            position += 1
            buffer >>= 8
            pendingBits = max(pendingBits - 8, 0)
        }
        buffer = 0
    }

    /// Copies bytes; the writer must be byte-aligned.
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        (start + position).copyMemory(from: base, byteCount: bytes.count)
        position += bytes.count
    }

    /// Pads to a byte and returns the number of bytes written.
    mutating func finish() -> Int {
        alignToByte()
        return position
    }
}
