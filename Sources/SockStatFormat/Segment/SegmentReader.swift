/// A region of a segment that was skipped, and why.
public struct Damage: Hashable, Sendable, CustomStringConvertible {
    /// Offset of the first skipped byte.
    public var offset: Int
    /// Number of bytes skipped.
    public var length: Int
    /// Why they were skipped.
    public var reason: String

    /// Creates a damage report.
    public init(offset: Int, length: Int, reason: String) {
        self.offset = offset
        self.length = length
        self.reason = reason
    }

    public var description: String { "offset \(offset): \(reason); skipped \(length) bytes" }
}

/// Walks the blocks of one segment held in memory, recovering from damage.
///
/// - A torn tail (the bytes after the last complete block are the start of a
///   block, or zeros) is a clean end: `tornTail` says how long it was.
/// - Anything else that fails its checks is reported as `Damage`, and reading
///   resumes at the next valid block frame. A damaged block yields no events.
/// - Finding and checking frames takes time linear in the segment's size,
///   whatever its bytes (`FrameLocator`, `Spec/FORMAT.md` section 10.1).
/// - A block whose index is not greater than the last one read (moved or
///   duplicated) is reported and skipped, so events never come out of order.
public struct SegmentReader: Sendable {
    /// What the next step of reading found.
    public enum Step: Sendable {
        /// A block was decoded into the caller's `DecodedBlock`; it began at `offset`.
        case block(offset: Int)
        /// A region was skipped.
        case damage(Damage)
        /// The segment ended cleanly; the last `tornTail` bytes were an incomplete write.
        case end(tornTail: Int)
    }

    /// The segment's bytes.
    public let bytes: [UInt8]
    /// The header, or nil when it is damaged (its blocks are still read).
    public private(set) var header: SegmentHeader?
    private var position: Int
    private var pendingHeaderDamage: Damage?
    private var lastBlockIndex: UInt64?
    private var sequence: UInt64?
    private var finished = false
    /// Checks frames in time linear in the segment, whatever its bytes.
    private var frames = FrameLocator()
    /// Whether the torn tail reported by `.end` was all zeros.
    public private(set) var zeroFilledTail = false

    /// Where a reader stands between steps: enough to go on reading a
    /// longer copy of the same segment (one a writer has appended blocks to
    /// since) where this read stopped, without reading its blocks again.
    public struct Resumption: Hashable, Sendable {
        /// The offset of the next frame to read: after the last complete
        /// block or skipped region (a torn tail, or damage that may be a
        /// block still being written, starts here).
        public fileprivate(set) var offset: Int
        fileprivate var header: SegmentHeader?
        fileprivate var sequence: UInt64?
        fileprivate var lastBlockIndex: UInt64?
    }

    /// Where the next step starts (see `init(bytes:resuming:)`).
    public var resumption: Resumption {
        Resumption(offset: position, header: header, sequence: sequence, lastBlockIndex: lastBlockIndex)
    }

    /// Goes on reading `bytes`, the same segment as the read that gave
    /// `resumption` and at least as long, from where that read stood: its
    /// header (or its damage) and the blocks before `resumption.offset` are
    /// not read again, and the order of block indexes is checked from the
    /// last block it read on.
    ///
    /// - Throws: `SegmentError` when the bytes have grown past the largest
    ///   segment a reader accepts.
    public init(bytes: [UInt8], resuming resumption: Resumption) throws(SegmentError) {
        guard bytes.count <= FormatLimits.maxSegmentBytes else {
            throw SegmentError(.tooLarge, offset: 0, "segment of \(bytes.count) bytes exceeds \(FormatLimits.maxSegmentBytes)")
        }
        self.bytes = bytes
        self.header = resumption.header
        self.sequence = resumption.sequence
        self.lastBlockIndex = resumption.lastBlockIndex
        self.position = min(resumption.offset, bytes.count)
    }

    /// Starts reading `bytes`, a whole segment file.
    ///
    /// - Throws: `SegmentError` when the bytes are not a segment (empty, bad
    ///   magic), are too large, or need a version or feature this reader lacks.
    public init(bytes: [UInt8]) throws(SegmentError) {
        guard bytes.count <= FormatLimits.maxSegmentBytes else {
            throw SegmentError(.tooLarge, offset: 0, "segment of \(bytes.count) bytes exceeds \(FormatLimits.maxSegmentBytes)")
        }
        self.bytes = bytes
        let parsed: SegmentHeader.ParseResult
        do {
            parsed = try bytes.withUnsafeBytes { (raw) throws(SegmentError) in try SegmentHeader.parse(raw) }
        } catch let error as SegmentError {
            throw error
        } catch {
            fatalError("unreachable: SegmentHeader.parse throws only SegmentError")
        }
        switch parsed {
        case .valid(let header, let length):
            self.header = header
            self.sequence = header.sequence
            self.position = length
        case .damaged(let reason):
            // Blocks are self-contained: look for them after the fixed fields.
            self.header = nil
            let resume = min(bytes.count, SegmentHeader.encodedSize)
            self.position = resume
            self.pendingHeaderDamage = Damage(offset: 0, length: resume, reason: reason)
        }
    }

    /// Reads the next block, damage report or end.
    public mutating func next(into block: inout DecodedBlock, using decoder: inout BlockDecoder) -> Step {
        if let damage = pendingHeaderDamage {
            pendingHeaderDamage = nil
            if bytes.count < SegmentHeader.encodedSize { finished = true }
            return .damage(damage)
        }
        if finished { return .end(tornTail: 0) }
        let bytes = self.bytes
        return bytes.withUnsafeBytes { raw in step(raw, into: &block, using: &decoder) }
    }

    private mutating func step(_ raw: UnsafeRawBufferPointer, into block: inout DecodedBlock, using decoder: inout BlockDecoder) -> Step {
        let start = position
        guard start < raw.count else {
            finished = true
            return .end(tornTail: 0)
        }
        switch frames.probe(raw, at: start) {
        case .valid(let payload):
            position = payload.upperBound
            do {
                try decoder.decode(stored: UnsafeRawBufferPointer(rebasing: raw[payload]), format: header?.format ?? .v1, into: &block)
            } catch {
                return .damage(Damage(offset: start, length: position - start, reason: error.reason))
            }
            if let sequence, block.segmentSequence != sequence {
                return .damage(Damage(offset: start, length: position - start,
                                      reason: "block belongs to segment \(block.segmentSequence), not \(sequence)"))
            }
            if let last = lastBlockIndex, block.blockIndex <= last {
                return .damage(Damage(offset: start, length: position - start,
                                      reason: "block \(block.blockIndex) out of order after block \(last) (moved or duplicated)"))
            }
            sequence = block.segmentSequence
            lastBlockIndex = block.blockIndex
            return .block(offset: start)
        case .incomplete:
            if let next = frames.nextValid(raw, from: start + 1) {
                position = next
                return .damage(Damage(offset: start, length: next - start, reason: "block cut short: another block starts inside it"))
            }
            finished = true
            return .end(tornTail: raw.count - start)
        case .invalid(let reason):
            if let next = frames.nextValid(raw, from: start + 1) {
                position = next
                return .damage(Damage(offset: start, length: next - start, reason: reason))
            }
            finished = true
            // Zeros to the end are a torn write on file systems that extend
            // the file before its data lands (power loss), not damage.
            if raw[start...].allSatisfy({ $0 == 0 }) {
                zeroFilledTail = true
                return .end(tornTail: raw.count - start)
            }
            return .damage(Damage(offset: start, length: raw.count - start, reason: reason + " (to end of file)"))
        }
    }
}
