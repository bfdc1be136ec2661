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
        var reader = try SegmentReader(bytes: bytes)
        var outcome = Outcome()
        outcome.header = reader.header
        while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block:
                outcome.events += try writer.write(block, to: output, range: range)
            case .damage(let damage):
                outcome.damage += 1
                if !onDamage(damage) {
                    outcome.stopped = true
                    return outcome
                }
            case .end(let tornTail):
                outcome.tornTail = tornTail
                outcome.zeroFilledTail = reader.zeroFilledTail
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
