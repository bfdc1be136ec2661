import SockStatFormat
import SockStatStore

/// What a drain or read delivered.
public struct DrainSummary: Hashable, Sendable {
    /// Segments delivered (and, for a drain, deleted).
    public var segments = 0
    /// Events delivered.
    public var events = 0
    /// Damaged regions skipped in what was delivered.
    public var damage = 0
}

extension Recorder {
    /// Streams everything recorded so far to `sink` as canonical JSON lines,
    /// deleting only what the sink accepted (the seed's `WriteLogs`).
    ///
    /// The buffered block is written and the open segment closed first, so
    /// that every event so far is in a closed segment; recording goes on in a
    /// new one. Then each closed segment, oldest first, is decoded and handed
    /// to `sink` in one call, and deleted once that call returns. If the sink
    /// throws, the drain stops there: that segment and the later ones stay, so
    /// nothing is lost, and nothing already accepted is delivered again.
    ///
    /// - Throws: what `sink` throws, or `StoreError` if the directory cannot be read.
    @discardableResult
    public func drain(to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> DrainSummary {
        try deliver(to: sink, deleting: true)
    }

    /// Streams everything recorded so far to `sink` without deleting anything.
    @discardableResult
    public func read(to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> DrainSummary {
        try deliver(to: sink, deleting: false)
    }

    private func deliver(to sink: (UnsafeRawBufferPointer) throws -> Void, deleting: Bool) throws -> DrainSummary {
        try closeOpenSegment()
        var summary = DrainSummary()
        var decoder = SegmentJSONDecoder()
        var lines: [UInt8] = []
        for file in try SegmentDirectory.segments(in: options.directory) {
            // A segment opened by a poll since we closed ours is held: leave it.
            guard let claimed = SegmentDirectory.claim(file.path) else { continue }
            defer { claimed.release() }
            guard let bytes = try? claimed.read() else { continue }
            lines.removeAll(keepingCapacity: true)
            let output = OutputBuffer(capacity: 1 << 16) { lines.append(contentsOf: $0) }
            let outcome: SegmentJSONDecoder.Outcome
            do {
                outcome = try decoder.decode(bytes, to: output) { _ in true }
                try output.flush()
            } catch {
                continue  // not a readable segment: not ours to deliver or delete
            }
            try lines.withUnsafeBytes { try sink($0) }
            summary.segments += 1
            summary.events += outcome.events
            summary.damage += outcome.damage
            if deleting {
                do {
                    try claimed.remove()
                } catch {
                    // Delivered but not deletable: set it aside so that it is
                    // never delivered again; fail only if even that fails.
                    try claimed.set(aside: ".delivered")
                }
            }
        }
        return summary
    }
}
