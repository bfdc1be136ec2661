/// The frame around each block's stored bytes.
///
///     0  4  sync marker B5 0C 4B 1D
///     4  4  stored length n, little-endian (1 ... FormatLimits.maxStoredBlockBytes)
///     8  4  CRC-32 of bytes 4 ..< 8 (the length) followed by the n stored bytes
///     12 n  stored bytes: one raw DEFLATE stream holding the block payload
///
/// The marker lets a reader find the next block after damage; the checksum
/// covers the length so that a damaged length is detected, not followed.
public enum BlockFrame {
    /// Bytes that start every frame.
    public static let marker: [UInt8] = [0xB5, 0x0C, 0x4B, 0x1D]
    /// Marker, length and checksum.
    public static let headerSize = 12

    /// Appends a frame holding `stored` to `out`.
    public static func append(stored: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(contentsOf: marker)
        let length = UInt32(stored.count)
        out.appendLittleEndian(length)
        var littleLength = length.littleEndian
        let lengthCRC = withUnsafeBytes(of: &littleLength) { CRC32.checksum($0) }
        out.appendLittleEndian(CRC32.checksum(stored, continuing: lengthCRC))
        out.append(contentsOf: stored)
    }

    /// What is at a position where a frame should start.
    public enum Probe: Hashable, Sendable {
        /// A complete frame whose checksum holds; stored bytes at `payload`.
        case valid(payload: Range<Int>)
        /// The bytes up to the end are a prefix of some frame: a torn write.
        case incomplete
        /// Not a frame: wrong marker, impossible length or checksum mismatch.
        case invalid(String)
    }

    /// Examines the frame that should start at `offset` in `bytes`.
    public static func probe(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Probe {
        let remaining = bytes.count - offset
        let markerBytes = min(remaining, marker.count)
        for index in 0..<markerBytes where bytes[offset + index] != marker[index] {
            return .invalid("no block marker")
        }
        guard remaining >= 8 else { return .incomplete }
        // A length that is present must be in range, even in a frame cut short.
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: offset + 4))
        guard length >= 1, length <= FormatLimits.maxStoredBlockBytes else {
            return .invalid("block length \(length) out of range")
        }
        guard remaining >= headerSize, length <= remaining - headerSize else { return .incomplete }
        let stored = bytes.loadLittleEndian(UInt32.self, at: offset + 8)
        let lengthCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 8)]))
        let payload = (offset + headerSize)..<(offset + headerSize + length)
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[payload]), continuing: lengthCRC)
        guard stored == computed else { return .invalid("block checksum mismatch") }
        return .valid(payload: payload)
    }

    /// The offset of the next valid frame at or after `offset`, if any.
    public static func nextValid(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        var position = offset
        let first = marker[0]
        while position + headerSize <= bytes.count {
            // Cheap scan for the marker's first byte before the full probe.
            guard bytes[position] == first else { position += 1; continue }
            if case .valid = probe(bytes, at: position) { return position }
            position += 1
        }
        return nil
    }
}
