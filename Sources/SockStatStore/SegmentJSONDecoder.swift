import SockStatFormat

/// Decodes whole segments to canonical JSON lines, reporting damage: the
/// loop shared by `sockstat-convert decode`, draining and collecting.
public struct SegmentJSONDecoder {
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
    }

    private var decoder = BlockDecoder()
    private var block = DecodedBlock()
    private var writer = CanonicalJSONBlockWriter()

    /// Creates a decoder.
    public init() {}

    /// Decodes `bytes`, a whole segment, writing the events in `range` to `output`.
    ///
    /// - Parameter onDamage: called for each damaged region; return false to
    ///   stop at it (`--strict`).
    /// - Throws: `SegmentError` when the bytes are not a readable segment;
    ///   rethrows what `output`'s sink throws.
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
                if !onDamage(damage) { return outcome }
            case .end(let tornTail):
                outcome.tornTail = tornTail
                outcome.zeroFilledTail = reader.zeroFilledTail
                return outcome
            }
        }
    }
}
