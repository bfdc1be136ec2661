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

    /// The defaults: what the recorder uses.
    public init() {}
}

/// Counters of what a writer has done.
public struct SegmentLogMetrics: Hashable, Sendable {
    /// Events accepted.
    public var events = 0
    /// Blocks written.
    public var blocks = 0
    /// Segments created.
    public var segments = 0
    /// Bytes written to segment files, headers and frames included.
    public var bytes = 0
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
    public private(set) var metrics = SegmentLogMetrics()

    private let deflater = Deflater()
    private var nextSequence: UInt64
    private var encoder: BlockEncoder?
    private var file: FileDescriptor?
    private var filePath = ""
    private var segmentBytes = 0
    private var largestBlock = 0
    private var frame: [UInt8] = []
    private let creationTime: (() -> Int64)?

    /// Opens `directory` (created 0700 if missing) for writing. Numbering
    /// continues after the highest segment already there.
    ///
    /// - Parameter creationTime: the clock stamped in new segment headers; nil
    ///   stamps the `t` of the segment's first event (deterministic output).
    public init(directory: String, options: SegmentLogOptions = SegmentLogOptions(),
                creationTime: (() -> Int64)? = nil) throws(StoreError) {
        self.directory = directory
        self.options = options
        self.creationTime = creationTime
        try FileIO.makeDirectory(directory)
        let existing = try FileIO.listDirectory(directory).compactMap(SegmentName.sequence(fromFileName:))
        self.nextSequence = (existing.max() ?? 0) &+ 1
    }

    deinit {
        if let file { try? file.close() }
    }

    /// Adds `event`, writing the current block first if `event` falls outside it.
    ///
    /// - Throws: `EventError` for an event the format cannot hold (nothing is
    ///   written for it), `StoreError` when writing fails.
    public func append(_ event: Event) throws {
        if let encoder, let first = encoder.firstEventTime {
            let (elapsed, overflow) = event.time.subtractingReportingOverflow(first)
            let outside = overflow || elapsed < 0 || elapsed >= options.flushIntervalMilliseconds
            let limit = min(options.maxBlockPayloadBytes, FormatLimits.maxBlockBytes)
            if outside || encoder.payloadByteCount + BlockEncoder.payloadBound(of: event) > limit {
                try flush()
            }
        }
        if encoder?.firstEventTime == nil {
            try prepareSegment(for: event)
        }
        if let error = appendToEncoder(event) {
            // The dictionary filled mid-block: close this block and segment, retry once.
            guard error.needsNewSegment, (encoder?.eventCount ?? 0) > 0 else { throw error }
            try flush()
            try closeSegment()
            try prepareSegment(for: event)
            if let error = appendToEncoder(event) { throw error }
        }
        metrics.events += 1
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

    /// Writes the block being built, if any.
    public func flush() throws(StoreError) {
        guard let file, var current = encoder.take() else { return }
        frame.removeAll(keepingCapacity: true)
        current.finishBlock(using: deflater, appendingTo: &frame)
        encoder = current
        guard !frame.isEmpty else { return }
        try FileIO.writeAll(file, frame, path: filePath)
        if options.syncEachBlock { _ = fsync(file.rawValue) }
        segmentBytes += frame.count
        largestBlock = max(largestBlock, frame.count)
        metrics.blocks += 1
        metrics.bytes += frame.count
    }

    /// Writes the current block and closes the segment file.
    public func close() throws(StoreError) {
        try flush()
        try closeSegment()
    }

    /// Starts a new segment if there is none, or if the next block could take
    /// the current one past `maxSegmentBytes`.
    private func prepareSegment(for event: Event) throws(StoreError) {
        if file != nil, segmentBytes + largestBlock > options.maxSegmentBytes {
            try closeSegment()
        }
        if file == nil {
            try openSegment(firstEventTime: event.time)
        }
    }

    private func openSegment(firstEventTime: Int64) throws(StoreError) {
        let sequence = nextSequence
        nextSequence &+= 1
        let header = SegmentHeader(sequence: sequence, creationTime: creationTime?() ?? firstEventTime).encoded()
        let name = SegmentName.fileName(sequence: sequence)
        let path = directory + "/" + name
        let temporary = directory + "/." + name + ".tmp"
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(temporary), .writeOnly,
                                         options: [.create, .exclusiveCreate, .truncate],
                                         permissions: [.ownerReadWrite])
        } catch {
            throw StoreError(.write, path: temporary, "cannot create segment", error as? Errno ?? .ioError)
        }
        do throws(StoreError) {
            try FileIO.writeAll(fd, header, path: temporary)
            _ = fsync(fd.rawValue)
            guard rename(temporary, path) == 0 else {
                throw StoreError(.write, path: path, "cannot rename segment into place", Errno(rawValue: errno))
            }
        } catch {
            try? fd.close()
            _ = unlink(temporary)
            throw error
        }
        FileIO.syncDirectory(directory)
        file = fd
        filePath = path
        segmentBytes = header.count
        largestBlock = 0
        encoder = BlockEncoder(segmentSequence: sequence)
        metrics.segments += 1
        metrics.bytes += header.count
    }

    private func closeSegment() throws(StoreError) {
        guard let fd = file else { return }
        file = nil
        encoder = nil
        if fsync(fd.rawValue) != 0 && errno != EINVAL {
            let failure = Errno(rawValue: errno)
            try? fd.close()
            throw StoreError(.write, path: filePath, "fsync failed", failure)
        }
        do { try fd.close() } catch {
            throw StoreError(.write, path: filePath, "close failed", error as? Errno ?? .ioError)
        }
    }
}
