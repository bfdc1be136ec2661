import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a log directory within its byte cap and age limit, rolling old
/// events up into coarser tiers before deleting them (`Spec/RECORDER.md` 4
/// and 4.1).
///
/// Tier 0 is the recorded events, the segments a `SegmentLogWriter` writes;
/// tiers 1 ... k are rollup tiers (`TieredRetentionOptions.rollupTiers`).
/// Before any bytes are added to the directory (a recorded block or header,
/// a rollup's new file) room is made: set-aside files go first (their intact
/// events were delivered), then, while a tier's files would pass its share,
/// its oldest closed segment is rolled up into the next tier (which makes
/// room for that the same way) and deleted; the last tier deletes its oldest.
/// So every tier stays within its share and the directory within its cap at
/// every moment, a rollup's temporary file included.
///
/// A rollup of source segment s into tier k: s is claimed (locked, as
/// collectors do), its events merged into the tier's windows
/// (`WindowingBlockWriter`: sums exact, `Spec/OUTPUT.md` 4.2), and the
/// tier's tail (its newest segment, kept locked) rewritten with them: its
/// frames but the last copied, its last block's events and the new windows
/// merged and encoded again, so that a window cut by the seam is one event;
/// written to `.NAME.tmp`, locked, synced, renamed over NAME, the directory
/// synced, and only then s is deleted. Its header then holds s
/// (`lastSource`): a reader skips s should it still be there, and a restart
/// deletes it. A new tail starts when the rewrite would pass the tier's
/// segment size or s does not follow the tail's last source.
///
/// Only this user's files named like segments, or like set-aside segments,
/// are counted and touched. Memory: one source segment, one tail, one block.
/// A class: it owns the tails' open files. Not thread-safe.
public final class TieredRetention {
    /// The directory kept.
    public let directory: String
    /// The options in force.
    public let options: TieredRetentionOptions
    /// What rollups have done.
    public private(set) var metrics = RollupMetrics()

    /// Test seam: called with a rollup's temporary file after it is written
    /// and synced, before it is renamed into place (the moment the
    /// directory holds the most).
    package var willRenameTemporaryFile: ((_ path: String) -> Void)?

    private struct File {
        var sequence: UInt64
        var path: String
        var size: Int
        var modifiedMilliseconds: Int64
    }

    /// A rollup tier's newest segment, open and locked while it is ours to rewrite.
    private struct Tail {
        var path: String
        var sequence: UInt64
        var descriptor: FileDescriptor
        var size: Int
        var rollup: RollupTier
        var creationTime: Int64
    }

    private struct Tier {
        var window: Int64
        var maxBytes: Int
        var maxSegmentBytes: Int
        /// Closed segments, oldest first.
        var closed: [File] = []
        var tail: Tail?
        var nextSequence: UInt64 = 1

        var bytes: Int { closed.reduce(0) { $0 + $1.size } + (tail?.size ?? 0) }
    }

    /// Tier 0, the recorded events, then the rollup tiers.
    private var tiers: [Tier]
    /// Set-aside files, oldest first: the first deleted.
    private var setAside: [File] = []
    /// Our segments of tiers not configured (an earlier configuration's):
    /// kept while there is room, deleted first (after set-aside files) when
    /// the directory would pass its cap.
    private var strays: [File] = []
    /// The recorded segment being written and its size, from the writer.
    private var openSegment: UInt64?
    private var openBytes = 0
    /// Sources claimed by rollups under way: still on disk, in no list.
    private var inFlightBytes = 0
    /// Segments deleted in the current `makeRoom` call.
    private var deleted = 0
    private var now: Int64 = 0
    private let deflater = Deflater()

    /// The lowest sequence number a new recorded segment may take: above
    /// every one a rollup header in the directory holds, so that a new
    /// segment is never taken for one already rolled up (even when every
    /// recorded segment is gone). Give it to the `SegmentLogWriter`.
    public private(set) var firstFreeRecordedSequence: UInt64 = 1

    /// Opens `directory` (created 0700 if missing) and recovers what a
    /// recorder killed mid-rollup left: every segment of ours held by an
    /// intact rollup header of ours is deleted (its events are in that
    /// rollup), temporary files of rollup tier names are removed, and each
    /// rollup tier's newest segment, when ours, intact, from the tier below
    /// and lockable, becomes its tail again.
    ///
    /// - Throws: `StoreError` when the directory cannot be created or listed,
    ///   or (code `.invalidOptions`) when the options' windows are not usable.
    public init(directory: String, options: TieredRetentionOptions) throws(StoreError) {
        self.directory = directory
        self.options = options
        if let problem = RollupTierShare.problem(of: options.rollupTiers.map {
            RollupTierShare(windowMilliseconds: $0.windowMilliseconds, fractionOfCap: 0.01)
        }) {
            throw StoreError(.invalidOptions, path: directory, problem)
        }
        tiers = [Tier(window: 0, maxBytes: options.recordedMaxBytes, maxSegmentBytes: .max)]
        for tier in options.rollupTiers {
            tiers.append(Tier(window: tier.windowMilliseconds, maxBytes: tier.maxBytes, maxSegmentBytes: tier.maxSegmentBytes))
        }
        try FileIO.makeDirectory(directory)
        try recover()
        relist()
    }

    deinit {
        for tier in tiers { if let tail = tier.tail { try? tail.descriptor.close() } }
    }

    // MARK: Restart

    private func recover() throws(StoreError) {
        let me = geteuid()
        let files = try SegmentDirectory.segments(in: directory)
        let ours = Set(files.filter(\.isCollectable).map(\.path))
        // Sequence numbers a rollup holds are never used again in its source tier.
        for file in files {
            guard let rollup = file.rollup else { continue }
            let next = rollup.sources.upperBound &+ 1
            if rollup.sourceWindow == 0 { firstFreeRecordedSequence = max(firstFreeRecordedSequence, next) }
            if let index = tiers.firstIndex(where: { $0.window == rollup.sourceWindow }) {
                tiers[index].nextSequence = max(tiers[index].nextSequence, next)
            }
        }
        for file in files where file.isCollectable {
            if let holder = file.heldBy, ours.contains(holder) { _ = unlink(file.path) }
        }
        for name in try FileIO.listDirectory(directory) where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            guard let parsed = SegmentName.parse(String(name.dropFirst().dropLast(4))), parsed.window != 0 else { continue }
            let path = SegmentDirectory.path(of: name, in: directory)
            var info = stat()
            if lstat(path, &info) == 0, info.st_uid == me { _ = unlink(path) }
        }
        for index in tiers.indices.dropFirst() {
            let window = tiers[index].window
            let named = files.filter { SegmentName.parse(Self.name(of: $0.path))?.window == window && ours.contains($0.path) }
            guard let newest = named.max(by: { ($0.sequence ?? 0) < ($1.sequence ?? 0) }) else { continue }
            // A tail larger than this tier's segments now (a smaller cap
            // than last time) stays closed, so that retention can take it.
            guard (FileIO.fileSize(newest.path) ?? .max) <= tiers[index].maxSegmentBytes,
                  let rollup = newest.rollup, rollup.window == window, rollup.sourceWindow == tiers[index - 1].window,
                  let sequence = newest.sequence, SegmentName.parse(Self.name(of: newest.path))?.sequence == sequence,
                  let descriptor = try? FileDescriptor.open(FilePath(newest.path), .readOnly) else { continue }
            guard flock(descriptor.rawValue, LOCK_EX | LOCK_NB) == 0,
                  let prefix = try? FileIO.readPrefix(newest.path, count: SegmentHeader.rollupEncodedSize),
                  case .valid(let header, _)? = prefix.withUnsafeBytes({ try? SegmentHeader.parse($0) }) else {
                try? descriptor.close()
                continue
            }
            tiers[index].tail = Tail(path: newest.path, sequence: sequence, descriptor: descriptor,
                                     size: FileIO.fileSize(newest.path) ?? 0, rollup: rollup, creationTime: header.creationTime)
        }
    }

    // MARK: Listing

    /// Lists this user's set-aside files and segments of every tier, but the
    /// open recorded segment and the tails (known already).
    private func relist() {
        for index in tiers.indices {
            tiers[index].closed.removeAll(keepingCapacity: true)
            tiers[index].nextSequence = max(tiers[index].nextSequence, (tiers[index].tail?.sequence ?? 0) &+ 1)
        }
        setAside.removeAll(keepingCapacity: true)
        strays.removeAll(keepingCapacity: true)
        let me = geteuid()
        for name in (try? FileIO.listDirectory(directory)) ?? [] {
            let segment = SegmentName.parse(name)
            guard let parsed = segment ?? SegmentDirectory.setAsideSegment(fromFileName: name) else { continue }
            let path = SegmentDirectory.path(of: name, in: directory)
            let tierIndex = tiers.firstIndex { $0.window == parsed.window }
            if let tierIndex, segment != nil {
                tiers[tierIndex].nextSequence = max(tiers[tierIndex].nextSequence, parsed.sequence &+ 1)
                if tierIndex == 0, let openSegment, parsed.sequence == openSegment { continue }
                if tiers[tierIndex].tail?.path == path { continue }
            }
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == me else { continue }
            #if canImport(Darwin)
            let modified = Int64(info.st_mtimespec.tv_sec) * 1000 + Int64(info.st_mtimespec.tv_nsec) / 1_000_000
            #else
            let modified = Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
            #endif
            let file = File(sequence: parsed.sequence, path: path, size: Int(info.st_size), modifiedMilliseconds: modified)
            if segment == nil {
                setAside.append(file)
            } else if let tierIndex, !isHeldByTail(tier: tierIndex, sequence: parsed.sequence) {
                tiers[tierIndex].closed.append(file)
            } else {
                // Not configured, or already rolled up into the next tier's
                // tail (its deletion failed): counted, never rolled up again.
                if let tierIndex, isHeldByTail(tier: tierIndex, sequence: parsed.sequence), unlink(path) == 0 { continue }
                strays.append(file)
            }
        }
        setAside.sort { ($0.sequence, $0.path.utf8.count, $0.path) < ($1.sequence, $1.path.utf8.count, $1.path) }
        strays.sort { ($0.sequence, $0.path) < ($1.sequence, $1.path) }
        for index in tiers.indices { tiers[index].closed.sort { $0.sequence < $1.sequence } }
    }

    /// Whether segment `sequence` of tier `index` is one the next tier's tail holds.
    private func isHeldByTail(tier index: Int, sequence: UInt64) -> Bool {
        guard index + 1 < tiers.count, let rollup = tiers[index + 1].tail?.rollup else { return false }
        return rollup.sourceWindow == tiers[index].window && rollup.sources.contains(sequence)
    }

    // MARK: Making room

    /// Makes room for `incoming` more bytes of recorded events: deletes
    /// set-aside files, rolls up or deletes the oldest closed segments,
    /// until the recorded events' files, the open segment (`openBytes`) and
    /// the new bytes fit their share and the directory its cap; and deletes
    /// closed segments last written before the age limit. Returns how many
    /// segments were deleted (rolled up first or not; set-aside files are
    /// not counted).
    ///
    /// - Parameter openSegment: the recorded segment being written, or nil
    ///   when a new one is about to be created (then the directory is listed
    ///   afresh).
    public func makeRoom(for incoming: Int, openSegment: UInt64?, openBytes: Int, now: Int64) -> Int {
        self.openSegment = openSegment
        self.openBytes = openBytes
        self.now = now
        deleted = 0
        if openSegment == nil { relist() }
        if isOver(tier: 0, extra: incoming) && listedFileIsGone() { relist() }
        deleteExpired()
        let rolledBefore = metrics.segmentsRolledUp
        _ = ensureRoom(tier: 0, extra: incoming, keepingTail: false)
        if metrics.segmentsRolledUp > rolledBefore { metrics.passes += 1 }
        return deleted
    }

    /// Closes every tail: its lock is released, so that collectors take it
    /// (a drain or export delivers everything), and the next rollup into its
    /// tier starts a new tail.
    public func closeTails() {
        for index in tiers.indices {
            guard let tail = tiers[index].tail else { continue }
            try? tail.descriptor.close()
            tiers[index].tail = nil
            tiers[index].closed.append(File(sequence: tail.sequence, path: tail.path, size: tail.size,
                                            modifiedMilliseconds: now))
        }
    }

    /// The tails' paths, finest tier first (tests; readers of a live directory).
    public var tailPaths: [String] { tiers.compactMap { $0.tail?.path } }

    private var totalBytes: Int {
        setAside.reduce(0) { $0 + $1.size } + strays.reduce(0) { $0 + $1.size } + tiers.reduce(0) { $0 + $1.bytes }
            + openBytes + inFlightBytes
    }

    private func isOver(tier index: Int, extra: Int) -> Bool {
        let tierBytes = tiers[index].bytes + (index == 0 ? openBytes : 0) + extra
        return tierBytes > tiers[index].maxBytes || totalBytes + extra > options.maxTotalBytes
    }

    /// Whether a file listed is gone (a collector took it), or renamed
    /// (set aside under a name the listing does not have).
    private func listedFileIsGone() -> Bool {
        var info = stat()
        return setAside.contains { stat($0.path, &info) != 0 }
            || tiers.contains { $0.closed.contains { stat($0.path, &info) != 0 } }
    }

    private func deleteExpired() {
        guard let limit = options.maxAgeMilliseconds else { return }
        func expired(_ file: File) -> Bool {
            let (age, overflow) = now.subtractingReportingOverflow(file.modifiedMilliseconds)
            return !overflow && age > limit
        }
        setAside.removeAll { expired($0) && delete($0, isSegment: false) }
        strays.removeAll { expired($0) && delete($0, isSegment: true) }
        for index in tiers.indices {
            tiers[index].closed.removeAll { expired($0) && delete($0, isSegment: true) }
        }
    }

    /// Deletes `file`; true when it is gone (or was already).
    private func delete(_ file: File, isSegment: Bool) -> Bool {
        if unlink(file.path) == 0 {
            if isSegment { deleted += 1 }
            return true
        }
        return errno == ENOENT
    }

    /// Frees room until tier `index`'s files plus `extra` fit its share and
    /// the directory plus `extra` its cap. With `keepingTail`, the tier's
    /// tail is not rolled away (it is being rewritten). Returns whether it fits.
    private func ensureRoom(tier index: Int, extra: Int, keepingTail: Bool) -> Bool {
        while isOver(tier: index, extra: extra) {
            if let file = setAside.first {
                if !delete(file, isSegment: false) {
                    // Cannot delete it: it no longer counts against what we can free.
                }
                setAside.removeFirst()
                continue
            }
            let tierOver = tiers[index].bytes + (index == 0 ? openBytes : 0) + extra > tiers[index].maxBytes
            if !tierOver, let file = strays.first {
                _ = delete(file, isSegment: true)
                strays.removeFirst()
                continue
            }
            if tierOver {
                if !tiers[index].closed.isEmpty {
                    retireOldest(of: index)
                    continue
                }
                if !keepingTail, index > 0, tiers[index].tail != nil {
                    closeTail(of: index)
                    continue
                }
                return false
            }
            // Under its share, but the directory over its cap (strays gone;
            // only after a restart with other shares): the coarser tier
            // furthest over its share gives. Only a coarser one: a finer
            // one would roll into this tier while it is being made room in.
            guard let other = tiers.indices.filter({ $0 > index && !tiers[$0].closed.isEmpty })
                .max(by: { tiers[$0].bytes - tiers[$0].maxBytes < tiers[$1].bytes - tiers[$1].maxBytes }) else { return false }
            retireOldest(of: other)
        }
        return true
    }

    private func closeTail(of index: Int) {
        guard let tail = tiers[index].tail else { return }
        try? tail.descriptor.close()
        tiers[index].tail = nil
        tiers[index].closed.append(File(sequence: tail.sequence, path: tail.path, size: tail.size, modifiedMilliseconds: now))
    }

    /// Rolls tier `index`'s oldest closed segment up into the next tier, or
    /// deletes it from the last.
    private func retireOldest(of index: Int) {
        let file = tiers[index].closed.removeFirst()
        guard index + 1 < tiers.count else {
            _ = delete(file, isSegment: true)
            return
        }
        inFlightBytes += file.size
        defer { inFlightBytes -= file.size }
        guard let claimed = SegmentDirectory.claim(file.path) else {
            // A collector holds it (it delivers it) or took it: either way
            // its events are not ours to roll up. Its name goes, as
            // retention always did; the next rollup starts a new tail.
            _ = delete(file, isSegment: true)
            return
        }
        defer { claimed.release() }
        if rollUp(claimed, sequence: file.sequence, from: index) { metrics.segmentsRolledUp += 1 }
        // Rolled up, or could not be (unreadable, no room for its rollup):
        // either way it goes, so that the cap holds.
        if (try? claimed.remove()) != nil { deleted += 1 }
    }

    // MARK: Rolling up

    /// The merged events of `source` (and of the tail's last block, when
    /// continuing it) encoded as blocks of the tier.
    private struct TierEncoding: DecodedBlockWriter {
        var encoder: BlockEncoder
        var frames: [UInt8] = []
        let span: Int64
        let deflater: Deflater
        var failure: EventError?
        var events = 0

        mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
            for index in 0..<block.eventCount where failure == nil { append(block.event(at: index)) }
            return block.eventCount
        }

        mutating func append(_ event: Event) {
            // A window can gather more labels than one event holds: several
            // events with the same t, d and c then carry them (no byte lost).
            guard event.counts.count <= FormatLimits.maxLabelsPerEvent else {
                var start = 0
                while start < event.counts.count {
                    let end = min(start + FormatLimits.maxLabelsPerEvent, event.counts.count)
                    append(Event(time: event.time, duration: event.duration, isCellular: event.isCellular,
                                 counts: Array(event.counts[start..<end])))
                    start = end
                }
                return
            }
            if let first = encoder.firstEventTime {
                let (elapsed, overflow) = event.time.subtractingReportingOverflow(first)
                if overflow || elapsed < 0 || elapsed >= span
                    || encoder.payloadByteCount + BlockEncoder.payloadBound(of: event) > 1 << 20 {
                    encoder.finishBlock(using: deflater, appendingTo: &frames)
                }
            }
            do { try encoder.append(event) } catch { failure = error }
            events += 1
        }

        mutating func finish(to output: OutputBuffer) throws {
            encoder.finishBlock(using: deflater, appendingTo: &frames)
        }
    }

    /// What a tail holds up to its last valid block.
    private struct TailContents {
        var keptBytes: [UInt8]   // header excluded: the frames before the last block
        var lastBlock: DecodedBlock
        var lastBlockIndex: UInt64
    }

    /// Reads the tail: its frames before the last block, and that block.
    /// Nil when it is not clean (damage, a torn tail, another name now): a
    /// new tail starts rather than carrying doubt forward.
    private func readTail(_ tail: Tail) -> TailContents? {
        var held = stat()
        var named = stat()
        guard fstat(tail.descriptor.rawValue, &held) == 0, held.st_nlink > 0, stat(tail.path, &named) == 0,
              held.st_ino == named.st_ino, held.st_dev == named.st_dev,
              lseek(tail.descriptor.rawValue, 0, SEEK_SET) == 0,
              let bytes = try? FileIO.readAll(tail.descriptor, path: tail.path, limit: FormatLimits.maxSegmentBytes),
              var reader = try? SegmentReader(bytes: bytes), reader.header?.sequence == tail.sequence else { return nil }
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        var last: (offset: Int, block: DecodedBlock)?
        let headerEnd = reader.resumption.offset
        while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block(let offset): last = (offset, block)
            case .damage: return nil
            case .end(let torn):
                guard torn == 0, let last else { return nil }
                return TailContents(keptBytes: Array(bytes[headerEnd..<last.offset]), lastBlock: last.block,
                                    lastBlockIndex: last.block.blockIndex)
            }
        }
    }

    /// Rolls `source` (segment `sequence` of tier `from`) into tier `from + 1`.
    /// Returns whether its events are now in a synced rollup segment.
    private func rollUp(_ source: ClaimedSegment, sequence: UInt64, from sourceIndex: Int) -> Bool {
        let index = sourceIndex + 1
        guard let bytes = try? source.read() else { return false }
        if let tail = tiers[index].tail, tail.rollup.sourceWindow == tiers[sourceIndex].window,
           tail.rollup.sources.upperBound &+ 1 == sequence, let contents = readTail(tail),
           let rewritten = encode(source: bytes, into: index, sequence: tail.sequence,
                                  firstBlockIndex: contents.lastBlockIndex, carrying: contents.lastBlock),
           let rollup = RollupTier(window: tiers[index].window, sourceWindow: tiers[sourceIndex].window,
                                   sources: tail.rollup.sources.lowerBound...sequence) {
            var file = SegmentHeader(sequence: tail.sequence, creationTime: tail.creationTime, rollup: rollup).encoded()
            file.append(contentsOf: contents.keptBytes)
            file.append(contentsOf: rewritten.frames)
            if file.count <= tiers[index].maxSegmentBytes,
               ensureRoom(tier: index, extra: file.count, keepingTail: true),
               commit(file, tier: index, sequence: tail.sequence, rollup: rollup, creationTime: tail.creationTime) {
                return true
            }
        }
        // A new tail: the old one, if any, is closed (it may then be rolled
        // up itself to make room).
        closeTail(of: index)
        let newSequence = tiers[index].nextSequence
        guard let encoded = encode(source: bytes, into: index, sequence: newSequence, firstBlockIndex: 0, carrying: nil),
              let rollup = RollupTier(window: tiers[index].window, sourceWindow: tiers[sourceIndex].window,
                                      sources: sequence...sequence) else { return false }
        let creationTime = encoded.firstTime ?? now
        var file = SegmentHeader(sequence: newSequence, creationTime: creationTime, rollup: rollup).encoded()
        file.append(contentsOf: encoded.frames)
        guard ensureRoom(tier: index, extra: file.count, keepingTail: false) else { return false }
        return commit(file, tier: index, sequence: newSequence, rollup: rollup, creationTime: creationTime)
    }

    /// The tier's blocks for `source`'s events, after `carried`'s (the
    /// tail's last block), merged into the tier's windows. Nil when they do
    /// not fit one segment (its label ids ran out).
    private func encode(source bytes: [UInt8], into index: Int, sequence: UInt64, firstBlockIndex: UInt64,
                        carrying carried: DecodedBlock?) -> (frames: [UInt8], firstTime: Int64?)? {
        let window = tiers[index].window
        let (span, overflow) = window.multipliedReportingOverflow(by: 1440)
        var windowing = WindowingBlockWriter(
            inner: TierEncoding(encoder: BlockEncoder(segmentSequence: sequence, firstBlockIndex: firstBlockIndex),
                                span: overflow ? .max : span, deflater: deflater),
            resolution: window)
        let nowhere = OutputBuffer(capacity: 1) { _ in }
        var firstTime: Int64?
        do {
            if let carried {
                firstTime = carried.eventCount > 0 ? carried.time(at: 0) : nil
                try windowing.write(carried, to: nowhere)
            }
            if let reader = try? SegmentReader(bytes: bytes) {
                var reader = reader
                var decoder = BlockDecoder()
                var block = DecodedBlock()
                reading: while true {
                    switch reader.next(into: &block, using: &decoder) {
                    case .block:
                        if firstTime == nil, block.eventCount > 0 {
                            firstTime = WindowingBlockWriter<TierEncoding>.window(containing: block.time(at: 0), resolution: window).start
                        }
                        try windowing.write(block, to: nowhere)
                    case .damage: continue   // its intact blocks still roll up; the damage is lost as a reader loses it
                    case .end: break reading
                    }
                }
            }
            try windowing.finish(to: nowhere)
        } catch {
            return nil
        }
        guard windowing.inner.failure == nil else { return nil }
        return (windowing.inner.frames, firstTime)
    }

    /// Writes `file` as tier `index`'s tail `sequence`: a locked temporary
    /// file, synced, renamed into place, the directory synced. Returns
    /// whether it is in place.
    private func commit(_ file: [UInt8], tier index: Int, sequence: UInt64, rollup: RollupTier, creationTime: Int64) -> Bool {
        let name = SegmentName.fileName(sequence: sequence, window: tiers[index].window)
        let path = SegmentDirectory.path(of: name, in: directory)
        let temporary = SegmentDirectory.path(of: "." + name + ".tmp", in: directory)
        _ = unlink(temporary)
        guard let fd = try? FileDescriptor.open(FilePath(temporary), .readWrite,
                                                options: [.create, .exclusiveCreate, .truncate],
                                                permissions: [.ownerReadWrite]) else { return false }
        // Locked before it gets its name: a collector never takes a tail.
        inFlightBytes += file.count
        defer { inFlightBytes -= file.count }
        guard flock(fd.rawValue, LOCK_EX | LOCK_NB) == 0,
              (try? FileIO.writeAll(fd, file, path: temporary)) != nil,
              durableSync(fd.rawValue) == 0 || errno == EINVAL else {
            try? fd.close()
            _ = unlink(temporary)
            return false
        }
        metrics.bytesWritten += file.count
        willRenameTemporaryFile?(temporary)
        let replacing = tiers[index].tail?.sequence == sequence
        if !replacing {
            // A new tail never replaces a file that appeared meanwhile.
            var existing = stat()
            if lstat(path, &existing) == 0 {
                tiers[index].nextSequence = sequence &+ 1
                try? fd.close()
                _ = unlink(temporary)
                return false
            }
        }
        guard rename(temporary, path) == 0 else {
            try? fd.close()
            _ = unlink(temporary)
            return false
        }
        FileIO.syncDirectory(directory)
        if let old = tiers[index].tail { try? old.descriptor.close() }
        tiers[index].tail = Tail(path: path, sequence: sequence, descriptor: fd, size: file.count, rollup: rollup,
                                 creationTime: creationTime)
        tiers[index].nextSequence = max(tiers[index].nextSequence, sequence &+ 1)
        return true
    }

    private static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

// Not Sendable: it owns the tails' open files; one recorder or converter uses it.
@available(*, unavailable)
extension TieredRetention: Sendable {}
