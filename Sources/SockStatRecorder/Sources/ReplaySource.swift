#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import SockStatStore
import SystemPackage

/// Why a replay could not go on, and where.
public struct ReplayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What stopped the replay.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The input could not be opened.
        public static let cannotOpen = Code("cannot open")
        /// The input could not be read.
        public static let cannotRead = Code("cannot read")
        /// A line is longer than the limit.
        public static let lineTooLong = Code("line too long")
        /// A line is not an event the parser accepts (its column is given).
        public static let invalidLine = Code("invalid line")
        /// A line no recorder could have written (negative `d`, no labels,
        /// a label with no change).
        public static let notRecordable = Code("not recordable")

        public var description: String { name }
    }

    /// What stopped the replay.
    public var code: Code
    /// The input as named to the user: the file's path, `<stdin>` or `<bytes>`.
    public var path: String
    /// The 1-based line number, or 0 when the error is not about a line
    /// (the file could not be opened).
    public var line: Int
    /// The 1-based byte column, for JSON syntax errors.
    public var column: Int?
    /// A short lowercase explanation.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, path: String, line: Int, column: Int? = nil, reason: String) {
        self.code = code
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// "PATH: line N, column C: reason", "PATH: line N: reason", or
    /// "PATH: reason" when no line applies.
    public var description: String {
        if line == 0 {
            return "\(path): \(reason)"
        }
        if let column {
            return "\(path): line \(line), column \(column): \(reason)"
        }
        return "\(path): line \(line): \(reason)"
    }
}

/// Replays JSON-lines events as cumulative counters on a virtual clock, so
/// that recording the replay reproduces the events exactly.
///
/// Drive it with `advance()`, which returns the clock reading of the next
/// poll, then let the recorder poll (`read(into:)`). The schedule, for events
/// e1…en in input order:
/// - a baseline poll at wall e1.t, monotonic 0, with no labels;
/// - per event eᵢ, a start poll at wall tᵢ (the previous end poll serves when
///   its wall is already tᵢ and no label must be removed), whose monotonic
///   time advances by the wall gap when positive; labels whose counters would
///   overflow UInt64 are absent from it, so the recorder forgets them;
/// - an end poll at wall tᵢ + dᵢ, monotonic start + dᵢ, where every label of
///   eᵢ has grown by its delta and `isCellular` is eᵢ's.
/// Labels stay present at their cumulative values between events, so the
/// recorder sees no change for them.
///
/// It streams: memory is one line plus the cumulative counters per label.
/// Lines no recorder could have written (negative `d`, no labels, a label
/// with no change) are errors.
public final class ReplaySource: CounterSource {
    /// The longest line accepted by default: 64 MiB.
    public static let defaultMaxLineBytes = JSONLinesReader.defaultMaxLineBytes

    /// Everything mutable, behind the mutex: `CounterSource` must be
    /// `Sendable`, though a replay is normally driven from one thread.
    private let state: Lock<ReplayState>
    /// This source's mark on the snapshots it fills.
    private let identity = LabelsMark.nextIdentity()

    /// Opens a JSON-lines file ("-" = standard input).
    ///
    /// - Parameter path: the file to replay, or "-" for standard input.
    /// - Throws: `ReplayError` when the file cannot be opened.
    public convenience init(path: String) throws(ReplayError) {
        try self.init(path: path, maxLineBytes: Self.defaultMaxLineBytes)
    }

    /// Opens a JSON-lines file with a custom line-length limit (tests).
    init(path: String, maxLineBytes: Int) throws(ReplayError) {
        let reader: JSONLinesReader
        let name: String
        if path == "-" {
            name = "<stdin>"
            reader = JSONLinesReader(fileDescriptor: .standardInput, closes: false, maxLineBytes: maxLineBytes)
        } else {
            name = path
            do {
                let fd = try FileDescriptor.open(FilePath(path), .readOnly)
                reader = JSONLinesReader(fileDescriptor: fd, closes: true, maxLineBytes: maxLineBytes)
            } catch {
                throw ReplayError(.cannotOpen, path: path, line: 0, reason: "cannot open: \(error)")
            }
        }
        state = Lock(ReplayState(name: name, reader: reader))
    }

    /// Replays the given bytes: a whole JSON-lines text.
    ///
    /// - Parameter bytes: the lines, "\n"-separated.
    public convenience init(bytes: [UInt8]) {
        self.init(bytes: bytes, maxLineBytes: Self.defaultMaxLineBytes)
    }

    /// Replays the given bytes with a custom line-length limit (tests).
    init(bytes: [UInt8], maxLineBytes: Int) {
        state = Lock(ReplayState(name: "<bytes>", reader: JSONLinesReader(bytes: bytes, maxLineBytes: maxLineBytes)))
    }

    deinit {
        state.withLock { $0.reader.close() }
    }

    /// Moves to the next poll of the schedule and returns its reading.
    ///
    /// The first call returns the baseline poll. After an error, every later
    /// call throws the same error.
    ///
    /// - Returns: the poll's clock reading, or nil when the input is
    ///   exhausted (after the last event's end poll, or at once for an input
    ///   with no events).
    /// - Throws: `ReplayError` for a line that cannot be read, parsed or
    ///   recorded.
    public func advance() throws(ReplayError) -> ClockReading? {
        try state.withLock { (state: inout ReplayState) throws(ReplayError) -> ClockReading? in
            try state.advance()
        }
    }

    /// Replaces `snapshot` with the cumulative counters at the current poll,
    /// labels in order of first appearance.
    public func read(into snapshot: inout CounterSnapshot) {
        state.withLock { state in
            let current = LabelsMark(source: identity, version: state.labelsVersion)
            if snapshot.labelsMark == current {
                // The labels present are the ones this snapshot holds: copy
                // counters only, through pointers (a few million a replay).
                state.present.withUnsafeBufferPointer { present in
                    state.tx.withUnsafeBufferPointer { sourceTX in
                        state.rx.withUnsafeBufferPointer { sourceRX in
                            snapshot.withCounters { tx, rx in
                                var position = 0
                                // The mark promises `position` stays below the count; the
                                // guard keeps a broken promise from writing past it.
                                for index in present.indices where present[index] {
                                    guard position < tx.count else { break }
                                    tx[position] = sourceTX[index]
                                    rx[position] = sourceRX[index]
                                    position += 1
                                }
                            }
                        }
                    }
                }
            } else {
                snapshot.removeAll()
                for index in state.labels.indices where state.present[index] {
                    snapshot.append(state.labels[index], tx: state.tx[index], rx: state.rx[index])
                }
                snapshot.labelsMark = current
            }
            snapshot.isCellular = state.isCellular
        }
    }

    /// Events read so far.
    public var eventsRead: Int {
        state.withLock { $0.eventsRead }
    }
}

/// Where the schedule stands.
private enum Phase {
    /// Nothing returned yet; the next poll is the baseline.
    case notStarted
    /// A start poll was returned; the next poll is the end poll of the
    /// current event.
    case started
    /// An end poll was returned; the next poll belongs to the next event.
    case ended
    /// The input is exhausted.
    case finished
    /// The replay stopped at `ReplayState.failure`.
    case failed
}

/// The replay's clock, counters and input.
private struct ReplayState: Sendable {
    let name: String
    var reader: JSONLinesReader
    var parser = JSONLinesParser()
    /// The event being replayed; its storage is reused for every line.
    var event = Event(time: 0, duration: 0, counts: [])
    var phase = Phase.notStarted
    /// Why the replay stopped, once it has. Kept beside the phase, not in
    /// it: a phase with a payload is copied at every poll.
    var failure: ReplayError?
    var clock = ClockReading(wallMilliseconds: 0, monotonicMilliseconds: 0)
    var isCellular = false
    var eventsRead = 0
    /// Every label seen, in order of first appearance, with its cumulative
    /// counters; `present` is false while a removed label awaits its end poll.
    var labels: [Label] = []
    var tx: [UInt64] = []
    var rx: [UInt64] = []
    var present: [Bool] = []
    /// Bumped whenever a label is added or becomes present or absent.
    var labelsVersion = 0
    var positions: [Label: Int] = [:]
    /// Reused per event: positions of its labels, and which must be removed.
    var eventPositions: [Int] = []

    init(name: String, reader: JSONLinesReader) {
        self.name = name
        self.reader = reader
    }

    mutating func advance() throws(ReplayError) -> ClockReading? {
        do {
            return try step()
        } catch {
            phase = .failed
            failure = error
            throw error
        }
    }

    private mutating func step() throws(ReplayError) -> ClockReading? {
        switch phase {
        case .failed:
            if let failure { throw failure }
            return nil
        case .finished:
            return nil
        case .notStarted:
            guard try nextEvent() else {
                phase = .finished
                return nil
            }
            // The baseline is the first event's start poll.
            clock = ClockReading(wallMilliseconds: event.time, monotonicMilliseconds: 0)
            isCellular = false
            locate()
            phase = .started
            return clock
        case .started:
            return end()
        case .ended:
            guard try nextEvent() else {
                phase = .finished
                return nil
            }
            locate()
            // Loops here go by index: iterating the counts would copy (retain
            // and release) each label.
            var mustRemove = false
            for index in event.counts.indices where overflows(index) {
                mustRemove = true
                break
            }
            guard event.time != clock.wallMilliseconds || mustRemove else {
                // The previous end poll already stands at tᵢ: it is the start poll.
                return end()
            }
            // The monotonic clock follows a forward wall gap; it cannot go back.
            let (gap, overflow) = event.time.subtractingReportingOverflow(clock.wallMilliseconds)
            let advance: UInt64 = !overflow && gap > 0 ? UInt64(gap) : 0
            clock = ClockReading(
                wallMilliseconds: event.time,
                monotonicMilliseconds: clock.monotonicMilliseconds &+ advance
            )
            // Absent, not reset to zero: a drop from a small value could look
            // like a 32-bit wrap to the recorder. Absent labels count from zero.
            for index in event.counts.indices where overflows(index) {
                let position = eventPositions[index]
                labelsVersion += 1
                present[position] = false
                tx[position] = 0
                rx[position] = 0
            }
            phase = .started
            return clock
        }
    }

    /// Whether adding the event's `index`th counts to its label overflows UInt64.
    private func overflows(_ index: Int) -> Bool {
        let position = eventPositions[index]
        return tx[position].addingReportingOverflow(event.counts[index].tx).overflow
            || rx[position].addingReportingOverflow(event.counts[index].rx).overflow
    }

    /// Fills `eventPositions` with the positions of the event's labels,
    /// adding labels not seen before (absent until their end poll).
    private mutating func locate() {
        eventPositions.removeAll(keepingCapacity: true)
        for index in event.counts.indices {
            if let position = position(of: event.counts[index].label) {
                eventPositions.append(position)
            } else {
                let label = event.counts[index].label
                let position = labels.count
                positions[label] = position
                labels.append(label)
                tx.append(0)
                rx.append(0)
                present.append(false)
                eventPositions.append(position)
            }
        }
    }

    /// Where `label` is kept: a few labels are found by comparing (the
    /// parser hands out the same label storage, so most compare at once),
    /// many by hashing.
    private func position(of label: Label) -> Int? {
        if labels.count <= 16 {
            return labels.firstIndex(of: label)
        }
        return positions[label]
    }

    /// The end poll of the current event, whose labels were located and
    /// whose start poll is the current one.
    private mutating func end() -> ClockReading {
        for index in event.counts.indices {
            let position = eventPositions[index]
            // Cannot overflow: the start poll removed labels that would.
            tx[position] += event.counts[index].tx
            rx[position] += event.counts[index].rx
            if !present[position] {
                labelsVersion += 1
                present[position] = true
            }
        }
        isCellular = event.isCellular
        // d ≥ 0 was checked, so the conversion is exact.
        clock = ClockReading(
            wallMilliseconds: event.time &+ event.duration,
            monotonicMilliseconds: clock.monotonicMilliseconds &+ UInt64(event.duration)
        )
        phase = .ended
        return clock
    }

    /// Reads the next event into `event`, blank lines skipped, checked to
    /// be recordable; false at the end of the input.
    private mutating func nextEvent() throws(ReplayError) -> Bool {
        while true {
            let found: Bool
            do throws(JSONLinesReadError) {
                guard let parsed = try reader.next(parsingWith: &parser, into: &event) else { return false }
                found = parsed
            } catch {
                if let json = error.parseError {
                    throw ReplayError(.invalidLine, path: name, line: json.line, column: json.column, reason: json.reason)
                }
                if error.code == .lineTooLong {
                    throw ReplayError(.lineTooLong, path: name, line: error.line, reason: "line \(error.reason)")
                }
                throw ReplayError(.cannotRead, path: name, line: error.line, reason: error.reason)
            }
            guard found else { continue }
            let line = reader.lineNumber
            guard event.duration >= 0 else {
                throw ReplayError(.notRecordable, path: name, line: line, reason: "negative d cannot be recorded: the recorder's d comes from a monotonic clock")
            }
            guard !event.counts.isEmpty else {
                throw ReplayError(.notRecordable, path: name, line: line, reason: "an event with no labels is never recorded")
            }
            guard !event.counts.contains(where: { $0.tx == 0 && $0.rx == 0 }) else {
                throw ReplayError(.notRecordable, path: name, line: line, reason: "a label with no change is never recorded")
            }
            eventsRead += 1
            return true
        }
    }
}
