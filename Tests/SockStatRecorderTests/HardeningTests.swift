import Foundation
import Logging
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import Testing
import TestSupport

// Issue 13: what hostile input and misuse broke in the recorder. Each test
// failed before its fix.

/// A log handler that keeps every message, to count what is said.
final class CapturedLog: Sendable {
    private let messages = Lock<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    var lines: [String] { messages.withLock { $0 } }

    func count(containing text: String) -> Int { lines.filter { $0.contains(text) }.count }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.messages.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}

/// A recorder on a manual clock, writing into a fresh directory, whose log
/// is kept to count what it says.
func loggedRecorder(reading source: some CounterSource) throws -> (TemporaryDirectory, CapturedLog, Recorder) {
    let directory = TemporaryDirectory()
    let log = CapturedLog()
    let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path),
                                clock: ManualClock(), logger: log.logger)
    return (directory, log, recorder)
}

/// A source an app wrote itself, which gives whatever labels it is told to,
/// format limits or not.
final class UncheckedSource: CounterSource {
    private let current = Lock<[(Label, UInt64, UInt64)]>([])

    func set(_ values: [(Label, UInt64, UInt64)]) { current.withLock { $0 = values } }

    func read(into snapshot: inout CounterSnapshot) {
        snapshot.removeAll()
        for (label, tx, rx) in current.withLock({ $0 }) { snapshot.append(label, tx: tx, rx: rx) }
    }
}

struct HardeningTests {
    static let tooLong = Label(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: FormatLimits.maxLabelBytes + 1))

    // MARK: Defect 3: one bad label cost the whole event, every poll

    /// A label over 1024 bytes and a label given twice cost only themselves:
    /// the other labels of every event are recorded, each bad label is
    /// counted once in the metrics and said once in the log, not per poll.
    @Test func aLabelTheFormatCannotStoreCostsOnlyItself() throws {
        let source = UncheckedSource()
        let (directory, log, recorder) = try loggedRecorder(reading: source)
        let good = Label("good")
        let twice = Label("twice")
        for poll in 0..<50 {
            let value = UInt64(poll) * 100
            source.set([(good, value, value), (Self.tooLong, value, 1), (twice, value, 0), (twice, value + 1, 0)])
            recorder.poll(at: reading(1_000 + Int64(poll) * 100, UInt64(poll) * 100))
        }
        #expect(recorder.shutdown())
        let events = try recordedEvents(directory.path)
        #expect(events.count == 49, "an event for every poll after the baseline")
        #expect(events.allSatisfy { $0.counts.contains { $0.label == good && $0.tx == 100 } })
        #expect(events.allSatisfy { !$0.counts.contains { $0.label == Self.tooLong } })
        #expect(events.allSatisfy { !$0.counts.contains { $0.label == twice } }, "neither copy: which is which cannot be told")
        let metrics = recorder.metrics
        #expect(metrics.labelsRefused == 2, "each bad label counted once: \(metrics)")
        #expect(metrics.eventsDropped == 0)
        #expect(log.count(containing: "cannot be recorded") == 2, "\(log.lines)")
    }

    /// An event of more than 1024 changed labels is recorded as several
    /// events with the same t, d and c: every byte is there, and the
    /// splitting is said when it starts and when it ends, not per poll.
    @Test func anEventOfMoreThan1024LabelsIsSplitNotDropped() throws {
        let source = UncheckedSource()
        let (directory, log, recorder) = try loggedRecorder(reading: source)
        let labels = (0..<2_500).map { Label("label-\($0)") }
        for poll in 0..<6 {
            // Polls 1 to 3 change every label; 4 and 5 only one.
            let value = UInt64(poll)
            source.set(labels.enumerated().map { index, label in
                let moved = index == 0 ? value : min(value, 3)
                return (label, moved * 7, moved)
            })
            recorder.poll(at: reading(1_000 + Int64(poll) * 100, UInt64(poll) * 100))
        }
        #expect(recorder.shutdown())
        let events = try recordedEvents(directory.path)
        var totals: [Label: (UInt64, UInt64)] = [:]
        for event in events {
            #expect(event.counts.count <= FormatLimits.maxLabelsPerEvent)
            for entry in event.counts {
                let sum = totals[entry.label] ?? (0, 0)
                totals[entry.label] = (sum.0 + entry.tx, sum.1 + entry.rx)
            }
        }
        #expect(try #require(totals[labels[0]]) == (35, 5))
        #expect(try #require(totals[labels[1]]) == (21, 3), "polls 1 to 3 moved every label")
        #expect(Set(events.map(\.time)).count == 5, "pieces share their event's t")
        let metrics = recorder.metrics
        #expect(metrics.eventsSplit == 3)
        #expect(metrics.eventsDropped == 0)
        #expect(log.count(containing: "recorded as several") == 1, "\(log.lines)")
        #expect(log.count(containing: "fit in one record again") == 1, "\(log.lines)")
    }

    /// The in-process source refuses a label it cannot store where it
    /// enters, and the recorder's metrics show the refusal.
    @Test func inProcessCountersRefuseALabelTooLongWhereItEnters() throws {
        let counters = InProcessCounters()
        let (directory, log, recorder) = try loggedRecorder(reading: counters)
        let error = #expect(throws: LabelError.self) { try counters.counter(for: Self.tooLong) }
        #expect(error?.code == .tooLong)
        #expect(throws: LabelError.self) { try counters.counter(for: String(repeating: "é", count: 513)) }
        #expect(throws: LabelError.self) { try counters.counter(for: Self.tooLong) }
        let fits = try counters.counter(for: Label(bytes: [UInt8](repeating: 0x61, count: FormatLimits.maxLabelBytes)))
        #expect(counters.refusedLabels == 2, "each label once, however often asked for")
        recorder.poll(at: reading(1_000, 0))
        fits.add(sent: 5)
        for poll in 1...20 { recorder.poll(at: reading(1_000 + Int64(poll) * 100, UInt64(poll) * 100)) }
        #expect(recorder.shutdown())
        #expect(recorder.metrics.labelsRefused == 2)
        #expect(log.count(containing: "refused 2 more labels") == 1, "said once, not per poll: \(log.lines)")
        #expect(try recordedEvents(directory.path).map { $0.counts.map(\.tx) } == [[5]])
    }

    /// A source that fails poll after poll is said once, and once more when
    /// it recovers; every failed poll is counted.
    @Test func aFailingSourceIsSaidOnceNotPerPoll() throws {
        let source = ScriptedSource()
        let (directory, log, recorder) = try loggedRecorder(reading: source)
        source.fail(true)
        for poll in 0..<30 { recorder.poll(at: reading(Int64(poll) * 100, UInt64(poll) * 100)) }
        source.fail(false)
        source.set([("a", 10, 10)])
        recorder.poll(at: reading(3_000, 3_000))
        source.set([("a", 15, 12)])
        recorder.poll(at: reading(3_100, 3_100))
        #expect(recorder.shutdown())
        #expect(recorder.metrics.sourceErrors == 30)
        #expect(log.count(containing: "cannot read counters") == 1, "\(log.lines)")
        #expect(log.count(containing: "readable again") == 1)
        let events = try recordedEvents(directory.path)
        #expect(events.map(\.time) == [3_000], "the first good poll is the baseline; recording goes on from it")
        #expect(events.first?.counts.map { [$0.tx, $0.rx] } == [[5, 2]])
    }

    // MARK: Defect 5: shutdown was not terminal

    /// After shutdown nothing is recorded: a poll makes no segment and takes
    /// no event it could lose; flush and enabling do nothing; the metrics
    /// keep their final values; a drain still delivers what is on disk.
    @Test func afterShutdownNothingIsRecorded() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 1, 1)])
        recorder.poll(at: reading(1_000, 0))
        source.set([("a", 2, 1)])
        recorder.poll(at: reading(1_100, 100))
        #expect(recorder.shutdown())
        #expect(recorder.isShutDown)
        let final = recorder.metrics
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        source.set([("a", 9, 9)])
        recorder.poll(at: reading(1_200, 200))
        recorder.poll(at: reading(1_300, 300))
        recorder.poll()
        recorder.flush()
        recorder.isEnabled = false
        recorder.isEnabled = true
        recorder.start()
        #expect(!recorder.isEnabled)
        #expect(recorder.metrics == final)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == files, "no new segment")
        var delivered: [UInt8] = []
        let summary = try recorder.drain { delivered.append(contentsOf: $0) }
        #expect(summary.events == 1)
        #expect(String(decoding: delivered, as: UTF8.self) == #"{"t":1000,"d":100,"s":{"a":[1,0]}}"# + "\n")
        #expect(recorder.shutdown(), "a second shutdown says the first one finished")
    }

    // MARK: Defect 15: read closed the open segment

    /// A read takes everything recorded so far, the buffered block included,
    /// without closing the open segment: reading often costs no segments.
    @Test func aReadDeliversEverythingWithoutClosingTheOpenSegment() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        var value: UInt64 = 0
        var time: Int64 = 1_000
        func poll() {
            value += 1
            time += 100
            source.set([("a", value, 0)])
            recorder.poll(at: reading(time, UInt64(time)))
        }
        for _ in 0..<5 { poll() }
        var lines: [UInt8] = []
        for round in 1...4 {
            lines.removeAll()
            let summary = try recorder.read { lines.append(contentsOf: $0) }
            #expect(summary.events == 4 * round, "round \(round)")
            #expect(recorder.metrics.segments == 1, "the open segment stays open")
            for _ in 0..<4 { poll() }
        }
        #expect(recorder.shutdown())
        #expect(try recordedEvents(directory.path).count == 20)
        #expect(try SegmentDirectory.segments(in: directory.path).count == 1)
    }

    // MARK: Defect 9: drains ignored FORMAT.md 10.4's duplicate rule

    /// A copy of a segment (its header's sequence number in another file) is
    /// delivered once: the copy is set aside, not delivered by this drain
    /// nor a later one.
    @Test func aCopiedSegmentIsDeliveredOnce() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: RecorderOptions(directory: directory.path), clock: ManualClock())
        source.set([("a", 1, 1)])
        recorder.poll(at: reading(1_000, 0))
        source.set([("a", 2, 1)])
        recorder.poll(at: reading(1_100, 100))
        try recorder.closeOpenSegment()
        let original = try #require(try SegmentDirectory.segments(in: directory.path).first).path
        try FileManager.default.copyItem(atPath: original, toPath: directory.path + "/" + SegmentName.fileName(sequence: 900))
        var delivered: [UInt8] = []
        let summary = try recorder.drain { delivered.append(contentsOf: $0) }
        #expect(summary.segments == 1)
        #expect(String(decoding: delivered, as: UTF8.self) == #"{"t":1000,"d":100,"s":{"a":[1,0]}}"# + "\n")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.contains(SegmentName.fileName(sequence: 900) + ".duplicate"), "\(names)")
        delivered.removeAll()
        #expect(try recorder.drain { delivered.append(contentsOf: $0) }.events == 0)
        #expect(delivered.isEmpty)
        #expect(recorder.shutdown())
    }

    // MARK: Defect 8: set-aside files escaped retention

    /// Segments a collector sets aside while the recorder runs (renamed,
    /// not gone) still count: the cap holds at every step after it.
    @Test func segmentsSetAsideWhileRecordingStillCount() throws {
        let directory = TemporaryDirectory()
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4_096
        options.maxTotalBytes = 64 << 10
        options.flushIntervalMilliseconds = 1_000
        // Not a test of the shutdown bound: a loaded machine may take more than the default 1 s.
        options.shutdownTimeoutMilliseconds = 30_000
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        var random = TestRandom(seed: 7)
        var poll = 0
        func record(_ polls: Int) throws {
            for _ in 0..<polls {
                source.set([("a", UInt64(poll) * (random.next() % 100_000), UInt64(poll))])
                recorder.poll(at: reading(Int64(poll) * 100, UInt64(poll) * 100))
                poll += 1
                if poll > 1 {
                    let bytes = directoryBytes(directory.path)
                    #expect(bytes <= options.maxTotalBytes, "poll \(poll): \(bytes) bytes")
                }
            }
        }
        try record(20_000)
        #expect(recorder.metrics.segmentsDeleted > 0, "at the cap")
        // A collector takes every closed segment and sets it aside (as damaged).
        let open = recorder.flushAndLocateOpenSegment()?.path
        for file in try SegmentDirectory.segments(in: directory.path) where file.path != open {
            try FileManager.default.moveItem(atPath: file.path, toPath: file.path + ".damaged")
        }
        try record(3_000)
        #expect(recorder.shutdown())
    }

    /// Segments set aside by collectors count against the cap and are the
    /// first deleted: the directory stays under its cap whatever is set aside.
    @Test func setAsideFilesCountAgainstTheCapAndGoFirst() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        // 100 KB of set-aside files, more than the 64 KiB cap by themselves.
        for sequence in 1...4 {
            for kind in ["damaged", "delivered", "duplicate"] {
                let name = SegmentName.fileName(sequence: UInt64(sequence)) + "." + kind
                try Data(repeating: 7, count: 8_400).write(to: URL(fileURLWithPath: directory.path + "/" + name))
            }
        }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory.path + "/notes.txt"))
        var options = RecorderOptions(directory: directory.path)
        options.maxSegmentBytes = 4_096
        options.maxTotalBytes = 64 << 10
        options.flushIntervalMilliseconds = 1_000
        let source = ScriptedSource()
        let recorder = try Recorder(source: source, options: options, clock: ManualClock())
        var random = SystemRandomNumberGenerator()
        for poll in 0..<12_000 {
            source.set([("a", UInt64(poll) * UInt64.random(in: 1...100_000, using: &random), UInt64(poll))])
            recorder.poll(at: reading(Int64(poll) * 100, UInt64(poll) * 100))
            // From the first write on (the baseline writes nothing).
            guard poll > 0 else { continue }
            let ours = directoryBytes(directory.path) - 4
            #expect(ours <= options.maxTotalBytes, "poll \(poll): \(ours) bytes")
            if recorder.metrics.segmentsDeleted > 0 {
                let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                #expect(!names.contains { SegmentDirectory.setAsideSequence(fromFileName: $0) != nil },
                        "poll \(poll): a segment was deleted while set-aside files were left")
            }
        }
        #expect(recorder.shutdown())
        #expect(recorder.metrics.segmentsDeleted > 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.contains("notes.txt"))
    }
}
