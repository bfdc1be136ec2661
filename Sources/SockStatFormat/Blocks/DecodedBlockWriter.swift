/// Writes decoded blocks in one output format: the seam between reading
/// segments and what a person or a program gets.
///
/// Reading (`SegmentReader`, the store's `SegmentDecoder` and
/// `SegmentCollector`, `sockstat-convert decode`, a recorder's drain) hands
/// every intact block to one writer, so a new output format is one new type.
/// `CanonicalJSONBlockWriter` writes canonical JSON lines, the default;
/// `DelimitedTextBlockWriter` CSV and TSV; `WindowingBlockWriter` merges
/// events into windows and hands them to any of them (`Spec/OUTPUT.md`).
///
/// A writer may keep state from block to block (a table header written
/// once, events merged into windows); `finish(to:)` is called once, after
/// the last block of a run.
public protocol DecodedBlockWriter {
    /// Writes the events of `block` whose `t` is in `range` to `output`.
    ///
    /// - Returns: how many of the block's events were in `range`.
    /// - Throws: what `output`'s sink throws.
    mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int

    /// Writes whatever the format holds back until the end of a run.
    ///
    /// - Throws: what `output`'s sink throws.
    mutating func finish(to output: OutputBuffer) throws

    /// Says that the blocks that follow, up to the next call, come from one
    /// segment of the tier with `window` (`Spec/FORMAT.md` 4.1): its
    /// header's rollup window, 0 for a segment of recorded events, or the
    /// window its name gives when its header is damaged. Called once per
    /// segment read, before its first block; what a summary needs to say
    /// which resolution each period has.
    mutating func beginSegment(window: Int64)
}

extension DecodedBlockWriter {
    /// Segments make no difference: the default.
    public mutating func beginSegment(window: Int64) {}

    /// Nothing is held back: the default.
    public mutating func finish(to output: OutputBuffer) throws {}
}
