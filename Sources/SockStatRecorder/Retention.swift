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
/// oldest files it may delete: first the segments collectors set aside
/// (`.sslog.damaged`, `.sslog.delivered`, `.sslog.duplicate`: their intact
/// events were delivered), then the oldest closed segments. Only this user's
/// files named like segments, or like set-aside segments, are counted and
/// touched: another user's files are neither deleted nor counted against
/// the cap (the recorder could not free their space).
///
/// The files are listed once per new segment and remembered, so that
/// keeping the cap before every block costs no directory scan and no
/// allocation.
final class Retention {
    let directory: String
    let maxTotalBytes: Int
    let maxAgeMilliseconds: Int64?

    private struct File {
        var sequence: UInt64
        var path: String
        var size: Int
        var modifiedMilliseconds: Int64
    }

    /// What may be deleted, in the order it is: set-aside files, then
    /// closed segments, each oldest first; as last listed.
    private var files: [File] = []

    init(directory: String, maxTotalBytes: Int, maxAgeMilliseconds: Int64?) {
        self.directory = directory
        self.maxTotalBytes = maxTotalBytes
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }

    /// Deletes files, set-aside ones and then the oldest closed segments,
    /// until `incoming` more bytes fit under the cap together with the open
    /// segment's `openBytes`, and any file last written before the age
    /// limit. Returns how many segments (not set-aside files) were deleted.
    ///
    /// - Parameter openSegment: the segment being written, or nil when a new
    ///   one is about to be created (then the directory is listed afresh).
    func makeRoom(for incoming: Int, openSegment: UInt64?, openBytes: Int, now: Int64) -> Int {
        if openSegment == nil { relist(excluding: nil) }
        var total = openBytes + incoming
        for file in files { total += file.size }
        if total > maxTotalBytes {
            // About to delete. A file a collector took since the listing is
            // gone, or renamed: set aside under a name the listing does not
            // have. Either way the directory is listed again (rarely: only
            // when over the cap after a collector came), so that the cap
            // counts what is there.
            var info = stat()
            if files.contains(where: { stat($0.path, &info) != 0 }) {
                relist(excluding: openSegment)
            }
            total = openBytes + incoming
            for file in files { total += file.size }
        }
        var deleted = 0
        var index = 0
        while index < files.count {
            let file = files[index]
            let expired = maxAgeMilliseconds.map { limit in
                let (age, overflow) = now.subtractingReportingOverflow(file.modifiedMilliseconds)
                return !overflow && age > limit
            } ?? false
            guard total > maxTotalBytes || expired else {
                index += 1
                continue
            }
            if unlink(file.path) == 0 {
                if SegmentName.sequence(fromFileName: Self.name(of: file.path)) != nil { deleted += 1 }
            } else if errno != ENOENT {
                index += 1  // cannot delete it: leave it and try the next
                continue
            }
            // Deleted, or already gone (a collector took it).
            total -= file.size
            files.remove(at: index)
        }
        return deleted
    }

    /// Lists what may be deleted: this user's set-aside files and segment
    /// files, but the open segment (`excluding`; none is open when a new
    /// one is about to be created).
    private func relist(excluding openSegment: UInt64?) {
        files.removeAll(keepingCapacity: true)
        var setAside: [File] = []
        let me = geteuid()
        for name in (try? SegmentDirectory.fileNames(in: directory)) ?? [] {
            let segment = SegmentName.sequence(fromFileName: name)
            guard let sequence = segment ?? SegmentDirectory.setAsideSequence(fromFileName: name) else { continue }
            if let openSegment, segment == openSegment { continue }
            let path = SegmentDirectory.path(of: name, in: directory)
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == me else { continue }
            #if canImport(Darwin)
            let modified = Int64(info.st_mtimespec.tv_sec) * 1000 + Int64(info.st_mtimespec.tv_nsec) / 1_000_000
            #else
            let modified = Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
            #endif
            let file = File(sequence: sequence, path: path, size: Int(info.st_size), modifiedMilliseconds: modified)
            if segment != nil { files.append(file) } else { setAside.append(file) }
        }
        setAside.sort { ($0.sequence, $0.path.utf8.count, $0.path) < ($1.sequence, $1.path.utf8.count, $1.path) }
        files.sort { $0.sequence < $1.sequence }
        files.insert(contentsOf: setAside, at: 0)
    }

    private static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
