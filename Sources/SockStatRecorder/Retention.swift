import SockStatFormat
import SockStatStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a log directory within its byte cap and age limit by deleting the
/// oldest closed segments. Only segment files this user owns are touched.
///
/// The closed segments are listed once per new segment and remembered, so
/// that keeping the cap before every block costs no directory scan and no
/// allocation.
final class Retention {
    let directory: String
    let maxTotalBytes: Int
    let maxAgeMilliseconds: Int64?

    private struct Segment {
        var sequence: UInt64
        var path: String
        var size: Int
        var modifiedMilliseconds: Int64
        var ownedByUs: Bool
    }

    /// Closed segments, oldest first, as last listed.
    private var closed: [Segment] = []

    init(directory: String, maxTotalBytes: Int, maxAgeMilliseconds: Int64?) {
        self.directory = directory
        self.maxTotalBytes = maxTotalBytes
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }

    /// Deletes closed segments, oldest first, until `incoming` more bytes fit
    /// under the cap together with the open segment's `openBytes`, and any
    /// closed segment last written before the age limit. Returns how many
    /// were deleted.
    ///
    /// - Parameter openSegment: the segment being written, or nil when a new
    ///   one is about to be created (then the directory is listed afresh).
    func makeRoom(for incoming: Int, openSegment: UInt64?, openBytes: Int, now: Int64) -> Int {
        if openSegment == nil { relist() }
        var total = openBytes + incoming
        for segment in closed { total += segment.size }
        if total > maxTotalBytes {
            // About to delete: first forget segments a collector already took,
            // so that they do not make us delete more than the cap needs.
            var info = stat()
            closed.removeAll { stat($0.path, &info) != 0 }
            total = openBytes + incoming
            for segment in closed { total += segment.size }
        }
        var deleted = 0
        var index = 0
        while index < closed.count {
            let segment = closed[index]
            let expired = maxAgeMilliseconds.map { limit in
                let (age, overflow) = now.subtractingReportingOverflow(segment.modifiedMilliseconds)
                return !overflow && age > limit
            } ?? false
            guard segment.ownedByUs, total > maxTotalBytes || expired else {
                index += 1
                continue
            }
            if unlink(segment.path) == 0 {
                deleted += 1
            } else if errno != ENOENT {
                index += 1  // cannot delete it: leave it and try the next
                continue
            }
            // Deleted, or already gone (a collector took it).
            total -= segment.size
            closed.remove(at: index)
        }
        return deleted
    }

    /// Lists the closed segments (every segment file: the open one, if any,
    /// is not among them when this is called).
    private func relist() {
        closed.removeAll(keepingCapacity: true)
        let me = geteuid()
        for name in (try? SegmentDirectory.fileNames(in: directory)) ?? [] {
            guard let sequence = SegmentName.sequence(fromFileName: name) else { continue }
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let modified = Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
            closed.append(Segment(sequence: sequence, path: path, size: Int(info.st_size),
                                  modifiedMilliseconds: modified, ownedByUs: info.st_uid == me))
        }
        closed.sort { $0.sequence < $1.sequence }
    }
}
