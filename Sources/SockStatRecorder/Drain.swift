import SockStatFormat
import SockStatStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// new one. (If that write fails, the open segment's events wait for a
    /// later drain; the closed segments are delivered all the same.) Only
    /// this user's files named like segments are taken. Then each closed segment, oldest first, is decoded and handed
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
        // If the open segment cannot be closed (its last block cannot be
        // written: a full disk), it stays open and locked, its events wait for
        // the next drain, and the closed segments are still delivered: on a
        // full disk that is what frees the space.
        try? closeOpenSegment()
        var summary = DrainSummary()
        var decoder = SegmentJSONDecoder()
        var lines: [UInt8] = []
        let me = geteuid()
        for file in try SegmentDirectory.segments(in: options.directory) {
            // Only our own segments: files named like segments and owned by
            // this user (others are left alone, as retention leaves them).
            var info = stat()
            let name = file.path.split(separator: "/").last.map(String.init) ?? ""
            guard SegmentName.sequence(fromFileName: name) != nil, stat(file.path, &info) == 0, info.st_uid == me else { continue }
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
