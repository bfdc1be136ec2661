#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import Testing
@testable import SockStatRecorder

// MARK: - A recorder in miniature

/// Applies the recorder's delta rule to successive (reading, snapshot) polls
/// and renders the events it would emit as canonical JSON. Written apart from
/// `DeltaTracker` on purpose: the replay must fit the rule, not one
/// implementation of it.
private struct RecorderSimulator {
    private var previous: ClockReading?
    private var counters: [Label: (tx: UInt64, rx: UInt64)] = [:]
    private(set) var output: [UInt8] = []
    private(set) var readings: [ClockReading] = []
    private(set) var snapshots: [CounterSnapshot] = []
    /// Counters that went backwards: a replay must never cause one.
    private(set) var backwards = 0
    let keepHistory: Bool

    init(keepHistory: Bool = true) {
        self.keepHistory = keepHistory
    }

    mutating func poll(_ now: ClockReading, _ snapshot: CounterSnapshot) {
        if keepHistory {
            readings.append(now)
            snapshots.append(snapshot)
        }
        var next: [Label: (tx: UInt64, rx: UInt64)] = [:]
        var counts: [LabelCounts] = []
        for index in 0..<snapshot.count {
            let label = snapshot.labels[index]
            let new = (tx: snapshot.tx[index], rx: snapshot.rx[index])
            #expect(next[label] == nil, "label \(label) twice in one snapshot")
            next[label] = new
            let old = counters[label]
            let sent = old.map { delta(old: $0.tx, new: new.tx) } ?? new.tx
            let received = old.map { delta(old: $0.rx, new: new.rx) } ?? new.rx
            if sent != 0 || received != 0 {
                counts.append(LabelCounts(label: label, tx: sent, rx: received))
            }
        }
        if let previous, !counts.isEmpty {
            let event = Event(
                time: previous.wallMilliseconds,
                duration: Int64(bitPattern: now.monotonicMilliseconds &- previous.monotonicMilliseconds),
                isCellular: snapshot.isCellular,
                counts: counts
            )
            output += CanonicalJSON.line(for: event)
        }
        previous = now
        counters = next
    }

    private mutating func delta(old: UInt64, new: UInt64) -> UInt64 {
        if new >= old { return new - old }
        backwards += 1
        if old <= UInt64(UInt32.max), old >= 3 << 30, new < 1 << 30 {
            return new + (1 << 32) - old
        }
        return new
    }
}

/// Drives `source` to the end through the simulator.
private func record(_ source: ReplaySource, keepHistory: Bool = true) throws(ReplayError) -> RecorderSimulator {
    var simulator = RecorderSimulator(keepHistory: keepHistory)
    var snapshot = CounterSnapshot()
    while let reading = try source.advance() {
        source.read(into: &snapshot)
        simulator.poll(reading, snapshot)
    }
    return simulator
}

private func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

private func lines(_ events: [Event]) -> [UInt8] {
    events.flatMap { CanonicalJSON.line(for: $0) }
}

private func event(_ time: Int64, _ duration: Int64, cellular: Bool = false, _ counts: [(String, UInt64, UInt64)]) -> Event {
    Event(time: time, duration: duration, isCellular: cellular, counts: counts.map { LabelCounts(label: Label($0.0), tx: $0.1, rx: $0.2) })
}

// MARK: - Files

private let repositoryRoot: String = {
    // #filePath is <root>/Tests/SockStatRecorderTests/ReplaySourceTests.swift.
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()


/// A file in a fresh temporary directory, removed by `remove()`.
private struct TemporaryFile {
    let directory: String
    let path: String

    init() {
        var template = Array("/tmp/replay-source-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        path = directory + "/input.jsonl"
    }

    /// Writes the file by calling `produce` until it returns nil, chunk by chunk.
    func write(_ produce: () -> [UInt8]?) {
        guard let file = fopen(path, "wb") else { preconditionFailure("cannot create \(path)") }
        defer { fclose(file) }
        while let chunk = produce() {
            let written = chunk.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            precondition(written == chunk.count, "short write")
        }
    }

    func remove() {
        unlink(path)
        rmdir(directory)
    }
}

// MARK: - Round trips

@Test func severalSegmentsFixtureRoundTripsByteForByte() throws {
    let path = repositoryRoot + "/Fixtures/several-segments/source.jsonl"
    let input = try #require(readWholeFile(path))
    let source = try ReplaySource(path: path)
    let simulator = try record(source)
    #expect(simulator.output == input)
    #expect(simulator.backwards == 0)
    #expect(source.eventsRead == input.count { $0 == UInt8(ascii: "\n") })
}

/// An event sequence named for what it stresses; the name is its test
/// description, so that odd label bytes stay out of the test log.
struct ReplayRoundTripCase: Sendable, CustomTestStringConvertible {
    var name: String
    var events: [Event]
    var testDescription: String { name }
}

/// Event sequences that stress one part of the schedule each.
private let roundTripCases: [ReplayRoundTripCase] = ([
    ("single event", [event(1000, 100, [("8", 1, 2)])]),
    ("adjacent events share a poll", [
        event(1000, 100, [("8", 1, 2)]),
        event(1100, 100, [("8", 3, 4)]),
        event(1200, 7, [("2", 5, 0)]),
    ]),
    ("gaps between events", [
        event(1000, 100, [("8", 1, 2)]),
        event(5000, 100, [("8", 3, 4)]),
        event(86_400_000, 1, [("8", 0, 9)]),
    ]),
    ("wall clock goes backwards", [
        event(10_000, 100, [("a", 1, 1)]),
        event(500, 10, [("a", 2, 2)]),
        event(500, 10, [("a", 3, 3)]),
        event(-3, 1, [("a", 4, 4)]),
        event(-2, 0, [("a", 5, 5)]),
    ]),
    ("t at the limits, ends wrap", [
        event(Int64.min, 0, [("a", 1, 1)]),
        event(Int64.max, 5, [("a", 1, 1)]),
        event(Int64.min + 4, 3, [("a", 1, 1)]),
        event(Int64.max, Int64.max, [("a", 1, 1)]),
        event(Int64.max - 1, 1, [("a", 1, 1)]),
        event(Int64.min, Int64.max, [("a", 1, 1)]),
        event(-1, 0, [("a", 1, 1)]),
    ]),
    ("d = 0 and d = Int64.max", [
        event(0, 0, [("a", 1, 0)]),
        event(0, 0, [("a", 0, 1)]),
        event(0, Int64.max, [("a", 1, 1)]),
        event(Int64.max, Int64.max, [("a", 1, 1)]),
        event(1, Int64.max, [("a", 1, 1)]),
        event(1, Int64.max, [("a", 1, 1)]),
        event(Int64.max &+ 1, 0, [("a", 1, 1)]),
    ]),
    ("UInt64.max repeatedly on one label", [
        event(0, 1, [("a", UInt64.max, UInt64.max)]),
        event(1, 1, [("a", UInt64.max, UInt64.max)]),
        event(2, 1, [("a", UInt64.max, 1)]),
        event(3, 1, [("a", 1, UInt64.max)]),
        event(4, 1, [("a", UInt64.max, 0), ("b", UInt64.max, UInt64.max)]),
        event(5, 1, [("b", 1, 0), ("a", 0, 1)]),
        event(6, 1, [("a", UInt64.max - 1, UInt64.max - 1)]),
        event(7, 1, [("a", 1, 1)]),
        event(8, 1, [("a", 1, 1)]),
    ]),
    ("counters near 32-bit wrap thresholds", [
        event(0, 1, [("a", UInt64(UInt32.max) - 1, 3 << 30)]),
        event(1, 1, [("a", 1, 1 << 30)]),
        event(2, 1, [("a", 1 << 30, 1)]),
        event(3, 1, [("a", UInt64.max - UInt64(UInt32.max), 5)]),
        event(4, 1, [("a", UInt64(UInt32.max), 5)]),
    ]),
    ("cellular flips", [
        event(0, 100, cellular: true, [("a", 1, 1)]),
        event(100, 100, cellular: false, [("a", 1, 1)]),
        event(200, 100, cellular: true, [("a", 1, 1)]),
        event(300, 100, cellular: true, [("b", 1, 1)]),
        event(1000, 100, cellular: false, [("b", 1, 1)]),
        event(2000, 100, cellular: true, [("a", 1, 1)]),
    ]),
    ("labels appear and vanish", [
        event(0, 100, [("a", 1, 1)]),
        event(100, 100, [("b", 2, 2)]),
        event(200, 100, [("a", 3, 3), ("c", 4, 4)]),
        event(300, 100, [("c", 5, 5)]),
        event(900, 100, [("b", 6, 6), ("a", 7, 7), ("d", 8, 8)]),
        event(1000, 100, [("a", 9, 9)]),
    ]),
    ("labels with odd bytes", [
        Event(time: 0, duration: 1, counts: [
            LabelCounts(label: Label(""), tx: 1, rx: 1),
            LabelCounts(label: Label("<&>"), tx: 2, rx: 2),
            LabelCounts(label: Label("\"\\"), tx: 3, rx: 3),
            LabelCounts(label: Label(bytes: [0x00, 0x01, 0x1F, 0x7F]), tx: 4, rx: 4),
            LabelCounts(label: Label("\u{2028}\u{2029}é😀"), tx: 5, rx: 5),
            LabelCounts(label: Label("\n\t\r"), tx: 6, rx: 6),
        ]),
        Event(time: 1, duration: 1, counts: [
            LabelCounts(label: Label("\u{FFFD}"), tx: 7, rx: 7),
        ]),

        Event(time: 2, duration: 1, counts: [
            LabelCounts(label: Label("<&>"), tx: 9, rx: 9),
        ]),
    ]),
] as [(String, [Event])]).map { ReplayRoundTripCase(name: $0.0, events: $0.1) }

@Test(arguments: roundTripCases)
func eventsRoundTripByteForByte(_ testCase: ReplayRoundTripCase) throws {
    let (name, events) = (testCase.name, testCase.events)
    let input = lines(events)
    let source = ReplaySource(bytes: input)
    let simulator = try record(source)
    #expect(text(simulator.output) == text(input), "\(name)")
    #expect(simulator.output == input, "\(name)")
    #expect(source.eventsRead == events.count)
    // Replays never make a counter go backwards: removal, not reset.
    #expect(simulator.backwards == 0)
    // Monotonic time never decreases, except by wrapping past UInt64.max.
    for (before, after) in zip(simulator.readings, simulator.readings.dropFirst()) {
        #expect(Int64(bitPattern: after.monotonicMilliseconds &- before.monotonicMilliseconds) >= 0)
    }
}

@Test(arguments: roundTripCases)
func theRecordersDeltaTrackerAgrees(_ testCase: ReplayRoundTripCase) throws {
    // The simulator above restates the rule; this checks the real tracker.
    let source = ReplaySource(bytes: lines(testCase.events))
    var tracker = DeltaTracker()
    var snapshot = CounterSnapshot()
    var counts: [LabelCounts] = []
    var previous: ClockReading?
    var output: [UInt8] = []
    while let reading = try source.advance() {
        source.read(into: &snapshot)
        if tracker.update(with: snapshot, into: &counts), let previous {
            output += CanonicalJSON.line(for: Event(
                time: previous.wallMilliseconds,
                duration: Int64(bitPattern: reading.monotonicMilliseconds &- previous.monotonicMilliseconds),
                isCellular: snapshot.isCellular,
                counts: counts
            ))
        }
        previous = reading
    }
    #expect(output == lines(testCase.events))
    #expect(tracker.resets == 0 && tracker.wraps == 0)
}

@Test func overflowingLabelIsAbsentFromTheStartPoll() throws {
    let input = lines([
        event(0, 1, [("a", UInt64.max, 1), ("b", 1, 1)]),
        event(1, 1, [("a", 1, 1)]),
    ])
    let simulator = try record(ReplaySource(bytes: input))
    // Baseline, end 1, start 2 (a removed), end 2.
    #expect(simulator.readings.map(\.wallMilliseconds) == [0, 1, 1, 2])
    #expect(simulator.readings.map(\.monotonicMilliseconds) == [0, 1, 1, 2])
    #expect(simulator.snapshots[2].labels == [Label("b")])
    #expect(simulator.snapshots[3].labels == [Label("a"), Label("b")])
    #expect(simulator.snapshots[3].tx == [1, 1])
    #expect(simulator.output == input)
}

@Test func labelsStayPresentInFirstAppearanceOrder() throws {
    let input = lines([
        event(0, 1, [("z", 1, 1)]),
        event(1, 1, [("a", 2, 2)]),
        event(2, 1, [("z", 3, 3)]),
    ])
    let simulator = try record(ReplaySource(bytes: input))
    let last = try #require(simulator.snapshots.last)
    #expect(last.labels == [Label("z"), Label("a")])
    #expect(last.tx == [4, 2])
    #expect(last.rx == [4, 2])
}

@Test func aSnapshotChangedBetweenPollsIsRefilledWhole() throws {
    // The source copies only counters into a snapshot it filled itself;
    // one changed by anybody else must get its labels back too.
    let input = lines([
        event(0, 1, [("z", 1, 1)]),
        event(5, 1, [("a", 2, 2)]),
        event(10, 1, [("z", 3, 3), ("a", 1, 1)]),
        event(20, 1, [("a", 5, 5)]),
    ])
    let source = ReplaySource(bytes: input)
    let reference = ReplaySource(bytes: input)
    var reused = CounterSnapshot()
    var poll = 0
    while let reading = try source.advance() {
        #expect(try reference.advance() == reading)
        switch poll % 3 {
        case 1: reused.removeAll()
        case 2: reused.append(Label("intruder"), tx: 9, rx: 9)
        default: break
        }
        source.read(into: &reused)
        var fresh = CounterSnapshot()
        reference.read(into: &fresh)
        #expect(reused.labels == fresh.labels, "poll \(poll)")
        #expect(reused.tx == fresh.tx, "poll \(poll)")
        #expect(reused.rx == fresh.rx, "poll \(poll)")
        #expect(reused.isCellular == fresh.isCellular, "poll \(poll)")
        poll += 1
    }
    #expect(poll > 6)
}

@Test func aSnapshotFilledByAFreedSourceIsRefilledWhole() throws {
    // A new source often lands at the address of the one just freed; a mark
    // made from the address let the new source trust the old one's labels.
    var reused = CounterSnapshot()
    for round in 0..<64 {
        let source = ReplaySource(bytes: lines([event(0, 1, [("label\(round)", 1, 1)])]))
        _ = try source.advance()
        _ = try source.advance()
        source.read(into: &reused)
        #expect(reused.labels == [Label("label\(round)")], "round \(round)")
    }
}

// MARK: - Schedule

@Test func baselineIsTheFirstReading() throws {
    let source = ReplaySource(bytes: Array("\n{\"t\":1234,\"d\":100,\"c\":1,\"s\":{\"8\":[1,2]}}\n".utf8))
    var snapshot = CounterSnapshot()
    source.read(into: &snapshot)
    #expect(snapshot.count == 0)
    #expect(source.eventsRead == 0)

    let baseline = try source.advance()
    #expect(baseline == ClockReading(wallMilliseconds: 1234, monotonicMilliseconds: 0))
    source.read(into: &snapshot)
    #expect(snapshot.count == 0)
    #expect(source.eventsRead == 1)

    let end = try source.advance()
    #expect(end == ClockReading(wallMilliseconds: 1334, monotonicMilliseconds: 100))
    source.read(into: &snapshot)
    #expect(snapshot.labels == [Label("8")])
    #expect(snapshot.isCellular)

    #expect(try source.advance() == nil)
    #expect(try source.advance() == nil)
}

@Test func startPollFollowsForwardGapsOnly() throws {
    let input = lines([
        event(1000, 100, [("a", 1, 1)]),
        event(1500, 50, [("a", 1, 1)]),
        event(1200, 10, [("a", 1, 1)]),
        event(1210, 10, [("a", 1, 1)]),
    ])
    let simulator = try record(ReplaySource(bytes: input))
    #expect(simulator.readings == [
        ClockReading(wallMilliseconds: 1000, monotonicMilliseconds: 0),
        ClockReading(wallMilliseconds: 1100, monotonicMilliseconds: 100),
        ClockReading(wallMilliseconds: 1500, monotonicMilliseconds: 500),
        ClockReading(wallMilliseconds: 1550, monotonicMilliseconds: 550),
        ClockReading(wallMilliseconds: 1200, monotonicMilliseconds: 550),
        ClockReading(wallMilliseconds: 1210, monotonicMilliseconds: 560),
        ClockReading(wallMilliseconds: 1220, monotonicMilliseconds: 570),
    ])
}

@Test(arguments: [
    ("", 0),
    ("\n", 0),
    ("\n \n\t\r\n   ", 0),
    ("\n\n{\"t\":1,\"d\":2,\"s\":{\"a\":[1,1]}}\n\n\n{\"t\":3,\"d\":2,\"s\":{\"a\":[1,1]}}\n\n", 2),
    ("{\"t\":1,\"d\":2,\"s\":{\"a\":[1,1]}}\r\n{\"t\":3,\"d\":2,\"s\":{\"a\":[1,1]}}\r\n", 2),
    ("{\"t\":1,\"d\":2,\"s\":{\"a\":[1,1]}}", 1),
    ("{\"t\":1,\"d\":2,\"s\":{\"a\":[1,1]}}\n{\"t\":3,\"d\":2,\"s\":{\"a\":[1,1]}}", 2),
])
func blankLinesAreSkippedAndLastLineNeedsNoNewline(input: String, events: Int) throws {
    let source = ReplaySource(bytes: Array(input.utf8))
    let simulator = try record(source)
    #expect(source.eventsRead == events)
    let expected = Array(input.utf8).split(separator: UInt8(ascii: "\n")).filter {
        $0.contains(UInt8(ascii: "{"))
    }.map { Array($0.filter { $0 != UInt8(ascii: "\r") }) + [UInt8(ascii: "\n")] }.flatMap { $0 }
    #expect(simulator.output == expected)
    // An empty input has no baseline at all; these events are adjacent, so
    // each end poll is the next one's start.
    #expect(simulator.readings.count == (events == 0 ? 0 : 1 + events))
}

@Test func nonCanonicalInputIsReplayedAsItsCanonicalForm() throws {
    let input = #"{ "s" : {"b":[1,2],"a":[3,4]}, "c": 1, "d": 7, "t": 9, "meta": {"x": [1]} }"#
    let simulator = try record(ReplaySource(bytes: Array(input.utf8)))
    #expect(text(simulator.output) == #"{"t":9,"d":7,"c":1,"s":{"a":[3,4],"b":[1,2]}}"# + "\n")
}

@Test func invalidUTF8LabelsReplayAsTheReplacementCharacter() throws {
    // Canonical JSON writes an invalid byte as \ufffd, which parses back as
    // U+FFFD, which canonical JSON writes raw: such lines are not fixed points.
    let input = CanonicalJSON.line(for: Event(time: 1, duration: 1, counts: [LabelCounts(label: Label(bytes: [0xC3, 0x41]), tx: 8, rx: 8)]))
    #expect(text(input) == #"{"t":1,"d":1,"s":{"\ufffdA":[8,8]}}"# + "\n")
    let simulator = try record(ReplaySource(bytes: input))
    #expect(text(simulator.output) == #"{"t":1,"d":1,"s":{""# + "\u{FFFD}" + #"A":[8,8]}}"# + "\n")
}

// MARK: - Errors

private let good = #"{"t":1,"d":2,"s":{"a":[1,1]}}"#

/// An input whose replay must fail, and how.
struct ReplayErrorCase: Sendable, CustomTestStringConvertible {
    var input: String
    var line: Int
    var column: Int?
    var reason: String

    init(_ input: String, line: Int, column: Int? = nil, _ reason: String) {
        self.input = input
        self.line = line
        self.column = column
        self.reason = reason
    }

    var testDescription: String { "line \(line): \(reason)" }
}

private let negativeD = "negative d cannot be recorded: the recorder's d comes from a monotonic clock"
private let noLabels = "an event with no labels is never recorded"
private let noChange = "a label with no change is never recorded"

private let errorCases: [ReplayErrorCase] = [
    ReplayErrorCase(good + "\n" + #"{"t":5,"d":-1,"s":{"a":[1,1]}}"#, line: 2, negativeD),
    ReplayErrorCase(#"{"t":5,"d":-9223372036854775808,"s":{"a":[1,1]}}"#, line: 1, negativeD),
    ReplayErrorCase(good + "\n\n" + #"{"t":5,"d":1,"s":{}}"#, line: 3, noLabels),
    ReplayErrorCase(good + "\n" + #"{"t":5,"d":1,"s":null}"#, line: 2, noLabels),
    ReplayErrorCase(#"{"t":5,"d":1}"#, line: 1, noLabels),
    ReplayErrorCase(good + "\n" + good + "\n" + #"{"t":5,"d":1,"s":{"a":[1,1],"b":[0,0]}}"#, line: 3, noChange),
    ReplayErrorCase(#"{"t":5,"d":1,"s":{"a":[0,0]}}"#, line: 1, noChange),
    ReplayErrorCase(good + "\n" + #"{"t":5,"d":1"#, line: 2, column: 13, "unexpected end of line"),
    ReplayErrorCase(good + "\n \n" + #"{"t":5,"d":1,"s":{"a":[1,1],"a":[1,1]}}"#, line: 3, column: 29, "duplicate label in 's'"),
    ReplayErrorCase("x", line: 1, column: 1, "expected '{' at start of line"),
]

@Test(arguments: errorCases)
func unrecordableLinesAreErrorsNamingTheLine(_ error: ReplayErrorCase) throws {
    let source = ReplaySource(bytes: Array(error.input.utf8))
    let expected = ReplayError(error.column == nil ? .notRecordable : .invalidLine, path: "<bytes>", line: error.line,
                               column: error.column, reason: error.reason)
    #expect(throws: expected) { try record(source) }
    // The replay stays stopped at the error.
    #expect(throws: expected) { try source.advance() }
}

@Test func errorsDescribeThemselves() {
    #expect(ReplayError(.invalidLine, path: "a.jsonl", line: 3, column: 7, reason: "bad").description == "a.jsonl: line 3, column 7: bad")
    #expect(ReplayError(.notRecordable, path: "a.jsonl", line: 3, reason: "bad").description == "a.jsonl: line 3: bad")
    #expect(ReplayError(.cannotOpen, path: "a.jsonl", line: 0, reason: "cannot open").description == "a.jsonl: cannot open")
}

@Test func missingFileIsAnErrorNamingThePath() {
    let path = "/nonexistent/replay-source-tests/missing.jsonl"
    do {
        _ = try ReplaySource(path: path)
        Issue.record("opened a missing file")
    } catch {
        #expect(error.path == path)
        #expect(error.line == 0)
        #expect(error.description.hasPrefix(path + ": cannot open"))
    }
}

@Test(arguments: [
    (good + "\n" + good, 29, nil as Int?),
    (good + "\n" + good, 28, 1 as Int?),
    (good + "\n" + good + "x", 29, 2 as Int?),
    ("\n\n" + good, 28, 3 as Int?),
] as [(String, Int, Int?)])
func linesLongerThanTheLimitAreErrors(_ testCase: (input: String, limit: Int, failingLine: Int?)) throws {
    let (input, limit, failingLine) = testCase
    let source = ReplaySource(bytes: Array(input.utf8), maxLineBytes: limit)
    if let failingLine {
        #expect(throws: ReplayError(.lineTooLong, path: "<bytes>", line: failingLine, reason: "line longer than \(limit) bytes")) {
            try record(source)
        }
    } else {
        #expect(try record(source).readings.count == 4)
    }
}

@Test func longLinesInAFileAreLimitedToo() throws {
    let file = TemporaryFile()
    defer { file.remove() }
    var chunks = [Array((good + "\n").utf8), Array((good + "\n" + good + " ").utf8), Array("\n".utf8)].makeIterator()
    file.write { chunks.next() }
    #expect(throws: ReplayError(.lineTooLong, path: file.path, line: 3, reason: "line longer than 29 bytes")) {
        try record(ReplaySource(path: file.path, maxLineBytes: 29))
    }
}

// MARK: - Streaming

@Test func linesLongerThanTheReadBufferRoundTrip() throws {
    // About 330 KB in one line, several times the 64 KiB read chunk.
    let padding = String(repeating: "x", count: 280)
    let wide = Event(time: 1, duration: 1, counts: (0..<1000).map {
        LabelCounts(label: Label("label-\($0)-\(padding)"), tx: UInt64($0) + 1, rx: UInt64.max - UInt64($0))
    }.sorted { $0.label < $1.label })
    let input = lines([wide, event(2, 1, [("label-5-" + padding, 1, 1)]), wide])
    let file = TemporaryFile()
    defer { file.remove() }
    var chunks = [input].makeIterator()
    file.write { chunks.next() }
    let simulator = try record(ReplaySource(path: file.path), keepHistory: false)
    #expect(simulator.output == input)
}

@Test func manyLinesStreamFromAFile() throws {
    let total = 100_000
    let file = TemporaryFile()
    defer { file.remove() }
    var written = 0
    file.write {
        guard written < total else { return nil }
        var chunk: [UInt8] = []
        for index in written..<min(written + 1000, total) {
            let labels = [("8", UInt64(index % 977) + 1, UInt64(index)), ("wlan\(index % 7)", 1, 0)]
            let time = 1_764_288_238_020 + Int64(index) * 100 + Int64(index % 3)
            chunk += CanonicalJSON.line(for: event(time, 100, cellular: index % 5 == 0, labels))
        }
        written = min(written + 1000, total)
        return chunk
    }
    let source = try ReplaySource(path: file.path)
    var snapshot = CounterSnapshot()
    var polls = 0
    var last = ClockReading(wallMilliseconds: 0, monotonicMilliseconds: 0)
    while let reading = try source.advance() {
        #expect(reading.monotonicMilliseconds >= last.monotonicMilliseconds)
        last = reading
        source.read(into: &snapshot)
        polls += 1
    }
    #expect(source.eventsRead == total)
    #expect(polls > total)
    #expect(snapshot.count == 8)
}
