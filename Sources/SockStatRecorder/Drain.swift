import Logging
import SockStatFormat
import SockStatStore

/// What a drain or read delivered.
public struct DrainSummary: Hashable, Sendable {
    /// Segments delivered (and, for a drain, deleted or set aside).
    public var segments = 0
    /// Events delivered.
    public var events = 0
    /// Damaged regions skipped in what was delivered.
    public var damage = 0
}

extension Recorder {
    /// Streams everything recorded so far to `sink` as canonical JSON lines,
    /// one call per segment, deleting each segment only after its call
    /// returned (the seed's `WriteLogs`).
    ///
    /// The buffered block is written and the open segment closed first, so
    /// that every event so far is in a closed segment; recording goes on in a
    /// new one. (If that write fails, the open segment's events wait for a
    /// later drain; the closed segments are delivered all the same.) Then the
    /// closed segments are collected oldest first, by the same rules as
    /// `sockstat-convert decode --consume` (`SegmentCollector`): only this
    /// user's files named like segments; a segment with damage is renamed
    /// `.sslog.damaged` after its intact events are delivered; a copy of a
    /// segment this drain delivered (the same sequence number in its header)
    /// is renamed `.sslog.duplicate`, never delivered twice. If the sink
    /// throws, the drain stops there: that segment and the later ones stay,
    /// so nothing is lost, and nothing already accepted is delivered again.
    /// After `shutdown()` a drain still delivers what is on disk (it writes
    /// no segment): shutting down, then draining, collects everything.
    ///
    /// - Throws: what `sink` throws, or `StoreError` if the directory cannot
    ///   be read or written, or a delivered segment could be neither deleted
    ///   nor set aside (it will be delivered again; the drain stops there).
    @discardableResult
    public func drain(to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> DrainSummary {
        // If the open segment cannot be closed (its last block cannot be
        // written: a full disk), it stays open and locked, its events wait for
        // the next drain, and the closed segments are still delivered: on a
        // full disk that is what frees the space.
        try? closeOpenSegment()
        var collector = SegmentCollector()
        var summary = DrainSummary()
        let lines = SegmentLines()
        _ = try collector.collect(from: options.directory, to: lines.output, deliver: { segment in
            try lines.deliver(to: sink)
            summary.add(segment)
        }, notes: { logger.warning("sockstatlog: drain: \($0)") })
        return summary
    }

    /// Streams everything recorded so far to `sink` as canonical JSON lines,
    /// one call per segment, and deletes nothing.
    ///
    /// The buffered block is written first; the open segment stays open (a
    /// read does not rotate segments, so reading often costs no space), and
    /// its complete blocks are read up to its size at that moment. The
    /// segments read are those a drain would take, in the same order, with
    /// the same damage handling, every tier (coarse first), each opened at
    /// the moment the open segment's size is taken: what the log held then
    /// is read, whatever a rollup, retention or a collector does after
    /// (a segment a rollup already holds is not read twice). After
    /// `shutdown()` a read still reads what is on disk.
    ///
    /// - Throws: what `sink` throws, or `StoreError` if the directory cannot be read.
    @discardableResult
    public func read(to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> DrainSummary {
        // One moment for all of it: the buffered block written, the open
        // segment's size and the directory listed under the same lock as
        // polls, so a rotation cannot fall between them (and leave a gap).
        let inputs = try snapshotForRead()
        var collector = SegmentCollector()
        var summary = DrainSummary()
        let lines = SegmentLines()
        for input in inputs {
            let bytes: [UInt8]
            do {
                bytes = try input.segment.read(prefix: input.prefix)
            } catch {
                logger.warning("sockstatlog: read: \(error)")
                continue
            }
            let path = input.segment.path
            guard let outcome = try collector.read(bytes, path: path, to: lines.output,
                                                   notes: { logger.warning("sockstatlog: read: \($0)") })
            else { continue }
            try lines.deliver(to: sink)
            summary.add(CollectedSegment(path: path, events: outcome.events, damage: outcome.damage))
        }
        return summary
    }

}

/// One segment's lines, gathered to be handed to a sink in one call.
private final class SegmentLines {
    private var bytes: [UInt8] = []
    private(set) lazy var output = OutputBuffer(capacity: 1 << 16) { [unowned self] in bytes.append(contentsOf: $0) }

    /// Hands the segment's lines to `sink` and starts the next segment.
    func deliver(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try output.flush()
        defer { bytes.removeAll(keepingCapacity: true) }
        try bytes.withUnsafeBytes { try sink($0) }
    }
}

extension DrainSummary {
    mutating func add(_ segment: CollectedSegment) {
        segments += 1
        events += segment.events
        damage += segment.damage
    }
}
