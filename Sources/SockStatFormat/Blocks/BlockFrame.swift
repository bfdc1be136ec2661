/// The frame around each block's stored bytes.
///
///     0  4  sync marker B5 0C 4B 1D
///     4  4  stored length n, little-endian (1 ... FormatLimits.maxStoredBlockBytes)
///     8  4  CRC-32 of the n stored bytes
///     12 4  header check: CRC-32 of bytes 0 ..< 12
///     16 n  stored bytes: one raw DEFLATE stream holding the block payload
///
/// The marker lets a reader find the next block after damage. The header
/// check makes a damaged or false frame header fail in constant time, before
/// its length is believed, so a damaged length is detected, not followed
/// (`Spec/FORMAT.md` section 5).
public enum BlockFrame: Sendable {
    /// Bytes that start every frame.
    public static let marker: [UInt8] = [0xB5, 0x0C, 0x4B, 0x1D]
    /// Marker, length, stored-bytes CRC and header check.
    public static let headerSize = 16

    /// Appends a frame holding `stored` to `out`.
    public static func append(stored: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: marker)
        out.appendLittleEndian(UInt32(stored.count))
        out.appendLittleEndian(CRC32.checksum(stored))
        let check = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + 12)])) }
        out.appendLittleEndian(check)
        out.append(contentsOf: stored)
    }

    /// What is at a position where a frame should start.
    public enum Probe: Hashable, Sendable {
        /// A complete frame whose checksums hold; stored bytes at `payload`.
        case valid(payload: Range<Int>)
        /// The bytes up to the end are a prefix of some frame: a torn write.
        case incomplete
        /// Not a frame: wrong marker, impossible length, or a checksum mismatch.
        case invalid(String)
    }

    /// Examines the frame that should start at `offset` in `bytes`. An
    /// offset outside `0...bytes.count` is `.invalid`; at `bytes.count` the
    /// (empty) rest is `.incomplete`.
    public static func probe(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Probe {
        probe(bytes, at: offset) { CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[$0])) }
    }

    /// `probe(_:at:)` with the stored bytes' CRC computed by `checksum`
    /// (the reader's, which costs the same for any length).
    static func probe(_ bytes: UnsafeRawBufferPointer, at offset: Int, checksum: (Range<Int>) -> UInt32) -> Probe {
        guard offset >= 0, offset <= bytes.count else { return .invalid("offset \(offset) outside \(bytes.count) bytes") }
        switch header(bytes, at: offset) {
        case .invalid(let reason):
            return .invalid(reason)
        case .incomplete:
            return .incomplete
        case .holds(let length, let storedCRC):
            let payload = (offset + headerSize)..<(offset + headerSize + length)
            guard payload.upperBound <= bytes.count else { return .incomplete }
            guard checksum(payload) == storedCRC else { return .invalid("block checksum mismatch") }
            return .valid(payload: payload)
        }
    }

    /// What a frame header says, checked in constant time.
    enum Header {
        /// Marker, length and header check hold.
        case holds(length: Int, storedCRC: UInt32)
        /// The bytes end inside a header that holds as far as it goes.
        case incomplete
        /// Not a frame header.
        case invalid(String)
    }

    /// Reads and checks the frame header at `offset`.
    @inline(__always)
    static func header(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Header {
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
        guard remaining >= headerSize else { return .incomplete }
        let check = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 12)]))
        guard check == bytes.loadLittleEndian(UInt32.self, at: offset + 12) else {
            return .invalid("block header checksum mismatch")
        }
        return .holds(length: length, storedCRC: bytes.loadLittleEndian(UInt32.self, at: offset + 8))
    }
}

/// Finds and checks the frames of one segment in time linear in its size,
/// whatever its bytes (`Spec/FORMAT.md` section 10.1, "Time").
///
/// A reader that has lost its place must learn whether each marker it meets
/// starts a valid frame. Checksumming each candidate's stored bytes from
/// scratch costs up to 4 MiB per candidate, and a file of forged frame
/// headers (each with a header check that holds) makes that quadratic. So
/// once a frame has failed, every stored-bytes CRC comes from `RangeCRC32`,
/// which gives the CRC of any range at a cost independent of its length
/// after one pass over the bytes: a candidate costs constant time. Until
/// then (every intact segment) each frame is checked by a plain CRC of its
/// stored bytes: the frames read one after the other never overlap, so that
/// too checksums each byte once.
struct FrameLocator {
    private var crc = RangeCRC32()
    /// Whether a frame has failed its checks in this segment.
    private var sawFailure = false

    /// `BlockFrame.probe(_:at:)`: a plain CRC until a frame fails, then in
    /// constant time plus the one pass.
    mutating func probe(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> BlockFrame.Probe {
        guard sawFailure else {
            let probe = BlockFrame.probe(bytes, at: offset)
            if case .valid = probe { return probe }
            sawFailure = true
            return probe
        }
        return BlockFrame.probe(bytes, at: offset) { crc.checksum($0, of: bytes) }
    }

    /// The offset of the next valid frame at or after `offset`, if any.
    ///
    /// Each position costs one byte comparison; a position where the marker
    /// matches (at most one in four: the marker cannot overlap itself) a
    /// 12-byte header check; one whose header holds, a range CRC.
    mutating func nextValid(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        sawFailure = true
        var position = offset
        let first = BlockFrame.marker[0]
        while position + BlockFrame.headerSize <= bytes.count {
            guard bytes[position] == first else { position += 1; continue }
            if case .holds(let length, let storedCRC) = BlockFrame.header(bytes, at: position),
               length <= bytes.count - position - BlockFrame.headerSize {
                let stored = (position + BlockFrame.headerSize)..<(position + BlockFrame.headerSize + length)
                if crc.checksum(stored, of: bytes) == storedCRC { return position }
            }
            position += 1
        }
        return nil
    }
}
