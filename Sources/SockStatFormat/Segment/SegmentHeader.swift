/// The fixed header at the start of every segment file.
///
/// Layout (little-endian; `Spec/FORMAT.md`, "Segment header"):
///
///     0   8  magic 89 53 53 4C 0D 0A 1A 0A
///     8   2  format version (1)
///     10  2  header length in bytes, n (40; readers accept 40...4096)
///     12  4  incompatible features (a reader refuses any bit it does not know)
///     16  4  compatible features (a reader ignores bits it does not know)
///     20  8  segment sequence number
///     28  8  creation time, Unix milliseconds (signed)
///     ..     (n - 40 bytes a v1 reader skips)
///     n-4 4  CRC-32 of bytes 0 ..< n-4
public struct SegmentHeader: Hashable, Sendable {
    /// The magic bytes. The first is non-ASCII and CR LF / SUB / LF follow, as in
    /// PNG, so text-mode transfers and `type` on DOS-like systems show damage.
    public static let magic: [UInt8] = [0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The format version this code reads and writes.
    public static let currentVersion: UInt16 = 1
    /// The header length a v1 writer uses.
    public static let encodedSize = 40
    /// Incompatible feature bits this reader understands (none in v1).
    public static let knownIncompatibleFeatures: UInt32 = 0

    /// Format version.
    public var version: UInt16
    /// Features a reader must understand to decode the segment.
    public var incompatibleFeatures: UInt32
    /// Features a reader may ignore.
    public var compatibleFeatures: UInt32
    /// Position of this segment in its directory's sequence; every block repeats it.
    public var sequence: UInt64
    /// When the segment was created, Unix milliseconds.
    public var creationTime: Int64

    /// Creates a v1 header.
    public init(sequence: UInt64, creationTime: Int64, version: UInt16 = SegmentHeader.currentVersion,
                incompatibleFeatures: UInt32 = 0, compatibleFeatures: UInt32 = 0) {
        self.version = version
        self.incompatibleFeatures = incompatibleFeatures
        self.compatibleFeatures = compatibleFeatures
        self.sequence = sequence
        self.creationTime = creationTime
    }

    /// The version and feature bits: how the segment's blocks are encoded.
    public var format: SegmentFormat {
        SegmentFormat(version: version, incompatibleFeatures: incompatibleFeatures, compatibleFeatures: compatibleFeatures)
    }

    /// The 40 header bytes.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.encodedSize)
        out.appendLittleEndian(version)
        out.appendLittleEndian(UInt16(Self.encodedSize))
        out.appendLittleEndian(incompatibleFeatures)
        out.appendLittleEndian(compatibleFeatures)
        out.appendLittleEndian(sequence)
        out.appendLittleEndian(UInt64(bitPattern: creationTime))
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        out.appendLittleEndian(crc)
        return out
    }

    /// What reading a header found.
    public enum ParseResult: Hashable, Sendable {
        /// A valid header of `length` bytes.
        case valid(SegmentHeader, length: Int)
        /// The magic matches but the header is cut short or its checksum fails;
        /// the blocks may still be readable.
        case damaged(reason: String)
    }

    /// The sequence number of an intact header (magic, length and CRC hold),
    /// whatever its version or features; nil otherwise. Used to order files.
    public static func intactSequence(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= encodedSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        let length = Int(bytes.loadLittleEndian(UInt16.self, at: 10))
        guard length >= encodedSize, length <= FormatLimits.maxHeaderBytes, length <= bytes.count else { return nil }
        let stored = bytes.loadLittleEndian(UInt32.self, at: length - 4)
        guard stored == CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)])) else { return nil }
        return bytes.loadLittleEndian(UInt64.self, at: 20)
    }

    /// Reads the header at the start of `bytes`.
    ///
    /// - Throws: `SegmentError` when the bytes are not a segment at all (empty,
    ///   wrong magic) or the segment needs a version or feature this reader lacks.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SegmentError) -> ParseResult {
        guard !bytes.isEmpty else { throw SegmentError(.notASegment, offset: 0, "empty file, not a segment") }
        let magicCount = min(bytes.count, magic.count)
        for index in 0..<magicCount where bytes[index] != magic[index] {
            throw SegmentError(.notASegment, offset: index, "not a segment (bad magic)")
        }
        guard bytes.count >= encodedSize else {
            return .damaged(reason: "segment header truncated (\(bytes.count) of \(encodedSize) bytes)")
        }
        let length = Int(bytes.loadLittleEndian(UInt16.self, at: 10))
        guard length >= encodedSize, length <= FormatLimits.maxHeaderBytes, length <= bytes.count else {
            return .damaged(reason: "segment header length \(length) invalid")
        }
        let stored = bytes.loadLittleEndian(UInt32.self, at: length - 4)
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)]))
        guard stored == computed else {
            return .damaged(reason: "segment header checksum mismatch")
        }
        let header = SegmentHeader(
            sequence: bytes.loadLittleEndian(UInt64.self, at: 20),
            creationTime: Int64(bitPattern: bytes.loadLittleEndian(UInt64.self, at: 28)),
            version: bytes.loadLittleEndian(UInt16.self, at: 8),
            incompatibleFeatures: bytes.loadLittleEndian(UInt32.self, at: 12),
            compatibleFeatures: bytes.loadLittleEndian(UInt32.self, at: 16)
        )
        guard header.version == currentVersion else {
            throw SegmentError(.unsupported, offset: 8, "unsupported format version \(header.version) (this reader knows \(currentVersion))")
        }
        let unknown = header.incompatibleFeatures & ~knownIncompatibleFeatures
        guard unknown == 0 else {
            throw SegmentError(.unsupported, offset: 12, "unsupported incompatible features 0x\(String(unknown, radix: 16))")
        }
        return .valid(header, length: length)
    }
}

extension Array where Element == UInt8 {
    @inlinable
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var value = value.littleEndian
        Swift.withUnsafeBytes(of: &value) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func loadLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// What a segment header says about how its blocks are encoded, handed by
/// the segment reader to the block decoder (the codec seam: a new codec is
/// a new feature bit, chosen in `BlockDecoder.decode(stored:format:into:)`).
public struct SegmentFormat: Hashable, Sendable {
    /// Format version.
    public var version: UInt16
    /// Features a reader must understand.
    public var incompatibleFeatures: UInt32
    /// Features a reader may ignore.
    public var compatibleFeatures: UInt32

    /// Creates a format description.
    public init(version: UInt16, incompatibleFeatures: UInt32 = 0, compatibleFeatures: UInt32 = 0) {
        self.version = version
        self.incompatibleFeatures = incompatibleFeatures
        self.compatibleFeatures = compatibleFeatures
    }

    /// Version 1 with no features: what every v1 writer writes, and what a
    /// reader assumes for the blocks of a segment whose header is damaged
    /// (`Spec/FORMAT.md` section 10.3).
    public static let v1 = SegmentFormat(version: 1)
}
