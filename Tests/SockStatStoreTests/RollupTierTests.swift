import Foundation
@testable import SockStatFormat
@testable import SockStatStore
import Testing

/// Writes `events` as one segment through the store's writer, numbered as
/// `header` is, and returns its bytes with the header replaced by `header`.
func segmentBytes(_ events: [Event], header: SegmentHeader) throws -> [UInt8] {
    let scratch = try ScratchDirectory()
    try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
    // The writer numbers its segment after the highest name present.
    let before = scratch.path + "/" + SegmentName.fileName(sequence: header.sequence - 1)
    if header.sequence > 1 { _ = FileManager.default.createFile(atPath: before, contents: nil) }
    let writer = try SegmentLogWriter(directory: scratch.path)
    for item in events { try writer.append(item) }
    try writer.close()
    if header.sequence > 1 { try FileManager.default.removeItem(atPath: before) }
    let path = try #require(try SegmentDirectory.segments(in: scratch.path).first).path
    let bytes = try SegmentDirectory.read(path)
    return header.encoded() + bytes[SegmentHeader.encodedSize...]
}

/// The rollup tier header, the tier names and what a directory with tiers
/// reads as (`Spec/FORMAT.md` 4.1, 10.4, 11).
struct RollupTierTests {
    @Test func aRollupHeaderRoundTrips() throws {
        let tier = try #require(RollupTier(window: 60_000, sourceWindow: 0, sources: 3...9))
        let header = SegmentHeader(sequence: 2, creationTime: 1_764_288_339_865, rollup: tier)
        let bytes = header.encoded()
        #expect(bytes.count == 72)
        #expect(header.incompatibleFeatures == SegmentHeader.rollupFeature)
        let parsed = try bytes.withUnsafeBytes { try SegmentHeader.parse($0) }
        #expect(parsed == .valid(header, length: 72))
        let key = try #require(bytes.withUnsafeBytes { SegmentHeader.intactKey($0) })
        #expect(key.sequence == 2 && key.rollup == tier)
        // A header without a tier is the 40 bytes it always was.
        #expect(SegmentHeader(sequence: 2, creationTime: 0).encoded().count == 40)
    }

    /// Bit 0 with fields breaking the rules, or a header too short for
    /// them, is refused at offset 36, not read as something else.
    @Test(arguments: [
        (0 as UInt64, 0 as UInt64, 1 as UInt64, 1 as UInt64),  // window 0
        (60_000, 60_000, 1, 1),  // source window not shorter
        (60_000, 0, 5, 4),  // first after last
        (31_622_400_001, 0, 1, 1),  // longer than 366 days
    ])
    func invalidTierFieldsAreRefused(window: UInt64, source: UInt64, first: UInt64, last: UInt64) throws {
        var bytes = Array(SegmentHeader(sequence: 1, creationTime: 0).encoded().dropLast(4))
        bytes[10] = 72
        bytes[12] = 1
        for value in [window, source, first, last] { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        #expect(bytes.withUnsafeBytes { SegmentHeader.intactKey($0) }?.rollup == nil)
        let error = #expect(throws: SegmentError.self) { try bytes.withUnsafeBytes { try SegmentHeader.parse($0) } }
        #expect(error?.offset == 36)
        #expect(error?.description.contains("invalid rollup tier header") == true)
    }

    @Test(arguments: [
        (60_000 as Int64, "1m"), (3_600_000, "1h"), (86_400_000, "1d"), (604_800_000, "7d"),
        (90_000, "90s"), (1000, "1s"), (1500, "1500ms"), (100, "100ms"), (5_400_000, "90m"),
    ])
    func windowsHaveOneText(window: Int64, text: String) {
        #expect(SegmentName.text(ofWindow: window) == text)
        #expect(SegmentName.window(fromText: text) == window)
        let name = SegmentName.fileName(sequence: 12, window: window)
        #expect(name == "sockstat-\(text)-00000000000000000012.sslog")
        #expect(SegmentName.parse(name) == SegmentName.Parsed(window: window, sequence: 12))
        #expect(SegmentName.sequence(fromFileName: name) == nil, "not a name of recorded events")
        #expect(SegmentDirectory.setAsideSegment(fromFileName: name + ".damaged.2") == SegmentName.Parsed(window: window, sequence: 12))
    }

    @Test(arguments: [
        "sockstat-60s-00000000000000000001.sslog", "sockstat-01m-00000000000000000001.sslog",
        "sockstat-0m-00000000000000000001.sslog", "sockstat-m-00000000000000000001.sslog",
        "sockstat-1x-00000000000000000001.sslog", "sockstat-1m00000000000000000001.sslog",
        "sockstat-1m-0000000000000000001.sslog", "sockstat-367d-00000000000000000001.sslog",
        "sockstat--00000000000000000001.sslog", "sockstat-1m-99999999999999999999.sslog",
    ])
    func otherSpellingsAreNotSegmentNames(name: String) {
        #expect(SegmentName.parse(name) == nil)
    }

    /// A directory with a 1 h tier, a 1 m tier and recorded segments, cut
    /// between a rollup's rename and its source's deletion: read coarse
    /// first, the held source skipped with a note that loses nothing, and
    /// a collector leaves it for the recorder.
    @Test func aTieredDirectoryReadsCoarseFirstAndSkipsWhatARollupHolds() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let hour = 3_600_000 as Int64
        let base = 1_764_288_000_000 - 1_764_288_000_000 % hour
        let hourly = [event(base, ["a": (50, 5)], duration: hour)]
        let minutes = [event(base + hour, ["a": (7, 1)], duration: 60_000), event(base + hour + 60_000, ["b": (3, 3)], duration: 60_000)]
        let held = [event(base + hour + 1_000, ["a": (7, 1)])]
        let recorded = [event(base + hour + 120_000, ["a": (1, 1)]), event(base + hour + 120_100, ["b": (2, 2)])]
        func write(_ events: [Event], _ name: String, _ header: SegmentHeader) throws {
            let bytes = try segmentBytes(events, header: header)
            try Data(bytes).write(to: URL(fileURLWithPath: scratch.path + "/" + name))
        }
        func tier(_ window: Int64, _ source: Int64, _ sources: ClosedRange<UInt64>) throws -> RollupTier {
            try #require(RollupTier(window: window, sourceWindow: source, sources: sources))
        }
        try write(hourly, "sockstat-1h-00000000000000000001.sslog", SegmentHeader(sequence: 1, creationTime: 0, rollup: tier(hour, 60_000, 1...1)))
        // 1 m segment 1 was rolled up into the hour and deleted.
        try write(minutes, "sockstat-1m-00000000000000000002.sslog",
                  SegmentHeader(sequence: 2, creationTime: 0, rollup: tier(60_000, 0, 1...2)))
        // Recorded segment 2: rolled up into the 1 m segment, not yet deleted.
        try write(held, "sockstat-00000000000000000002.sslog", SegmentHeader(sequence: 2, creationTime: 0))
        try write(recorded, "sockstat-00000000000000000003.sslog", SegmentHeader(sequence: 3, creationTime: 0))

        let files = try SegmentDirectory.segments(in: scratch.path)
        #expect(files.map { URL(fileURLWithPath: $0.path).lastPathComponent } == [
            "sockstat-1h-00000000000000000001.sslog", "sockstat-1m-00000000000000000002.sslog",
            "sockstat-00000000000000000002.sslog", "sockstat-00000000000000000003.sslog",
        ], "coarse tiers first, whatever the names' bytewise order")
        #expect(files.map(\.window) == [hour, 60_000, 0, 0])
        #expect(files[2].heldBy == files[1].path)
        #expect(files.filter { $0.heldBy != nil }.count == 1)

        var collector = SegmentCollector()
        var lines: [UInt8] = []
        var notes: [CollectionNote] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        let inputs = try SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: [scratch.path], notes: { notes.append($0) })
        _ = try collector.read(inputs, to: output, notes: { notes.append($0) })
        try output.flush()
        #expect(lines == (hourly + minutes + recorded).flatMap { CanonicalJSON.line(for: $0) })
        #expect(notes.map(\.kind) == [.held])
        #expect(notes.first?.description == "\(files[2].path): segment 2 is already rolled up into \(files[1].path); skipped")
        #expect(!collector.lostEvents, "a held segment loses nothing")

        lines.removeAll()
        notes.removeAll()
        var taking = SegmentCollector()
        let delivered = try taking.collect(from: scratch.path, to: output, deliver: { _ in try output.flush() }, notes: { notes.append($0) })
        #expect(delivered.count == 3)
        #expect(lines == (hourly + minutes + recorded).flatMap { CanonicalJSON.line(for: $0) })
        #expect(notes.map(\.kind) == [.held])
        #expect(try SegmentDirectory.segments(in: scratch.path).map(\.path) == [files[2].path], "left for the recorder")
    }

    /// A rollup that renames its holder into place after a collector
    /// listed the directory (and whose recorder was killed before deleting
    /// the source): the collector looks again once it has claimed the
    /// source, and leaves it, so that its events are not delivered twice.
    @Test func aCollectorLooksForHoldersAgainAfterItClaimsASegment() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let first = [event(1_764_288_000_000, ["a": (1, 1)])]
        let second = [event(1_764_288_001_000, ["a": (2, 2)])]
        try Data(try segmentBytes(first, header: SegmentHeader(sequence: 4, creationTime: 0)))
            .write(to: URL(fileURLWithPath: scratch.path + "/" + SegmentName.fileName(sequence: 4)))
        try Data(try segmentBytes(second, header: SegmentHeader(sequence: 5, creationTime: 0)))
            .write(to: URL(fileURLWithPath: scratch.path + "/" + SegmentName.fileName(sequence: 5)))
        let tier = try #require(RollupTier(window: 60_000, sourceWindow: 0, sources: 5...5))
        let rollup = try segmentBytes([event(1_764_288_000_000, ["a": (2, 2)], duration: 60_000)],
                                      header: SegmentHeader(sequence: 1, creationTime: 0, rollup: tier))
        var lines: [UInt8] = []
        var notes: [CollectionNote] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        var collector = SegmentCollector()
        let delivered = try collector.collect(from: scratch.path, to: output, deliver: { _ in
            try output.flush()
            // Meanwhile a recorder rolls segment 5 up and is killed.
            let holder = scratch.path + "/" + SegmentName.fileName(sequence: 1, window: 60_000)
            if !FileManager.default.fileExists(atPath: holder) { try Data(rollup).write(to: URL(fileURLWithPath: holder)) }
        }, notes: { notes.append($0) })
        #expect(delivered.map(\.sequence) == [4])
        #expect(lines == first.flatMap { CanonicalJSON.line(for: $0) })
        #expect(notes.map(\.kind) == [.held])
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/" + SegmentName.fileName(sequence: 5)), "left for the recorder")
    }

    /// Each tier numbers its own segments: the same number in two tiers is
    /// not a duplicate, the same number in one tier is.
    @Test func duplicatesAreKeyedByTier() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let tier = try #require(RollupTier(window: 60_000, sourceWindow: 0, sources: 7...7))
        let minute = [event(1_764_288_000_000, ["a": (1, 1)], duration: 60_000)]
        let recorded = [event(1_764_288_060_000, ["a": (2, 2)])]
        let tierBytes = try segmentBytes(minute, header: SegmentHeader(sequence: 1, creationTime: 0, rollup: tier))
        try Data(tierBytes).write(to: URL(fileURLWithPath: scratch.path + "/sockstat-1m-00000000000000000001.sslog"))
        try Data(tierBytes).write(to: URL(fileURLWithPath: scratch.path + "/copy.sslog"))
        try Data(try segmentBytes(recorded, header: SegmentHeader(sequence: 1, creationTime: 0)))
            .write(to: URL(fileURLWithPath: scratch.path + "/sockstat-00000000000000000001.sslog"))
        var collector = SegmentCollector()
        var lines: [UInt8] = []
        var notes: [CollectionNote] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        let inputs = try SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: [scratch.path], notes: { notes.append($0) })
        _ = try collector.read(inputs, to: output, notes: { notes.append($0) })
        try output.flush()
        #expect(lines == (minute + recorded).flatMap { CanonicalJSON.line(for: $0) })
        #expect(notes.map(\.kind) == [.duplicate])
        #expect(notes.first?.message.hasPrefix("1m segment 1 already read from") == true)
    }
}
