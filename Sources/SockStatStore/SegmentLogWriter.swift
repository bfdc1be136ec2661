import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a `SegmentLogWriter` cuts blocks and segments.
public struct SegmentLogOptions: Hashable, Sendable {
    /// Events whose `t` lies within this many milliseconds of the block's first
    /// event share a block. Default 10 s, Tailscale's flush interval.
    public var flushIntervalMilliseconds: Int64 = 10_000
    /// A segment is closed before a block that could take it past this size
    /// (its size plus its largest block so far). Default 256 KiB.
    public var maxSegmentBytes: Int = 256 * 1024
    /// A block is cut early when its payload would pass this size. Default
    /// 1 MiB; values above `FormatLimits.maxBlockBytes` are treated as that.
    public var maxBlockPayloadBytes: Int = 1 << 20
    /// Whether each block is fsynced as it is written (recording) or only each
    /// segment as it is closed (bulk conversion).
    public var syncEachBlock: Bool = false
    /// A segment is also closed before a block whose first event is this many
    /// milliseconds after the segment's creation time. Default: no limit.
    public var maxSegmentAgeMilliseconds: Int64?
    /// Blocks that could not be written are kept, up to this many bytes, and
    /// retried at the next flush; beyond it the oldest are dropped (counted).
    public var maxBacklogBytes: Int = 1 << 20

    /// The defaults: what the recorder uses.
    public init() {}

    /// The segment size for a directory (or a tier's share of one) of
    /// `maxTotalBytes`: 256 KiB, or a quarter of a cap under 1 MiB, but not
    /// below 4 KiB, so that a small cap gets small segments rather than
    /// being refused, and retention, which deletes whole segments, still
    /// keeps about three quarters of it.
    public static func segmentBytes(forCap maxTotalBytes: Int) -> Int {
        min(256 * 1024, max(4096, maxTotalBytes / 4))
    }

    /// The largest file a segment written with these options can become:
    /// the rotation size, plus the block that passes it (a segment always
    /// takes at least one), plus the backlog written after an outage (which
    /// can pass its cap by one block), header included.
    public var largestSegmentBytes: Int {
        let (total, overflow) = maxSegmentBytes.addingReportingOverflow(overheadBytes)
        return overflow ? .max : total
    }

    /// What a segment can take beyond its rotation size: the header; the
    /// backlog it may carry past that size while writes fail now and then
    /// (then what waits is dropped) and the backlog written after it (which
    /// can pass its cap by a block); and the block that passes it. A block
    /// is at most the payload limit or, when one event alone is larger
    /// (1,024 labels of 1,024 bytes), that event.
    var overheadBytes: Int {
        let payload = max(min(max(maxBlockPayloadBytes, 1), FormatLimits.maxBlockBytes), BlockEncoder.largestEventPayloadBytes)
        let backlog = max(maxBacklogBytes, 0)
        let (total, overflow) = (2 * Self.largestFrameBytes(payload: payload) + SegmentHeader.encodedSize)
            .addingReportingOverflow(backlog.multipliedReportingOverflow(by: 2).overflow ? .max : 2 * backlog)
        return overflow ? .max : total
    }

    /// The most bytes a frame holding a payload of `payload` bytes takes
    /// (this package's DEFLATE never exceeds stored blocks, FORMAT.md 12).
    static func largestFrameBytes(payload: Int) -> Int {
        BlockFrame.headerSize + payload + 12 * (payload / 65_534 + 1) + 8
    }

    /// Why a writer cannot use these options, or nil when it can: every
    /// value in range, and no segment larger than readers accept
    /// (`FormatLimits.maxSegmentBytes`, FORMAT.md section 3).
    public var problem: String? {
        if flushIntervalMilliseconds < 1 { return "the flush interval must be at least 1 ms, not \(flushIntervalMilliseconds)" }
        if maxSegmentBytes < 1 { return "the segment size must be at least 1 byte, not \(maxSegmentBytes)" }
        if maxBlockPayloadBytes < 1 { return "the block payload limit must be at least 1 byte, not \(maxBlockPayloadBytes)" }
        if maxBacklogBytes < 0 { return "the backlog limit cannot be negative (\(maxBacklogBytes))" }
        if let age = maxSegmentAgeMilliseconds, age < 1 { return "the segment age limit must be at least 1 ms, not \(age)" }
        if largestSegmentBytes > FormatLimits.maxSegmentBytes {
            let room = FormatLimits.maxSegmentBytes - overheadBytes
            guard room >= 1 else {
                return "segments could grow past \(FormatLimits.maxSegmentBytes) bytes, the most a reader accepts, "
                    + "with a backlog limit of \(maxBacklogBytes) bytes, whatever their size"
            }
            return "segments of \(maxSegmentBytes) bytes could grow past \(FormatLimits.maxSegmentBytes) bytes, "
                + "the most a reader accepts; at most \(room) with this block and backlog size"
        }
        return nil
    }
}

/// Counters of what a writer has done.
public struct SegmentLogMetrics: Hashable, Sendable {
    /// Events taken (an event taken and lost later, with a block that could
    /// not be written, is counted in `eventsDropped` too).
    public var events = 0
    /// Blocks written.
    public var blocks = 0
    /// Segments created.
    public var segments = 0
    /// Bytes written to segment files, headers and frames included.
    public var bytes = 0
    /// Events lost because their block could not be written and the backlog
    /// was full, or their segment became unwritable.
    public var eventsDropped = 0
    /// Failed writes (each retried later while the backlog has room).
    public var writeErrors = 0
}

/// Why `SegmentLogWriter.append(_:)` did not simply take an event.
public struct AppendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What became of the event.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The format cannot hold the event (a limit passed, a label
        /// repeated): nothing was written for it, and it is not counted.
        public static let refused = Code("refused")
        /// A write failed, but the event was taken: it waits with its block
        /// in the backlog and is written when writing works again.
        public static let writeFailedEventKept = Code("write failed, event kept")
        /// A write failed and the event is lost (no segment could be
        /// opened for it); it is counted in `SegmentLogMetrics.eventsDropped`.
        public static let writeFailedEventDropped = Code("write failed, event dropped")

        public var description: String { name }
    }

    /// What became of the event.
    public var code: Code
    /// A one-line explanation.
    public var reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    init(_ code: Code, _ error: StoreError) { self.init(code, error.description) }

    public var description: String { reason }
}

/// Writes events into a directory of segments, cutting blocks by event time
/// and rotating segments by size: the on-disk layout the recorder produces.
///
/// A new segment's header is written to a temporary file and renamed into
/// place, so a segment file is never seen without its whole header. Blocks are
/// appended whole with one write each. A class: it owns open files.
public final class SegmentLogWriter {
    /// The directory written to.
    public let directory: String
    /// The options in force.
    public let options: SegmentLogOptions
    /// What has been written so far.
    // Touched at every event. The class is not Sendable and no access to it
    // spans a call out, so its run-time exclusivity check is switched off: it
    // cost 1.2% of a replay's instructions (1 h of the reference workload,
    // 135.4 M against 133.7 M, callgrind). The encoder's check, measured the
    // same way, cost nothing and is kept.
    @exclusivity(unchecked) public private(set) var metrics = SegmentLogMetrics()

    private let deflater = Deflater()
    private var nextSequence: UInt64
    private var encoder: BlockEncoder?
    private var file: FileDescriptor?
    private var filePath = ""
    private var segmentBytes = 0
    private var largestBlock = 0
    private var frame: [UInt8] = []
    private var segmentCreationTime: Int64 = 0
    private var backlog: [(frame: [UInt8], events: Int)] = []
    private var backlogBytes = 0
    private let creationTime: (() -> Int64)?

    /// Called before bytes are added to the directory (a new segment's header
    /// or a block), with their count, the open segment's sequence number (nil
    /// when a new segment is about to be created) and its size: where
    /// retention makes room, so that the total never passes its cap.
    public var willWrite: ((_ bytes: Int, _ openSegment: UInt64?, _ openBytes: Int) -> Void)?

    /// Test hook: called before each block write with its size; returning an
    /// errno makes the write fail after writing half the block (a partial
    /// write, as a full disk gives).
    package var injectWriteFailure: ((_ bytes: Int) -> Errno?)?

    /// Takes the lock of a new segment's file (test seam: a file system
    /// without locks is simulated by one that fails).
    package var lockSegment: (_ descriptor: CInt) -> CInt = { flock($0, LOCK_EX | LOCK_NB) }

    /// The sequence number of the segment being written, if one is open.
    public var openSegment: UInt64? { file == nil ? nil : (encoder?.segmentSequence) }

    /// The path of the segment being written, if one is open.
    public var openSegmentPath: String? { file == nil ? nil : filePath }

    /// The size of the segment being written, if one is open: its complete
    /// blocks end there (bytes after it are a block being written).
    public var openSegmentBytes: Int? { file == nil ? nil : segmentBytes }

    /// Drops everything not yet written (at shutdown, after a final write
    /// failed); the caller has counted it.
    public func discardPending() {
        backlog.removeAll()
        backlogBytes = 0
        if let file { try? file.close() }
        file = nil
        encoder = nil
    }

    /// Events in the block being built.
    public var bufferedEvents: Int { encoder?.eventCount ?? 0 }

    /// Events buffered in the block being built or waiting in the backlog.
    public var pendingEvents: Int { (encoder?.eventCount ?? 0) + backlog.reduce(0) { $0 + $1.events } }

    /// Opens `directory` (created 0700 if missing) for writing. Numbering
    /// continues after the highest segment already there, and at
    /// `firstSequence` or above.
    ///
    /// - Parameters:
    ///   - creationTime: the clock stamped in new segment headers; nil
    ///     stamps the `t` of the segment's first event (deterministic output).
    ///   - firstSequence: the lowest sequence number to use: above those a
    ///     rollup already holds (`TieredRetention.firstFreeRecordedSequence`),
    ///     whose segments may all be gone.
    public init(directory: String, options: SegmentLogOptions = SegmentLogOptions(),
                creationTime: (() -> Int64)? = nil, firstSequence: UInt64 = 1) throws(StoreError) {
        if let problem = options.problem { throw StoreError(.invalidOptions, path: directory, problem) }
        self.directory = directory
        self.options = options
        self.creationTime = creationTime
        try FileIO.makeDirectory(directory)
        let names = try FileIO.listDirectory(directory)
        // A writer killed while creating a segment leaves its temporary file:
        // ours to remove (another user's is left alone).
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp")
            && SegmentName.sequence(fromFileName: String(name.dropFirst().dropLast(4))) != nil
            && Self.isOwnedByUs(SegmentDirectory.path(of: name, in: directory)) {
            _ = unlink(SegmentDirectory.path(of: name, in: directory))
        }
        self.nextSequence = max((names.compactMap(SegmentName.sequence(fromFileName:)).max() ?? 0) &+ 1, firstSequence)
    }

    deinit {
        if let file { try? file.close() }
    }

    /// Adds `event`, writing the current block first if `event` falls outside it.
    ///
    /// - Throws: `AppendError`: `.refused` for an event the format cannot
    ///   hold (nothing is written for it); `.writeFailedEventKept` when a
    ///   write failed but the event was taken (its block waits in the
    ///   backlog); `.writeFailedEventDropped` when no segment could be opened
    ///   for it (counted in `eventsDropped`). Every event given is therefore
    ///   refused, counted in `events`, or counted in `eventsDropped`.
    public func append(_ event: Event) throws(AppendError) {
        var writeFailure: StoreError?
        // Read through the optional, not bound to a copy: a copy of the
        // encoder retains each of its buffers.
        if let first = encoder?.firstEventTime, let payloadBytes = encoder?.payloadByteCount {
            let (elapsed, overflow) = event.time.subtractingReportingOverflow(first)
            let outside = overflow || elapsed < 0 || elapsed >= options.flushIntervalMilliseconds
            let limit = min(options.maxBlockPayloadBytes, FormatLimits.maxBlockBytes)
            if outside || payloadBytes + BlockEncoder.payloadBound(of: event) > limit {
                do { try flush() } catch { writeFailure = error }
            }
        }
        if encoder?.firstEventTime == nil {
            do {
                if let failure = try prepareSegment(for: event) { writeFailure = failure }
            } catch {
                metrics.eventsDropped += 1
                throw AppendError(.writeFailedEventDropped, error)
            }
        }
        if let error = appendToEncoder(event) {
            // The dictionary filled mid-segment: the event goes to a new
            // segment, whatever writing the old one's last block does (the
            // writer counts what it loses there). A fresh segment that
            // cannot take the event means the event is at fault.
            guard error.needsNewSegment, (encoder?.labelCount ?? 0) > 0 else {
                throw AppendError(.refused, error.reason)
            }
            do { try flush() } catch { writeFailure = error }
            do { try closeSegment() } catch { writeFailure = error }
            do {
                if let failure = try prepareSegment(for: event) { writeFailure = failure }
            } catch {
                metrics.eventsDropped += 1
                throw AppendError(.writeFailedEventDropped, error)
            }
            if let error = appendToEncoder(event) { throw AppendError(.refused, error.reason) }
        }
        metrics.events += 1
        if let writeFailure { throw AppendError(.writeFailedEventKept, writeFailure) }
    }

    /// Appends to the current encoder; returns the error instead of throwing
    /// (a `catch` here crashes the 6.3 compiler's ownership verifier).
    private func appendToEncoder(_ event: Event) -> EventError? {
        // Taken out and put back so that the encoder's buffers are never copied.
        guard var current = encoder.take() else { return nil }
        defer { encoder = current }
        do {
            try current.append(event)
            return nil
        } catch {
            return error
        }
    }

    /// Writes the block being built, if any, after any blocks waiting from
    /// earlier failed writes.
    ///
    /// - Throws: `StoreError` when a write fails. The block is then kept in the
    ///   backlog (bounded by `maxBacklogBytes`) and retried at the next flush;
    ///   the segment file is cut back to its last complete block, so closed
    ///   and earlier data are never damaged.
    public func flush() throws(StoreError) {
        if var current = encoder.take() {
            let events = current.eventCount
            if events > 0 {
                frame.removeAll(keepingCapacity: true)
                current.finishBlock(using: deflater, appendingTo: &frame)
                backlog.append((frame, events))
                backlogBytes += frame.count
                // Keep the backlog bounded: drop the oldest blocks, counted.
                while backlogBytes > options.maxBacklogBytes, backlog.count > 1 {
                    let dropped = backlog.removeFirst()
                    backlogBytes -= dropped.frame.count
                    metrics.eventsDropped += dropped.events
                }
            }
            encoder = current
        }
        try writeBacklog()
    }

    private func writeBacklog() throws(StoreError) {
        guard let file else { return }
        while let pending = backlog.first?.frame {
            // Writes to a file whose name is gone (its directory was removed)
            // would succeed and be lost: start a new segment instead.
            guard isStillLinked(file) else {
                abandonSegment()
                throw StoreError(.write, path: filePath, "segment removed while being written; its waiting blocks are dropped")
            }
            willWrite?(pending.count, openSegment, segmentBytes)
            do throws(StoreError) {
                if let injected = injectWriteFailure?(pending.count) {
                    try FileIO.writeAll(file, Array(pending.prefix(pending.count / 2)), path: filePath)
                    throw StoreError(.write, path: filePath, "write failed", injected)
                }
                try FileIO.writeAll(file, pending, path: filePath)
            } catch {
                metrics.writeErrors += 1
                // Cut a partial write back off, so the next block follows a complete one.
                let cutBack = ftruncate(file.rawValue, off_t(segmentBytes)) == 0
                    && lseek(file.rawValue, off_t(segmentBytes), SEEK_SET) == off_t(segmentBytes)
                if !cutBack || !isStillLinked(file) {
                    abandonSegment()
                }
                throw error
            }
            if options.syncEachBlock, durableSync(file.rawValue) != 0, errno != EINVAL {
                // Not durable: treat it as a failed write and keep the block.
                let failure = Errno(rawValue: errno)
                metrics.writeErrors += 1
                if ftruncate(file.rawValue, off_t(segmentBytes)) != 0
                    || lseek(file.rawValue, off_t(segmentBytes), SEEK_SET) != off_t(segmentBytes) {
                    abandonSegment()
                }
                throw StoreError(.write, path: filePath, "fsync failed", failure)
            }
            backlog.removeFirst()
            backlogBytes -= pending.count
            segmentBytes += pending.count
            largestBlock = max(largestBlock, pending.count)
            metrics.blocks += 1
            metrics.bytes += pending.count
        }
    }

    /// Whether the open file still has a name (its directory was not removed).
    private func isStillLinked(_ file: FileDescriptor) -> Bool {
        var info = stat()
        return fstat(file.rawValue, &info) == 0 && info.st_nlink > 0
    }

    /// Gives up on a segment that can no longer be written: its waiting blocks
    /// are dropped (they carry its sequence number) and the next block starts
    /// a new segment.
    private func abandonSegment() {
        for pending in backlog { metrics.eventsDropped += pending.events }
        backlog.removeAll()
        backlogBytes = 0
        if let file { try? file.close() }
        file = nil
        encoder = nil
    }

    /// Writes the current block and closes the segment file.
    public func close() throws(StoreError) {
        try flush()
        try closeSegment()
    }

    /// Starts a new segment if there is none, or if the next block could take
    /// the current one past `maxSegmentBytes`.
    ///
    /// - Returns: a failure that did not stop it (the old segment's final
    ///   sync failed; the new one took the event).
    /// - Throws: `StoreError` when no segment could be opened for the event.
    private func prepareSegment(for event: Event) throws(StoreError) -> StoreError? {
        if file != nil, !backlog.isEmpty, segmentBytes >= options.maxSegmentBytes + options.maxBacklogBytes {
            // Writes keep failing now and then: blocks wait for this segment
            // at every flush while others are written, so it grows without
            // end (past what readers accept, at last). Once it is a backlog
            // past its rotation size, the waiting blocks are dropped,
            // counted, so that it can close.
            for pending in backlog { metrics.eventsDropped += pending.events }
            backlog.removeAll()
            backlogBytes = 0
        }
        var closeFailure: StoreError?
        if file != nil, backlog.isEmpty {
            let tooBig = segmentBytes + largestBlock > options.maxSegmentBytes
            var tooOld = false
            if let maxAge = options.maxSegmentAgeMilliseconds {
                let (age, overflow) = event.time.subtractingReportingOverflow(segmentCreationTime)
                tooOld = !overflow && age >= maxAge
            }
            if tooBig || tooOld || !isStillLinked(file!) {
                // A failed final sync still closes it: the next segment takes the event.
                do { try closeSegment() } catch {
                    metrics.writeErrors += 1
                    closeFailure = error
                }
            }
        }
        if file == nil {
            try openSegment(firstEventTime: event.time)
        }
        return closeFailure
    }

    private func openSegment(firstEventTime: Int64) throws(StoreError) {
        // The directory may have been removed under us: make it again.
        try FileIO.makeDirectory(directory)
        // Never take a name that exists (another writer on the same directory),
        // nor one whose temporary name another user's file holds.
        var existing = stat()
        while stat(SegmentDirectory.path(of: SegmentName.fileName(sequence: nextSequence), in: directory), &existing) == 0
            || lstat(SegmentDirectory.path(of: "." + SegmentName.fileName(sequence: nextSequence) + ".tmp", in: directory), &existing) == 0
            && existing.st_uid != geteuid() {
            nextSequence &+= 1
        }
        let sequence = nextSequence
        let created = creationTime?() ?? firstEventTime
        let header = SegmentHeader(sequence: sequence, creationTime: created).encoded()
        willWrite?(header.count, nil, 0)
        let name = SegmentName.fileName(sequence: sequence)
        let path = SegmentDirectory.path(of: name, in: directory)
        let temporary = SegmentDirectory.path(of: "." + name + ".tmp", in: directory)
        let fd: FileDescriptor
        do {
            fd = try Self.createExclusive(temporary)
        } catch Errno.fileExists {
            // Left by a writer that died creating it: ours, remove and retry once.
            _ = unlink(temporary)
            do { fd = try Self.createExclusive(temporary) } catch {
                throw StoreError(.write, path: temporary, "cannot create segment", error as? Errno ?? .ioError)
            }
        } catch {
            throw StoreError(.write, path: temporary, "cannot create segment", error as? Errno ?? .ioError)
        }
        do throws(StoreError) {
            // Locked before it gets its name, and for as long as it is open: a
            // collector that takes segments away (`decode --consume`, drains)
            // skips locked files, so it can never take the segment being
            // written. Where locking fails (a file system without locks) the
            // segment is not made: unlocked, a collector could take it.
            guard lockSegment(fd.rawValue) == 0 else {
                throw StoreError(.write, path: temporary, "cannot lock segment", Errno(rawValue: errno))
            }
            try FileIO.writeAll(fd, header, path: temporary)
            guard durableSync(fd.rawValue) == 0 || errno == EINVAL else {
                throw StoreError(.write, path: temporary, "fsync failed", Errno(rawValue: errno))
            }
            // link, unlike rename, refuses to replace a file that appeared meanwhile.
            guard link(temporary, path) == 0 else {
                let failure = Errno(rawValue: errno)
                if failure == .fileExists { nextSequence &+= 1 }
                throw StoreError(.write, path: path, "cannot put segment in place", failure)
            }
            _ = unlink(temporary)
        } catch {
            try? fd.close()
            _ = unlink(temporary)
            throw error
        }
        FileIO.syncDirectory(directory)
        nextSequence &+= 1
        segmentCreationTime = created
        file = fd
        filePath = path
        segmentBytes = header.count
        largestBlock = 0
        encoder = BlockEncoder(segmentSequence: sequence)
        metrics.segments += 1
        metrics.bytes += header.count
    }

    /// Whether the file at `path` (not following a symbolic link) belongs to this user.
    private static func isOwnedByUs(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_uid == geteuid()
    }

    private static func createExclusive(_ path: String) throws -> FileDescriptor {
        try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .truncate],
                                permissions: [.ownerReadWrite])
    }

    private func closeSegment() throws(StoreError) {
        guard let fd = file else { return }
        // Blocks still waiting belong to this segment; try them once more.
        if !backlog.isEmpty {
            do { try writeBacklog() } catch { abandonSegment(); return }
        }
        file = nil
        encoder = nil
        if durableSync(fd.rawValue) != 0 && errno != EINVAL {
            let failure = Errno(rawValue: errno)
            try? fd.close()
            throw StoreError(.write, path: filePath, "fsync failed", failure)
        }
        do { try fd.close() } catch {
            throw StoreError(.write, path: filePath, "close failed", error as? Errno ?? .ioError)
        }
    }
}

// Not Sendable: it owns open files and buffers; a Recorder serializes its use.
@available(*, unavailable)
extension SegmentLogWriter: Sendable {}
