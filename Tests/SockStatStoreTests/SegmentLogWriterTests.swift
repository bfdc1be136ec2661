import Foundation
@testable import SockStatFormat
@testable import SockStatStore
import SystemPackage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory removed at the end of each test.
final class ScratchDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-store-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Reads every event of a directory through the format module's reader.
func readDirectory(_ path: String) throws -> (events: [Event], blocksPerSegment: [Int], damage: [Damage]) {
    var events: [Event] = []
    var blocksPerSegment: [Int] = []
    var damage: [Damage] = []
    var decoder = BlockDecoder()
    var block = DecodedBlock()
    for file in try SegmentDirectory.segments(in: path) {
        var reader = try SegmentReader(bytes: try SegmentDirectory.read(file.path))
        var blocks = 0
        loop: while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block:
                blocks += 1
                events.append(contentsOf: block.events)
            case .damage(let found): damage.append(found)
            case .end: break loop
            }
        }
        blocksPerSegment.append(blocks)
    }
    return (events, blocksPerSegment, damage)
}

func event(_ time: Int64, _ labels: [String: (UInt64, UInt64)] = ["a": (1, 2)], duration: Int64 = 100) -> Event {
    Event(time: time, duration: duration,
          counts: labels.map { LabelCounts(label: Label($0.key), tx: $0.value.0, rx: $0.value.1) }.sorted { $0.label < $1.label })
}

struct SegmentLogWriterTests {
    @Test func blocksAreCutByEventTimeAtTheFlushInterval() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        // 0 … 24.9 s at 100 ms: blocks [0, 10 s), [10 s, 20 s), [20 s, 25 s).
        let events = (0..<250).map { event(1_000_000 + Int64($0) * 100) }
        for item in events { try writer.append(item) }
        try writer.close()
        let read = try readDirectory(scratch.path)
        #expect(read.events == events)
        #expect(read.blocksPerSegment == [3])
        #expect(writer.metrics.blocks == 3)
        #expect(writer.metrics.events == 250)
    }

    @Test func aBlockIsCutEarlyWhenItsPayloadWouldPassTheMaximum() throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.maxBlockPayloadBytes = 120
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        // 10 events within one flush interval, each bounded at 6*10 + 5*10 + 1 = 111 bytes.
        // After one event a block holds about 11 bytes, and 11 + 111 > 120: one event a block.
        let events = (0..<10).map { event(Int64($0), ["a": (1, 1)]) }
        for item in events { try writer.append(item) }
        try writer.close()
        let read = try readDirectory(scratch.path)
        #expect(read.events == events)
        #expect(read.blocksPerSegment.count == 1)
        #expect(read.blocksPerSegment[0] == 10)
    }

    @Test func aClockGoingBackStartsANewBlock() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        let events = [event(5_000), event(5_100), event(4_000), event(4_100)]
        for item in events { try writer.append(item) }
        try writer.close()
        let read = try readDirectory(scratch.path)
        #expect(read.events == events)
        #expect(read.blocksPerSegment == [2])
    }

    @Test func segmentsRotateBeforePassingTheMaximumAndDecodeInOrder() throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.maxSegmentBytes = 4096
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        var generator = SystemRandomNumberGenerator()
        let events = (0..<3000).map { index in
            event(Int64(index) * 100, ["8": (UInt64.random(in: 0...100_000, using: &generator), UInt64.random(in: 0...2_000_000, using: &generator))])
        }
        for item in events { try writer.append(item) }
        try writer.close()
        let files = try SegmentDirectory.segments(in: scratch.path)
        #expect(files.count > 3)
        #expect(files.map(\.sequence) == (1...UInt64(files.count)).map { $0 })
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
            #expect(size <= 4096, "\(file.path) is \(size) bytes")
        }
        #expect(try readDirectory(scratch.path).events == events)
        #expect(writer.metrics.segments == files.count)
    }

    @Test func numberingContinuesAfterTheHighestSegmentPresent() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: scratch.path + "/" + SegmentName.fileName(sequence: 41), contents: Data()))
        #expect(FileManager.default.createFile(atPath: scratch.path + "/notes.txt", contents: Data("keep".utf8)))
        let writer = try SegmentLogWriter(directory: scratch.path)
        try writer.append(event(1))
        try writer.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(names == ["notes.txt", SegmentName.fileName(sequence: 41), SegmentName.fileName(sequence: 42)])
    }

    @Test func aFullLabelDictionaryStartsANewSegment() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        // 65 events of 1024 new labels each: the 65th needs ids past 65535.
        var events: [Event] = []
        for index in 0..<65 {
            let counts = (0..<1024).map { LabelCounts(label: Label("l\(index * 1024 + $0)"), tx: 1, rx: 1) }
            events.append(Event(time: Int64(index), duration: 1, counts: counts.sorted { $0.label < $1.label }))
        }
        for item in events { try writer.append(item) }
        try writer.close()
        let read = try readDirectory(scratch.path)
        #expect(read.blocksPerSegment.count == 2)
        #expect(read.events == events)
    }

    @Test func aFullLabelDictionaryStartsANewSegmentEvenAtABlockBoundary() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        // Exactly 65,536 labels fill the dictionary...
        var events: [Event] = []
        for index in 0..<64 {
            let counts = (0..<1024).map { LabelCounts(label: Label("l\(index * 1024 + $0)"), tx: 1, rx: 1) }
            events.append(Event(time: Int64(index), duration: 1, counts: counts.sorted { $0.label < $1.label }))
        }
        // ...then an event with a new label lands in a new block (time moved on).
        events.append(event(1_000_000, ["fresh": (1, 2)]))
        for item in events { try writer.append(item) }
        try writer.close()
        let read = try readDirectory(scratch.path)
        #expect(read.blocksPerSegment.count == 2)
        #expect(read.events == events)
    }

    @Test func anEventTheFormatCannotHoldIsRefusedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        try writer.append(event(1))
        let tooLong = Event(time: 2, duration: 1, counts: [LabelCounts(label: Label(bytes: Array(repeating: 65, count: 1025)), tx: 1, rx: 1)])
        let error = #expect(throws: AppendError.self) { try writer.append(tooLong) }
        #expect(error?.code == .refused)
        try writer.append(event(3))
        try writer.close()
        #expect(try readDirectory(scratch.path).events == [event(1), event(3)])
    }

    /// Writing the full segment's last block fails just as the dictionary
    /// fills: the event that needs the new segment is taken (or counted as
    /// dropped), never lost without a count, and the failed block waits.
    @Test func anEventThatNeedsANewSegmentIsNeverLostUncounted() throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = 1_000_000
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        var given = 0
        for index in 0..<64 {
            let counts = (0..<1024).map { LabelCounts(label: Label("l\(index * 1024 + $0)"), tx: 1, rx: 1) }
            try writer.append(Event(time: Int64(index), duration: 1, counts: counts.sorted { $0.label < $1.label }))
            given += 1
        }
        // The next block write fails once (as a full disk fails it).
        nonisolated(unsafe) var failures = 1
        writer.injectWriteFailure = { _ in
            guard failures > 0 else { return nil }
            failures -= 1
            return .noSpace
        }
        let error = #expect(throws: AppendError.self) { try writer.append(event(100, ["fresh": (1, 2)])) }
        #expect(error?.code == .writeFailedEventKept || error?.code == .writeFailedEventDropped)
        given += 1
        try writer.append(event(101, ["fresh": (3, 4)]))
        given += 1
        try writer.close()
        let metrics = writer.metrics
        let read = try readDirectory(scratch.path)
        #expect(metrics.events + metrics.eventsDropped == given, "\(metrics)")
        #expect(read.events.count == metrics.events - 0, "every event taken was written")
        #expect(read.events.last == event(101, ["fresh": (3, 4)]))
    }

    /// Where a new segment cannot be locked (a file system without locks),
    /// it is not made: a collector could take it unlocked. The event is
    /// counted as dropped, no file is left, and recording resumes when
    /// locking works.
    @Test func aSegmentThatCannotBeLockedIsNotMade() throws {
        let scratch = try ScratchDirectory()
        let writer = try SegmentLogWriter(directory: scratch.path)
        nonisolated(unsafe) var locks = true
        writer.lockSegment = { descriptor in
            guard locks else { errno = ENOLCK; return -1 }
            return flock(descriptor, LOCK_EX | LOCK_NB)
        }
        locks = false
        let error = #expect(throws: AppendError.self) { try writer.append(event(1)) }
        #expect(error?.code == .writeFailedEventDropped)
        #expect(error?.reason.contains("cannot lock segment") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        #expect(writer.metrics.eventsDropped == 1)
        locks = true
        try writer.append(event(2))
        try writer.close()
        #expect(try readDirectory(scratch.path).events == [event(2)])
    }

    /// Options that could write a segment larger than readers accept (64 MiB)
    /// are refused, naming the largest that fits; so are values out of range.
    @Test(arguments: [
        ("maxSegmentBytes", 64 << 20, "could grow past 67108864"),
        ("maxSegmentBytes", Int.max, "could grow past"),
        ("maxBacklogBytes", 63 << 20, "could grow past"),
        ("maxSegmentBytes", 0, "at least 1 byte"),
        ("maxBlockPayloadBytes", 0, "at least 1 byte"),
        ("maxBacklogBytes", -1, "cannot be negative"),
        ("flushIntervalMilliseconds", 0, "at least 1 ms"),
    ])
    func optionsReadersWouldRefuseAreRefused(_ field: String, _ value: Int, _ reason: String) throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        switch field {
        case "maxSegmentBytes": options.maxSegmentBytes = value
        case "maxBacklogBytes": options.maxBacklogBytes = value
        case "maxBlockPayloadBytes": options.maxBlockPayloadBytes = value
        default: options.flushIntervalMilliseconds = Int64(value)
        }
        let error = #expect(throws: StoreError.self) { try SegmentLogWriter(directory: scratch.path, options: options) }
        #expect(error?.code == .invalidOptions)
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "")")
        #expect(!FileManager.default.fileExists(atPath: scratch.path), "nothing is created for options refused")
    }

    /// Writes that fail now and then keep blocks waiting at every flush while
    /// others are written; the segment still closes, within its bound, and
    /// every event is written or counted as dropped.
    @Test func writesFailingNowAndThenDoNotGrowASegmentWithoutBound() throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.maxSegmentBytes = 4096
        options.maxBlockPayloadBytes = 1024
        options.maxBacklogBytes = 1000
        options.flushIntervalMilliseconds = 1_000
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        nonisolated(unsafe) var calls = 0
        writer.injectWriteFailure = { _ in
            calls += 1
            return calls % 2 == 0 ? .noSpace : nil
        }
        var given = 0
        for index in 0..<2_000 {
            try? writer.append(event(Int64(index) * 200, ["a": (UInt64(index) &* 7919, UInt64(index))]))
            given += 1
        }
        try? writer.close()
        let metrics = writer.metrics
        let written = try readDirectory(scratch.path).events.count
        #expect(written + metrics.eventsDropped + writer.pendingEvents == given, "\(metrics), \(written) written")
        #expect(metrics.eventsDropped < given / 2, "most were written: \(metrics)")
        let files = try SegmentDirectory.segments(in: scratch.path)
        #expect(files.count > 1, "it rotated")
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
            #expect(size <= options.largestSegmentBytes, "\(file.path): \(size) bytes, bound \(options.largestSegmentBytes)")
        }
    }

    /// One event can be larger than a small payload limit (1,024 labels of
    /// 1,024 bytes): the bound counts it.
    @Test func theSegmentBoundCountsTheLargestEvent() {
        var options = SegmentLogOptions()
        options.maxBlockPayloadBytes = 1
        options.maxBacklogBytes = 0
        options.maxSegmentBytes = FormatLimits.maxSegmentBytes - 200
        #expect(options.problem != nil)
        #expect(options.largestSegmentBytes > options.maxSegmentBytes + BlockEncoder.largestEventPayloadBytes)
    }

    /// The size the refusal names is one that is accepted, whatever was asked.
    @Test(arguments: [64 << 20, Int.max, 1 << 40])
    func theRefusalNamesASizeThatIsAccepted(_ asked: Int) throws {
        var options = SegmentLogOptions()
        options.maxSegmentBytes = asked
        let problem = try #require(options.problem)
        let words = problem.split(separator: " ")
        let named = try #require(words.lastIndex(of: "most").flatMap { Int(words[$0 + 1]) }, "\(problem)")
        options.maxSegmentBytes = named
        #expect(options.problem == nil, "\(named) was named and refused")
        options.maxSegmentBytes = named + 1
        #expect(options.problem != nil)
    }

    @Test func theLargestAcceptedSegmentSizeIsAccepted() throws {
        var options = SegmentLogOptions()
        options.maxSegmentBytes = 1
        let overhead = options.largestSegmentBytes - 1
        options.maxSegmentBytes = FormatLimits.maxSegmentBytes - overhead
        #expect(options.problem == nil)
        options.maxSegmentBytes += 1
        #expect(options.problem != nil)
    }

    @Test func noTemporaryFilesAreLeftBehind() throws {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.maxSegmentBytes = 4096
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        for index in 0..<2000 { try writer.append(event(Int64(index) * 100, ["x": (UInt64(index) * 7919, UInt64(index) * 104_729)])) }
        try writer.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(names.allSatisfy { SegmentName.sequence(fromFileName: $0) != nil })
    }

    @Test func aDirectoryThatCannotBeCreatedIsAClearError() throws {
        let scratch = try ScratchDirectory()
        #expect(FileManager.default.createFile(atPath: scratch.path, contents: Data("a file".utf8)))
        #expect(throws: StoreError.self) { try SegmentLogWriter(directory: scratch.path + "/logs") }
        try? FileManager.default.removeItem(atPath: scratch.path)
    }
}

struct SegmentNameTests {
    @Test(arguments: [UInt64(0), 1, 42, 99_999, UInt64.max])
    func namesRoundTrip(_ sequence: UInt64) {
        let name = SegmentName.fileName(sequence: sequence)
        #expect(name.count == "sockstat-".count + 20 + ".sslog".count)
        #expect(SegmentName.sequence(fromFileName: name) == sequence)
    }

    @Test(arguments: ["sockstat-1.sslog", "sockstat-0000000000000000000a.sslog", "other.sslog",
                      "sockstat-00000000000000000001.sslog.tmp", ".sockstat-00000000000000000001.sslog.tmp",
                      "sockstat-99999999999999999999.sslog"])
    func otherNamesAreNotSegments(_ name: String) {
        #expect(SegmentName.sequence(fromFileName: name) == nil)
    }

    @Test func namesSortInSequenceOrder() {
        let names = [1, 9, 10, 100, 2].map { SegmentName.fileName(sequence: UInt64($0)) }
        #expect(names.sorted() == [1, 2, 9, 10, 100].map { SegmentName.fileName(sequence: UInt64($0)) })
    }
}

struct FileIOTests {
    @Test func readingRefusesFilesOverTheLimit() throws {
        let scratch = try ScratchDirectory()
        #expect(FileManager.default.createFile(atPath: scratch.path, contents: Data(repeating: 7, count: 1000)))
        #expect(try FileIO.readFile(scratch.path, limit: 1000).count == 1000)
        #expect(throws: StoreError.self) { try FileIO.readFile(scratch.path, limit: 999) }
        try? FileManager.default.removeItem(atPath: scratch.path)
    }

    @Test func missingFileIsAReadError() {
        #expect(throws: StoreError.self) { try SegmentDirectory.read("/nonexistent/x.sslog") }
    }
}
