import SockStatFormat

/// A `DecodedBlockWriter` that writes nothing and feeds a `TrafficSummary`,
/// so that a summary reads segments through `SegmentCollector` exactly as
/// `decode` does (the same damage handling and exit codes).
public struct SummaryBlockWriter: DecodedBlockWriter, Sendable {
    /// What has been read so far.
    public var summary: TrafficSummary

    /// A writer feeding an empty summary made with `options`.
    public init(options: SummaryOptions = SummaryOptions()) {
        summary = TrafficSummary(options: options)
    }

    /// Tells `summary` the tier of the segment whose blocks come next.
    public mutating func beginSegment(window: Int64) {
        summary.beginSegment(window: window)
    }

    /// Adds the events of `block` in `range` to `summary`; `output` is not touched.
    ///
    /// - Returns: how many events were in `range`.
    public mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
        summary.add(block, range: range)
    }
}
