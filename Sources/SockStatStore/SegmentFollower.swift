import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows a directory of segments while a writer records into it, like
/// `tail -f`: each `poll` writes the events of the blocks appended since the
/// last one (`sockstat-convert decode --follow`).
///
/// - Reading goes through the caller's `SegmentCollector`, so decoding,
///   damage notes, duplicates and the output format are those of `decode`.
/// - The newest segment is the open one: its end is not taken as the
///   segment's. A block still being written reads as a torn tail, and damage
///   running to the end of the file may hold one too: neither is reported,
///   and the next poll looks again once the file changed. Each segment keeps
///   where its last complete block ended (`SegmentReader.Resumption`): a poll
///   reads only the bytes after it, and only when the file's size or time
///   changed.
/// - A segment with a higher sequence number means the writer rotated: the
///   one followed until then is read to its end as a closed segment (its
///   damage and torn tail reported as `decode` does), then the new one is
///   followed.
/// - Retention may delete segments: the one being followed stays open (its
///   descriptor is held), and one that vanished before it was reached is
///   skipped, not an error.
/// - Never locks or deletes anything.
///
/// A class: it holds the open descriptor of the segment it follows.
public final class SegmentFollower<Writer: DecodedBlockWriter> {
    /// Where following starts.
    public enum Start: Hashable, Sendable {
        /// The newest complete block already written (the last block of the
        /// newest segment that has one), then every block written after it:
        /// a screenful of recent events, as `tail -f` prints the last lines.
        case newestBlock
        /// Every segment already in the directory, oldest first, then every
        /// block written after them.
        case oldestSegment
    }

    /// The directory followed.
    public let directory: String
    /// The collector reading through the output format; its `lostEvents`
    /// says whether damage was skipped.
    public private(set) var collector: SegmentCollector<Writer>

    private var start: Start?
    private var current: FollowedSegment?
    /// The sequence number of the newest segment reached (read, skipped at
    /// the start, or found gone): only later ones are new.
    private var reached: UInt64?
    /// The segment names of the last listing: a new name is what a rotation looks like.
    private var names: Set<String> = []
    /// Files not followed because nothing gives their sequence number, each noted once.
    private var unordered: Set<String> = []
    /// Whether the directory could not be listed at the last poll (said once,
    /// and again once it can be).
    private var unlisted = false

    /// Creates a follower of `directory` reading through `collector`;
    /// nothing is read until the first `poll`.
    public init(directory: String, collector: SegmentCollector<Writer>, start: Start) {
        self.directory = directory
        self.collector = collector
        self.start = start
    }

    deinit {
        current?.close()
    }

    /// Writes the events of the blocks written since the last poll (at the
    /// first, those `Start` names) to `output`.
    ///
    /// - Returns: false when it stopped at damage (`stopsAtFirstLoss`):
    ///   nothing more will be read.
    /// - Throws: `StoreError` when, at the first poll, the directory cannot
    ///   be listed; what `output`'s sink throws.
    public func poll(to output: OutputBuffer, notes: (CollectionNote) -> Void) throws -> Bool {
        if let start {
            self.start = nil
            names = try segmentNames()
            let files = try SegmentDirectory.segments(in: directory)
            let ordered = ordered(files, notes: notes)
            switch start {
            case .oldestSegment:
                return try moveOn(through: ordered[...], output: output, notes: notes)
            case .newestBlock:
                return try startAtNewestBlock(of: ordered, output: output, notes: notes)
            }
        }
        let newer = listNewer(notes: notes)
        if newer.isEmpty { return try readCurrent(growing: true, output: output, notes: notes) }
        return try moveOn(through: newer[...], output: output, notes: notes)
    }

    /// Writes what the output format holds back until the end of the run.
    public func finish(to output: OutputBuffer) throws {
        try collector.finish(to: output)
    }

    // MARK: Segments

    /// The files that can be followed, in order: those with a sequence
    /// number (from the header or the name); the others are noted once.
    private func ordered(_ files: [SegmentFile], notes: (CollectionNote) -> Void) -> [SegmentFile] {
        var followed: [SegmentFile] = []
        for file in files {
            if file.sequence != nil {
                followed.append(file)
            } else if unordered.insert(file.path).inserted {
                _ = collector.note(CollectionNote(.refused, path: file.path,
                                                  "not followed: neither its header nor its name gives a sequence number"), notes)
            }
        }
        return followed
    }

    /// The segments that appeared after the one followed, in order; none
    /// when the directory's names did not change (or it cannot be listed
    /// now: a writer makes it again).
    private func listNewer(notes: (CollectionNote) -> Void) -> [SegmentFile] {
        let now: Set<String>
        do {
            now = try segmentNames()
        } catch {
            // Removed, or made unreadable: a person watching should know why
            // nothing comes, and that following goes on.
            if !unlisted {
                unlisted = true
                notes(CollectionNote(.noSegments, path: directory, "cannot be listed now (\(error.reason)); still following, waiting for it"))
            }
            return []
        }
        if unlisted {
            unlisted = false
            notes(CollectionNote(.noSegments, path: directory, "can be listed again; following it"))
        }
        guard now != names else { return [] }
        names = now
        guard let files = try? SegmentDirectory.segments(in: directory) else { return [] }
        let followed = ordered(files, notes: notes)
        guard let reached else { return followed }
        return followed.filter { ($0.sequence ?? 0) > reached }
    }

    /// The names in the directory a listing of segments looks at.
    private func segmentNames() throws(StoreError) -> Set<String> {
        Set(try FileIO.listDirectory(directory).filter { $0.hasSuffix(SegmentName.suffix) && !$0.hasPrefix(".") })
    }

    /// Starts at the last complete block of the newest segment that has
    /// one; the segments after it (just rotated, no block yet) are read
    /// from their start. With no block anywhere, everything is read.
    private func startAtNewestBlock(of files: [SegmentFile], output: OutputBuffer,
                                    notes: (CollectionNote) -> Void) throws -> Bool {
        for index in files.indices.reversed() {
            guard var segment = open(files[index], notes: notes) else { continue }
            segment.readAppended()
            guard let before = Self.resumptionBeforeLastBlock(of: segment.bytes) else {
                segment.close()
                continue
            }
            segment.resumption = before
            current = segment
            reached = files[index].sequence
            let later = files[(index + 1)...]
            return try later.isEmpty ? readCurrent(growing: true, output: output, notes: notes)
                : moveOn(through: later, output: output, notes: notes)
        }
        return try moveOn(through: files[...], output: output, notes: notes)
    }

    /// Where a read of `bytes` stands just before its last intact block;
    /// nil when it has none.
    private static func resumptionBeforeLastBlock(of bytes: [UInt8]) -> SegmentReader.Resumption? {
        guard var reader = try? SegmentReader(bytes: bytes) else { return nil }
        var block = DecodedBlock()
        var decoder = BlockDecoder()
        var beforeLast: SegmentReader.Resumption?
        while true {
            let before = reader.resumption
            switch reader.next(into: &block, using: &decoder) {
            case .block: beforeLast = before
            case .damage: continue
            case .end: return beforeLast
            }
        }
    }

    /// Reads the segment followed so far to its end, as closed, then each
    /// of `newer` in turn: all but the last as closed, the last as the one
    /// now being written.
    private func moveOn(through newer: ArraySlice<SegmentFile>, output: OutputBuffer,
                        notes: (CollectionNote) -> Void) throws -> Bool {
        for index in newer.indices {
            if current != nil {
                guard try readCurrent(growing: false, output: output, notes: notes) else { return false }
                current?.close()
                current = nil
            }
            reached = newer[index].sequence
            // Gone already (retention: not an error), or unreadable (noted).
            guard let segment = open(newer[index], notes: notes) else {
                if collector.stopsAtFirstLoss, collector.lostEvents { return false }
                continue
            }
            current = segment
            guard try readCurrent(growing: index == newer.endIndex - 1, output: output, notes: notes) else { return false }
        }
        return true
    }

    /// Opens `file`; nil when it is gone, or cannot be opened (noted).
    private func open(_ file: SegmentFile, notes: (CollectionNote) -> Void) -> FollowedSegment? {
        do {
            let descriptor = try FileDescriptor.open(FilePath(file.path), .readOnly)
            return FollowedSegment(path: file.path, descriptor: descriptor)
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            _ = collector.note(CollectionNote(.unreadable, path: file.path, "cannot open: \(error)"), notes)
            return nil
        }
    }

    /// Reads what was appended to the segment followed since the last read
    /// (while `growing`, only when the file changed).
    ///
    /// - Returns: false when reading stopped at damage (`stopsAtFirstLoss`).
    private func readCurrent(growing: Bool, output: OutputBuffer, notes: (CollectionNote) -> Void) throws -> Bool {
        // Taken out while it is read, so that its bytes are not copied on change.
        guard var segment = current.take() else { return true }
        defer { current = segment }
        guard !segment.finished else { return true }
        let changed = segment.readAppended()
        guard changed || !growing || !segment.decoded else { return true }
        if let failure = segment.readFailure {
            segment.finished = true
            return collector.note(CollectionNote(.unreadable, path: segment.path, failure.reason), notes)
        }
        guard let outcome = try collector.read(segment.bytes, path: segment.path, resuming: segment.resumption,
                                               growing: growing, to: output, notes: notes) else {
            // Refused or a duplicate (noted): nothing more is read from it.
            segment.finished = true
            return !(collector.stopsAtFirstLoss && collector.lostEvents)
        }
        segment.resumption = outcome.resumption
        segment.decoded = true
        if !growing { segment.finished = true }
        return !outcome.stopped
    }
}

// Not Sendable: it holds an open descriptor and its collector is not Sendable.
@available(*, unavailable)
extension SegmentFollower: Sendable {}

/// The segment a follower reads: its descriptor (held, so that retention
/// deleting it does not cut the read short), its bytes up to the end of the
/// last complete block plus what followed at the last read, and where that
/// read stood.
struct FollowedSegment {
    var path: String
    let descriptor: FileDescriptor
    var bytes: [UInt8] = []
    var resumption: SegmentReader.Resumption?
    /// The file's size and modification time at the last read.
    private var seen: (size: Int, seconds: Int, nanoseconds: Int) = (-1, 0, 0)
    /// Why the last read failed, if it did.
    private(set) var readFailure: StoreError?
    /// Read to its end as closed, refused, or unreadable: nothing more is read.
    var finished = false
    /// Whether its bytes have been decoded at all yet.
    var decoded = false

    init(path: String, descriptor: FileDescriptor) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Rereads the file from the end of its last complete block (bytes
    /// after it may have been a block being written, or a write the writer
    /// cut back) if its size or time changed since the last read.
    ///
    /// - Returns: whether it changed.
    @discardableResult
    mutating func readAppended() -> Bool {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            readFailure = StoreError(.read, path: path, "cannot read", Errno(rawValue: errno))
            return true
        }
        #if canImport(Darwin)
        let now = (Int(info.st_size), Int(info.st_mtimespec.tv_sec), Int(info.st_mtimespec.tv_nsec))
        #else
        let now = (Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        #endif
        guard now != seen else { return false }
        seen = now
        let kept = min(resumption?.offset ?? 0, bytes.count)
        bytes.removeSubrange(kept...)
        // One byte past the largest segment, so that the reader refuses it (noted).
        let end = min(now.0, FormatLimits.maxSegmentBytes + 1)
        do {
            try FileIO.append(descriptor, from: kept, upTo: end, to: &bytes, path: path)
        } catch {
            readFailure = error
        }
        return true
    }

    func close() {
        try? descriptor.close()
    }
}
