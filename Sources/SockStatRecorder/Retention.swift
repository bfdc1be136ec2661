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
struct Retention {
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

    /// Deletes closed segments, oldest first, until `incoming` more bytes fit
    /// under the cap, and any closed segment last written before the age
    /// limit. Returns how many were deleted.
    func makeRoom(for incoming: Int, openSegment: UInt64?, now: Int64) -> Int {
        var segments: [Segment] = []
        let names = (try? SegmentDirectory.fileNames(in: directory)) ?? []
        let me = geteuid()
        for name in names {
            guard let sequence = SegmentName.sequence(fromFileName: name) else { continue }
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // vanished: a collector took it
            let modified = Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
            segments.append(Segment(sequence: sequence, path: path, size: Int(info.st_size),
                                    modifiedMilliseconds: modified, ownedByUs: info.st_uid == me))
        }
        segments.sort { $0.sequence < $1.sequence }
        var total = segments.reduce(0) { $0 + $1.size } + incoming
        var deleted = 0
        for segment in segments where segment.sequence != openSegment && segment.ownedByUs {
            let expired = maxAgeMilliseconds.map { now - segment.modifiedMilliseconds > $0 } ?? false
            guard total > maxTotalBytes || expired else { continue }
            if unlink(segment.path) == 0 || errno == ENOENT {
                total -= segment.size
                deleted += 1
            }
        }
        return deleted
    }
}
