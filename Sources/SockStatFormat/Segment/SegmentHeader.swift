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
///     36 32  rollup tier, when incompatible feature bit 0 is set (n = 72):
///            window, source window, first and last source segment (u64 each)
///     ..     (other bytes up to n - 4 a v1 reader skips)
///     n-4 4  CRC-32 of bytes 0 ..< n-4
public struct SegmentHeader: Hashable, Sendable {
    /// The magic bytes. The first is non-ASCII and CR LF / SUB / LF follow, as in
    /// PNG, so text-mode transfers and `type` on DOS-like systems show damage.
    public static let magic: [UInt8] = [0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The format version this code reads and writes.
    public static let currentVersion: UInt16 = 1
    /// The header length a v1 writer uses.
    public static let encodedSize = 40
    /// The header length of a rollup tier segment.
    public static let rollupEncodedSize = 72
    /// Incompatible feature bit 0: the segment is a rollup tier (its header
    /// carries a `RollupTier`). Readers that did not know it would order
    /// and de-duplicate its segments wrongly, so it is incompatible.
    public static let rollupFeature: UInt32 = 1 << 0
    /// Incompatible feature bits this reader understands.
    public static let knownIncompatibleFeatures: UInt32 = rollupFeature

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
    /// The rollup tier the segment belongs to; nil for a segment of recorded
    /// events. Setting it sets `rollupFeature`.
    public var rollup: RollupTier? {
        didSet {
            if rollup == nil { incompatibleFeatures &= ~Self.rollupFeature } else { incompatibleFeatures |= Self.rollupFeature }
        }
    }

    /// Creates a v1 header.
    public init(sequence: UInt64, creationTime: Int64, version: UInt16 = SegmentHeader.currentVersion,
                incompatibleFeatures: UInt32 = 0, compatibleFeatures: UInt32 = 0) {
        self.version = version
        self.incompatibleFeatures = incompatibleFeatures
        self.compatibleFeatures = compatibleFeatures
        self.sequence = sequence
        self.creationTime = creationTime
    }

    /// Creates the header of a rollup tier segment.
    public init(sequence: UInt64, creationTime: Int64, rollup: RollupTier) {
        self.init(sequence: sequence, creationTime: creationTime, incompatibleFeatures: Self.rollupFeature)
        self.rollup = rollup
    }

    /// The version and feature bits: how the segment's blocks are encoded.
    public var format: SegmentFormat {
        SegmentFormat(version: version, incompatibleFeatures: incompatibleFeatures, compatibleFeatures: compatibleFeatures)
    }

    /// The header bytes: 40, or 72 for a rollup tier segment.
    public func encoded() -> [UInt8] {
        let length = rollup == nil ? Self.encodedSize : Self.rollupEncodedSize
        var out = Self.magic
        out.reserveCapacity(length)
        out.appendLittleEndian(version)
        out.appendLittleEndian(UInt16(length))
        out.appendLittleEndian(incompatibleFeatures)
        out.appendLittleEndian(compatibleFeatures)
        out.appendLittleEndian(sequence)
        out.appendLittleEndian(UInt64(bitPattern: creationTime))
        if let rollup {
            out.appendLittleEndian(UInt64(rollup.window))
            out.appendLittleEndian(UInt64(rollup.sourceWindow))
            out.appendLittleEndian(rollup.sources.lowerBound)
            out.appendLittleEndian(rollup.sources.upperBound)
        }
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
        intactKey(bytes)?.sequence
    }

    /// What an intact header (magic, length and CRC hold, whatever its
    /// version or features) says about where its segment goes in a
    /// directory (`Spec/FORMAT.md` 10.4): its sequence number, and its
    /// rollup tier when it is a valid version 1 rollup header; nil when the
    /// header is not intact.
    public static func intactKey(_ bytes: UnsafeRawBufferPointer) -> (sequence: UInt64, rollup: RollupTier?)? {
        guard bytes.count >= encodedSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        let length = Int(bytes.loadLittleEndian(UInt16.self, at: 10))
        guard length >= encodedSize, length <= FormatLimits.maxHeaderBytes, length <= bytes.count else { return nil }
        let stored = bytes.loadLittleEndian(UInt32.self, at: length - 4)
        guard stored == CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)])) else { return nil }
        let sequence = bytes.loadLittleEndian(UInt64.self, at: 20)
        let isRollup = bytes.loadLittleEndian(UInt16.self, at: 8) == currentVersion
            && bytes.loadLittleEndian(UInt32.self, at: 12) & rollupFeature != 0
        return (sequence, isRollup ? RollupTier(headerBytes: bytes, length: length) : nil)
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
        var header = SegmentHeader(
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
        if header.incompatibleFeatures & rollupFeature != 0 {
            guard let rollup = RollupTier(headerBytes: bytes, length: length) else {
                throw SegmentError(.unsupported, offset: 36, "invalid rollup tier header")
            }
            header.rollup = rollup
        }
        return .valid(header, length: length)
    }
}

/// What a rollup tier segment's header says (`Spec/FORMAT.md` 4.1): the
/// length of its windows, the tier its events were rolled up from, and
/// exactly which of that tier's segments it holds.
public struct RollupTier: Hashable, Sendable {
    /// The longest window a tier may have: 366 days, as `--resolution`.
    public static let maxWindow: Int64 = 366 * 86_400_000

    /// The tier's window length, milliseconds (1 ... `maxWindow`).
    public var window: Int64
    /// The window of the tier the events came from: 0 for the recorded
    /// events (segments with no rollup tier), otherwise shorter than `window`.
    public var sourceWindow: Int64
    /// The source tier's segments this segment holds the rollups of: all of them, and only them.
    public var sources: ClosedRange<UInt64>

    /// Creates a tier description; nil when the fields break the rules above.
    public init?(window: Int64, sourceWindow: Int64, sources: ClosedRange<UInt64>) {
        guard window >= 1, window <= Self.maxWindow, sourceWindow >= 0, sourceWindow < window else { return nil }
        self.window = window
        self.sourceWindow = sourceWindow
        self.sources = sources
    }

    /// Reads the tier fields of a header of `length` bytes; nil when it is
    /// too short for them or they break the rules.
    init?(headerBytes bytes: UnsafeRawBufferPointer, length: Int) {
        guard length >= SegmentHeader.rollupEncodedSize else { return nil }
        let window = bytes.loadLittleEndian(UInt64.self, at: 36)
        let sourceWindow = bytes.loadLittleEndian(UInt64.self, at: 44)
        let first = bytes.loadLittleEndian(UInt64.self, at: 52)
        let last = bytes.loadLittleEndian(UInt64.self, at: 60)
        guard window <= UInt64(Self.maxWindow), sourceWindow <= UInt64(Self.maxWindow), first <= last else { return nil }
        self.init(window: Int64(window), sourceWindow: Int64(sourceWindow), sources: first...last)
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
