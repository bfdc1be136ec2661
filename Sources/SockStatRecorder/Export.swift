import Logging
import SockStatFormat
import SockStatStore

/// One closed segment an export hands over, as it is on disk.
public struct ExportedSegment: Hashable, Sendable {
    /// Its file name in the recorder's directory ("sockstat-…0042.sslog").
    public var name: String
    /// The sequence number of its header (nil when the header is damaged:
    /// its blocks are still shipped and read).
    public var sequence: UInt64?
    /// The segment's bytes (`Spec/FORMAT.md`); concatenated, several make an
    /// export stream (`Spec/EXPORT.md`).
    public var bytes: [UInt8]
    /// Events in it (counted by decoding it before it is handed over).
    public var events: Int
    /// Damaged regions in it (its intact blocks are still readable at the other end).
    public var damage: Int

    /// Describes an exported segment.
    public init(name: String, sequence: UInt64?, bytes: [UInt8], events: Int, damage: Int) {
        self.name = name
        self.sequence = sequence
        self.bytes = bytes
        self.events = events
        self.damage = damage
    }
}

extension Recorder {
    /// Hands everything recorded so far to `sink` as segment bytes, one call
    /// per closed segment, oldest first, deleting each only after its call
    /// returned: the compact form of `drain(to:)` (about seven times fewer
    /// bytes than JSON lines), for shipping and converting elsewhere.
    ///
    /// The same collection as `drain(to:)` and `sockstat-convert decode
    /// --consume` (`SegmentCollector`): the open segment is closed first and
    /// a new one goes on recording; each closed segment is locked, read once,
    /// checked by decoding it, handed over, then deleted. A segment with
    /// damage is shipped as it is (the reader at the other end skips the
    /// damage as it would here) and kept as `.sslog.damaged`; a copy of one
    /// already shipped is set aside as `.sslog.duplicate`, never shipped
    /// twice. If `sink` throws, the export stops: that segment and the later
    /// ones stay, so nothing is lost and nothing accepted is shipped again.
    ///
    /// - Throws: what `sink` throws, or `StoreError` if the directory cannot
    ///   be read or written, or a shipped segment could be neither deleted
    ///   nor set aside (it would be shipped again; the export stops there).
    @discardableResult
    public func export(to sink: (ExportedSegment) throws -> Void) throws -> DrainSummary {
        // As in drain: a segment that cannot be closed waits for the next export.
        try? closeOpenSegment()
        var collector = SegmentCollector(writer: EventCountingBlockWriter())
        var summary = DrainSummary()
        let nowhere = OutputBuffer(capacity: 1) { _ in }
        _ = try collector.collect(from: options.directory, to: nowhere, deliverBytes: { segment, bytes in
            let name = String(segment.path.split(separator: "/").last ?? Substring(segment.path))
            try sink(ExportedSegment(name: name, sequence: segment.sequence, bytes: bytes,
                                     events: segment.events, damage: segment.damage))
            summary.add(segment)
        }, notes: { logger.warning("sockstatlog: export: \($0)") })
        return summary
    }
}
