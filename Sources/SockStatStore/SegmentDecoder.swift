import SockStatFormat

/// Decodes whole segments through one output format, reporting damage: the
/// loop under `sockstat-convert decode`, `--consume`, drains and reads
/// (through `SegmentCollector`).
///
/// Generic over the writer so that a new output format is one new
/// `DecodedBlockWriter` and nothing here changes; the writer is called once
/// per block, its per-event work stays in its own module.
public struct SegmentDecoder<Writer: DecodedBlockWriter> {
    /// What decoding one segment found.
    public struct Outcome: Sendable {
        /// Events written.
        public var events = 0
        /// Damaged regions skipped (each also passed to `onDamage`).
        public var damage = 0
        /// Bytes of a torn tail (a writer stopped mid-block), 0 if none.
        public var tornTail = 0
        /// Whether that tail was all zeros.
        public var zeroFilledTail = false
        /// The header, or nil when it was damaged.
        public var header: SegmentHeader?
        /// Whether `onDamage` said to stop (the segment was not read to its end).
        public var stopped = false
        /// Where the read stopped: a later read of the same segment, grown
        /// since, goes on from here (`decode(_:resuming:growing:range:to:onDamage:)`).
        public var resumption: SegmentReader.Resumption?

        @usableFromInline init() {}
    }

    /// The output format.
    public var writer: Writer
    @usableFromInline var decoder = BlockDecoder()
    @usableFromInline var block = DecodedBlock()

    /// Creates a decoder writing through `writer`.
    public init(writer: Writer) {
        self.writer = writer
    }

    /// Decodes `bytes`, a whole segment, writing the events in `range` to `output`.
    ///
    /// - Parameter onDamage: called for each damaged region; return false to
    ///   stop at it (`--strict`).
    /// - Throws: `SegmentError` when the bytes are not a readable segment;
    ///   rethrows what `output`'s sink throws.
    // Inlinable so that the caller's module specializes it for its writer:
    // the writer is called at every block.
    @inlinable
    public mutating func decode(_ bytes: [UInt8], range: TimeRange = TimeRange(), to output: OutputBuffer,
                                onDamage: (Damage) -> Bool) throws -> Outcome {
        try decode(bytes, resuming: nil, growing: false, range: range, to: output, onDamage: onDamage)
    }

    /// Decodes `bytes`, a segment a writer may still be appending to, from
    /// where an earlier read of it stood (`resuming`, from
    /// `Outcome.resumption`; nil reads from the start), writing the events
    /// in `range` to `output`.
    ///
    /// While `growing`, the end of the bytes is not the end of the segment:
    /// a torn tail is a block being written, and a damaged region that runs
    /// to the end may hold one too (the frame after the damage may not be
    /// written yet). Neither is passed to `onDamage` (a torn tail is still
    /// in `Outcome.tornTail`); `Outcome.resumption` stands before it, so
    /// that the next read of the longer file looks at it again.
    ///
    /// - Throws: `SegmentError` when the bytes are not a readable segment
    ///   (or have grown past the largest one a reader accepts); rethrows
    ///   what `output`'s sink throws.
    ///
    /// A segment read from the start (not `resuming`) is announced to the
    /// writer first (`DecodedBlockWriter.beginSegment(window:)`) with its
    /// header's tier window, 0 for recorded events, or `namedWindow` (the
    /// window of its file's name) when the header is damaged.
    @inlinable
    public mutating func decode(_ bytes: [UInt8], resuming resumption: SegmentReader.Resumption?, growing: Bool,
                                range: TimeRange = TimeRange(), namedWindow: Int64 = 0, to output: OutputBuffer,
                                onDamage: (Damage) -> Bool) throws -> Outcome {
        var reader: SegmentReader
        if let resumption {
            reader = try SegmentReader(bytes: bytes, resuming: resumption)
        } else {
            reader = try SegmentReader(bytes: bytes)
            writer.beginSegment(window: reader.header.map { $0.rollup?.window ?? 0 } ?? namedWindow)
        }
        var outcome = Outcome()
        outcome.header = reader.header
        while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block:
                outcome.events += try writer.write(block, to: output, range: range)
            case .damage(let damage):
                // Bad bytes up to the end, where the reader stands: perhaps
                // a damaged block and the start of the next one being written.
                if growing, damage.offset + damage.length == bytes.count, damage.offset == reader.resumption.offset {
                    outcome.resumption = reader.resumption
                    return outcome
                }
                outcome.damage += 1
                if !onDamage(damage) {
                    outcome.stopped = true
                    outcome.resumption = reader.resumption
                    return outcome
                }
            case .end(let tornTail):
                outcome.tornTail = tornTail
                outcome.zeroFilledTail = reader.zeroFilledTail
                outcome.resumption = reader.resumption
                return outcome
            }
        }
    }
}

extension SegmentDecoder where Writer == CanonicalJSONBlockWriter {
    /// Creates a decoder writing canonical JSON lines.
    public init() {
        self.init(writer: CanonicalJSONBlockWriter())
    }
}

/// Decodes whole segments to canonical JSON lines.
public typealias SegmentJSONDecoder = SegmentDecoder<CanonicalJSONBlockWriter>

// Not Sendable: its BlockDecoder is not.
@available(*, unavailable)
extension SegmentDecoder: Sendable {}
