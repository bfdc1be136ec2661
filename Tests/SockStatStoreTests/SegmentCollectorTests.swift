import Foundation
@testable import SockStatFormat
@testable import SockStatStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A directory of `count` closed segments of one event each, events 1…count.
func closedSegments(_ count: Int, in path: String) throws -> [Event] {
    var events: [Event] = []
    for index in 1...count {
        let writer = try SegmentLogWriter(directory: path)
        let item = event(Int64(index) * 1_000, ["a": (UInt64(index), 0)])
        try writer.append(item)
        try writer.close()
        events.append(item)
    }
    return events
}

struct SegmentCollectorTests {
    struct DeliveryFailure: Error {}

    /// Records which tier each segment's blocks came from.
    struct TierRecorder: DecodedBlockWriter {
        var segments: [(window: Int64, blocks: Int)] = []
        mutating func beginSegment(window: Int64) { segments.append((window, 0)) }
        mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
            segments[segments.count - 1].blocks += 1
            return block.eventCount
        }
    }

    /// A segment of one block of `events`, a rollup tier's when `rollup` is given.
    static func segment(_ sequence: UInt64, rollup: RollupTier? = nil, _ events: [Event]) throws -> [UInt8] {
        var bytes = rollup.map { SegmentHeader(sequence: sequence, creationTime: events[0].time, rollup: $0).encoded() }
            ?? SegmentHeader(sequence: sequence, creationTime: events[0].time).encoded()
        var encoder = BlockEncoder(segmentSequence: sequence)
        for item in events { try encoder.append(item) }
        encoder.finishBlock(using: Deflater(), appendingTo: &bytes)
        return bytes
    }

    /// The writer is told each segment's tier before its blocks: its
    /// header's window, the name's when the header is damaged, 0 for
    /// recorded events; a held segment is not read at all.
    @Test func theWriterLearnsEachSegmentsTierFromItsHeaderOrName() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let hour: Int64 = 3_600_000, start: Int64 = 1_764_288_000_000
        let hours = try Self.segment(1, rollup: RollupTier(window: hour, sourceWindow: 60_000, sources: 1...1),
                                     [event(start, duration: hour), event(start + hour, duration: hour)])
        var minutes = try Self.segment(2, rollup: RollupTier(window: 60_000, sourceWindow: 0, sources: 1...3),
                                       [event(start + 2 * hour, duration: 60_000)])
        minutes[30] ^= 1  // header damaged: the tier comes from the name
        let heldMinutes = try Self.segment(1, rollup: RollupTier(window: 60_000, sourceWindow: 0, sources: 4...4),
                                           [event(start + hour, duration: 60_000)])
        let recorded = try Self.segment(5, [event(start + 2 * hour + 60_000)])
        for (name, bytes) in [(SegmentName.fileName(sequence: 1, window: hour), hours), (SegmentName.fileName(sequence: 2, window: 60_000), minutes),
                              (SegmentName.fileName(sequence: 1, window: 60_000), heldMinutes), (SegmentName.fileName(sequence: 5), recorded)] {
            try Data(bytes).write(to: URL(fileURLWithPath: SegmentDirectory.path(of: name, in: scratch.path)))
        }
        var collector = SegmentCollector(writer: TierRecorder())
        var notes: [CollectionNote] = []
        let inputs = try SegmentCollector<TierRecorder>.inputs(for: [scratch.path], notes: { notes.append($0) })
        _ = try collector.read(inputs, to: OutputBuffer { _ in }, notes: { notes.append($0) })
        #expect(collector.decoder.writer.segments.map(\.window) == [hour, 60_000, 0])
        #expect(collector.decoder.writer.segments.map(\.blocks) == [1, 1, 1])
        #expect(notes.filter { $0.kind == .held }.map(\.message) == ["1m segment 1 is already rolled up into \(scratch.path)/\(SegmentName.fileName(sequence: 1, window: hour)); skipped"])
        #expect(notes.contains { $0.kind == .damage })
    }

    /// A delivery that throws stops the collection with that segment kept,
    /// and its lock released (it was registered after the throwing call,
    /// so the segment stayed locked for the life of the process): the next
    /// collection in the same process takes it.
    @Test func aFailedDeliveryReleasesTheSegmentAndLosesNothing() throws {
        let scratch = try ScratchDirectory()
        let events = try closedSegments(3, in: scratch.path)
        var collector = SegmentCollector()
        var lines: [UInt8] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        var deliveries = 0
        #expect(throws: DeliveryFailure.self) {
            _ = try collector.collect(from: scratch.path, to: output, deliver: { _ in
                deliveries += 1
                if deliveries == 2 { throw DeliveryFailure() }
                try output.flush()
            }, notes: { Issue.record("note: \($0)") })
        }
        let left = try SegmentDirectory.segments(in: scratch.path)
        #expect(left.count == 2, "the first was delivered and deleted, the second and third kept")
        for file in left {
            let claimed = try #require(SegmentDirectory.claim(file.path), "\(file.path) is still locked")
            claimed.release()
        }
        lines.removeAll()
        output.discard()
        var again = SegmentCollector()
        let delivered = try again.collect(from: scratch.path, to: output, deliver: { _ in try output.flush() }, notes: { _ in })
        #expect(delivered.count == 2)
        #expect(lines == events[1...].flatMap { CanonicalJSON.line(for: $0) })
        #expect(try SegmentDirectory.segments(in: scratch.path).isEmpty)
    }

    /// A delivered segment that cannot be deleted is renamed .sslog.delivered,
    /// so that no collection delivers it again; when it cannot be renamed
    /// either, the collection says so and stops, and the segment keeps its
    /// one name (no second name left behind).
    @Test func aSegmentThatCannotBeDeletedIsSetAsideOrReported() throws {
        let scratch = try ScratchDirectory()
        _ = try closedSegments(2, in: scratch.path)
        let first = SegmentName.fileName(sequence: 1)
        var collector = SegmentCollector()
        let output = OutputBuffer { _ in }
        // The first segment's name cannot be removed once; the rename's own
        // removal of it then works.
        nonisolated(unsafe) var refusals = 1
        collector.unlinkFile = { path in
            if path.hasSuffix(first), refusals > 0 { refusals -= 1; errno = EBUSY; return -1 }
            return unlink(path)
        }
        var notes: [CollectionNote] = []
        _ = try collector.collect(from: scratch.path, to: output, deliver: { _ in }, notes: { notes.append($0) })
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [first + ".delivered"])
        #expect(notes.map(\.kind) == [.setAside])

        // Now nothing can remove the first segment's name.
        let again = try ScratchDirectory()
        _ = try closedSegments(2, in: again.path)
        var stuck = SegmentCollector()
        stuck.unlinkFile = { path in
            if path.hasSuffix(first) { errno = EBUSY; return -1 }
            return unlink(path)
        }
        let error = #expect(throws: StoreError.self) {
            _ = try stuck.collect(from: again.path, to: output, deliver: { _ in }, notes: { _ in })
        }
        #expect(error?.reason.contains("cannot set aside") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: again.path).sorted()
                == [first, SegmentName.fileName(sequence: 2)], "one name each, nothing delivered after the failure")
    }

    /// Collecting takes only this user's files named like segments; others
    /// are neither decoded nor deleted, and each is noted.
    @Test func collectingLeavesOtherFilesAlone() throws {
        let scratch = try ScratchDirectory()
        let events = try closedSegments(1, in: scratch.path)
        let segment = try #require(try SegmentDirectory.segments(in: scratch.path).first).path
        try FileManager.default.copyItem(atPath: segment, toPath: scratch.path + "/backup.sslog")
        try FileManager.default.copyItem(atPath: segment, toPath: scratch.path + "/sockstat-1.sslog")
        var lines: [UInt8] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        var collector = SegmentCollector()
        var notes: [CollectionNote] = []
        _ = try collector.collect(from: scratch.path, to: output, deliver: { _ in try output.flush() }, notes: { notes.append($0) })
        #expect(lines == CanonicalJSON.line(for: events[0]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["backup.sslog", "sockstat-1.sslog"])
        #expect(notes.filter { $0.kind == .leftAlone }.count == 2)
    }

    @Test(arguments: [
        ("sockstat-00000000000000000007.sslog.damaged", 7 as UInt64?),
        ("sockstat-00000000000000000007.sslog.delivered.12", 7),
        ("sockstat-00000000000000000007.sslog.duplicate", 7),
        ("sockstat-00000000000000000007.sslog", nil),
        ("sockstat-00000000000000000007.sslog.damaged.", nil),
        ("sockstat-00000000000000000007.sslog.damaged.x", nil),
        ("sockstat-00000000000000000007.sslog.other", nil),
        ("sockstat-7.sslog.damaged", nil),
        ("backup.sslog.damaged", nil),
    ])
    func setAsideNamesAreRecognized(_ name: String, _ sequence: UInt64?) {
        #expect(SegmentDirectory.setAsideSequence(fromFileName: name) == sequence)
    }
}
