// The properties the libFuzzer targets check, in one file compiled twice:
// here, so that `FuzzRegressionTests` replays kept inputs in CI, and in the
// Fuzz package through the symlink Fuzz/Sources/FuzzChecks/FuzzChecks.swift
// (the main package's tests cannot depend on the Fuzz package).
// It uses only public API; a check that fails throws `FuzzCheckFailure`
// (the fuzz targets trap on it, the tests report it). A trap inside the
// product code is a finding in itself.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import SockStatRecorder
import SockStatStore

/// A property that must hold for every input did not.
public struct FuzzCheckFailure: Error, CustomStringConvertible {
    public var description: String
}

@inline(__always)
private func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw FuzzCheckFailure(description: message()) }
}

/// The event with its counts in canonical (bytewise label) order, as every
/// decoder and the parser's round trip give it back.
private func canonical(_ event: Event) -> Event {
    var event = event
    event.counts.sort { $0.label < $1.label }
    return event
}

private func jsonLines(_ events: [Event]) -> [UInt8] {
    var out: [UInt8] = []
    for event in events { CanonicalJSON.append(event, to: &out) }
    return out
}

/// An `OutputBuffer` whose sink collects into an array.
private final class CollectedOutput {
    var bytes: [UInt8] = []
    lazy var buffer = OutputBuffer(capacity: 1 << 16) { [unowned self] chunk in self.bytes.append(contentsOf: chunk) }

    func finish() throws -> [UInt8] {
        do { try buffer.flush() } catch { throw FuzzCheckFailure(description: "flush into an array threw \(error)") }
        return bytes
    }
}

// MARK: - Segment reader

/// Checks for arbitrary bytes read as a segment file.
///
/// A class that keeps its decoders and compressor between inputs: each holds
/// tables of a few hundred KiB whose setup would otherwise dominate a fuzz
/// run. Keeping them is also what `sockstat-convert decode` does from one
/// segment to the next, and the checks compare against separate instances.
public final class SegmentReaderChecks {
    private var readDecoder = BlockDecoder()
    private var readBlock = DecodedBlock()
    private var readWriter = CanonicalJSONBlockWriter()
    private var payloadDecoder = BlockDecoder()
    private var payloadBlock = DecodedBlock()
    private var payloadWriter = CanonicalJSONBlockWriter()
    private var reencodeDecoder = BlockDecoder()
    private var reencodeBlock = DecodedBlock()
    private var rangeWriter = CanonicalJSONBlockWriter()
    private var storeDecoder = SegmentJSONDecoder()
    private var sequenceDecoder = SegmentJSONDecoder()
    private let deflater = Deflater()
    private let inflater = Inflater()

    public init() {}

    /// Runs `bytes` through everything a reader does, three ways:
    /// 1. as one segment file, step by step with `SegmentReader` and through
    ///    `SegmentJSONDecoder` (what `sockstat-convert decode` runs);
    /// 2. cut before every segment magic, as a sequence of segments through
    ///    one shared `SegmentJSONDecoder`, as decode reads a directory;
    /// 3. as an uncompressed block payload, framed twice after a valid header,
    ///    so the fuzzer reaches the payload grammar without forging CRCs.
    public func check(_ bytes: [UInt8]) throws {
        let whole = try read(bytes)
        try compareWithStoreDecoder(bytes, whole, decoder: &storeDecoder)
        try checkSegmentsInSequence(bytes)
        try checkAsPayload(bytes)
    }

    /// What a step-by-step read of one segment found.
    struct Outcome {
        var openError: SegmentError?
        var header: SegmentHeader?
        var json: [UInt8] = []
        var events = 0
        var damage: [Damage] = []
        var tornTail = 0
        var zeroFilledTail = false
        /// Block events in order, for the payload checks.
        var blocks: [[Event]] = []
    }

    /// Reads `bytes` to the end, checking each step:
    /// - the header, blocks, damage regions and torn tail partition the file
    ///   in order (so regions are within the file and never overlap);
    /// - block indexes strictly increase, every block has the segment's sequence;
    /// - the read ends within one step per byte, and stays ended;
    /// - every block passes `checkBlock`.
    func read(_ bytes: [UInt8], checkingEvents: Bool = true) throws -> Outcome {
        var outcome = Outcome()
        var reader: SegmentReader
        do {
            reader = try SegmentReader(bytes: bytes)
        } catch {
            outcome.openError = error
            try require(error.offset >= 0 && error.offset <= bytes.count, "open error offset \(error.offset) outside \(bytes.count) bytes")
            try require(!bytes.isEmpty || error.code == .notASegment, "empty input gave \(error.code)")
            return outcome
        }
        outcome.header = reader.header
        try require(reader.bytes == bytes, "reader holds other bytes than given")

        // Where the next region must start.
        var position = 0
        if reader.header != nil {
            let parsed = try? bytes.withUnsafeBytes { try SegmentHeader.parse($0) }
            guard case .valid(let header, let length) = parsed else {
                throw FuzzCheckFailure(description: "reader has a header that SegmentHeader.parse does not find valid")
            }
            try require(header == reader.header, "reader header differs from parsed header")
            position = length
        }

        var sequence = reader.header?.sequence
        var lastBlockIndex: UInt64?
        var steps = 0
        reading: while true {
            steps += 1
            try require(steps <= bytes.count + 2, "no end after \(steps) steps over \(bytes.count) bytes")
            switch reader.next(into: &readBlock, using: &readDecoder) {
            case .block(let offset):
                let block = readBlock
                try require(offset == position, "block at \(offset), expected the next region at \(position)")
                try require(offset + BlockFrame.headerSize <= bytes.count, "block at \(offset) has no room for its frame header")
                try require(Array(bytes[offset..<(offset + 4)]) == BlockFrame.marker, "block at \(offset) has no marker")
                let storedLength = Int(UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8
                                       | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7]) << 24)
                let end = offset + BlockFrame.headerSize + storedLength
                try require(storedLength >= 1 && end <= bytes.count, "block at \(offset) of \(storedLength) stored bytes runs past \(bytes.count)")
                position = end
                if let last = lastBlockIndex {
                    try require(block.blockIndex > last, "block \(block.blockIndex) at \(offset) after block \(last): out of order")
                }
                lastBlockIndex = block.blockIndex
                if let sequence {
                    try require(block.segmentSequence == sequence, "block at \(offset) of segment \(block.segmentSequence) in segment \(sequence)")
                }
                sequence = block.segmentSequence
                let events = try checkBlock(block, writer: &readWriter, into: &outcome.json, checkingEvents: checkingEvents)
                outcome.events += events.count
                outcome.blocks.append(events)
            case .damage(let damage):
                try require(damage.offset == position, "damage at \(damage.offset), expected the next region at \(position)")
                try require(damage.length > 0, "empty damage region at \(damage.offset)")
                try require(damage.offset + damage.length <= bytes.count, "damage \(damage.offset)+\(damage.length) past \(bytes.count) bytes")
                try require(!damage.reason.isEmpty, "damage at \(damage.offset) without a reason")
                position = damage.offset + damage.length
                outcome.damage.append(damage)
            case .end(let tornTail):
                try require(tornTail >= 0 && position + tornTail == bytes.count,
                            "end with a torn tail of \(tornTail) bytes at \(position) of \(bytes.count)")
                let tail = bytes[position...]
                if reader.zeroFilledTail {
                    try require(tornTail > 0 && tail.allSatisfy { $0 == 0 }, "zero-filled tail of \(tornTail) bytes is not zeros")
                } else if tornTail > 0 {
                    // A torn write is the start of a frame: its marker, as far as it got.
                    try require(tail.prefix(4).elementsEqual(BlockFrame.marker.prefix(tail.prefix(4).count)),
                                "torn tail at \(position) does not start like a frame")
                }
                outcome.tornTail = tornTail
                outcome.zeroFilledTail = reader.zeroFilledTail
                break reading
            }
        }
        guard case .end(tornTail: 0) = reader.next(into: &readBlock, using: &readDecoder) else {
            throw FuzzCheckFailure(description: "reading after the end did not end again")
        }
        return outcome
    }

    /// Checks one decoded block and appends its JSON lines to `json`:
    /// - the block writer writes every event, byte for byte as the per-event
    ///   canonical writer does, and keeps exactly the events a range holds;
    /// - lines (of the first 8 events and the last) whose labels are valid
    ///   UTF-8 parse back to the same events (other labels lose bytes to
    ///   U+FFFD by design), and a parsed line written again is a fixed point;
    /// - the events re-encoded as a block decode to themselves.
    /// The last two only `checkingEvents`. Returns the block's events.
    func checkBlock(_ block: DecodedBlock, writer: inout CanonicalJSONBlockWriter,
                    into json: inout [UInt8], checkingEvents: Bool = true) throws -> [Event] {
        let events = block.events
        try require(events.count == block.eventCount, "events: \(events.count) of \(block.eventCount)")
        for event in events {
            try require(event.counts.count <= FormatLimits.maxLabelsPerEvent, "event with \(event.counts.count) labels")
            for (position, entry) in event.counts.enumerated() {
                try require(entry.label.bytes.count <= FormatLimits.maxLabelBytes, "label of \(entry.label.bytes.count) bytes")
                if position > 0 {
                    try require(event.counts[position - 1].label < entry.label, "event counts not in strict label order")
                }
            }
        }

        let expected = jsonLines(events)
        let output = CollectedOutput()
        let written: Int
        do { written = try writer.write(block, to: output.buffer) } catch {
            throw FuzzCheckFailure(description: "block writer threw \(error)")
        }
        let lines = try output.finish()
        try require(written == events.count, "block writer wrote \(written) of \(events.count) events")
        if lines != expected {
            let (got, want) = firstDifferingLines(lines, expected)
            throw FuzzCheckFailure(description: "block writer and CanonicalJSON disagree:\n\(got)\n\(want)")
        }
        json.append(contentsOf: lines)

        if let first = events.first, let last = events.last {
            let range = TimeRange(since: min(first.time, last.time), until: max(first.time, last.time))
            let ranged = CollectedOutput()
            let kept: Int
            do { kept = try rangeWriter.write(block, to: ranged.buffer, range: range) } catch {
                throw FuzzCheckFailure(description: "block writer threw \(error)")
            }
            let inRange = events.filter { range.contains($0.time) }
            try require(kept == inRange.count, "range kept \(kept) of \(inRange.count) events")
            try require(try ranged.finish() == jsonLines(inRange), "range output differs from the events in range")
        }

        // The caller that encoded the events itself has checked them already.
        guard checkingEvents else { return events }
        let parser = JSONLinesParser()
        // The first and last events only: a few compressed bytes can make
        // thousands of events, and the parser has its own target.
        for event in events.prefix(8) + events.suffix(events.count > 8 ? 1 : 0) {
            let line = CanonicalJSON.line(for: event)
            let parsed: Event?
            do {
                parsed = try parser.parse(Array(line.dropLast()), lineNumber: 1)
            } catch {
                try require(!event.counts.allSatisfy({ isValidUTF8($0.label.bytes) }),
                            "canonical line does not parse: \(error): \(String(decoding: line, as: UTF8.self))")
                continue
            }
            guard let parsed else { throw FuzzCheckFailure(description: "canonical line parsed as blank") }
            if event.counts.allSatisfy({ isValidUTF8($0.label.bytes) }) {
                try require(canonical(parsed) == event, "line does not parse back to its event: \(String(decoding: line, as: UTF8.self))")
            } else {
                let again = CanonicalJSON.line(for: parsed)
                let reparsed = try? parser.parse(Array(again.dropLast()), lineNumber: 1)
                try require(reparsed.map(canonical) == canonical(parsed), "parsed line written again is not a fixed point")
            }
        }

        try checkReencoding(events, sequence: block.segmentSequence)
        return events
    }

    /// The events, encoded as one block and decoded again, are themselves.
    func checkReencoding(_ events: [Event], sequence: UInt64) throws {
        guard !events.isEmpty else { return }
        var encoder = BlockEncoder(segmentSequence: sequence)
        for event in events {
            do { try encoder.append(event) } catch {
                throw FuzzCheckFailure(description: "a decoded event cannot be encoded again: \(error)")
            }
        }
        // Padding records can make a stored block longer than its events need,
        // never shorter; only a payload over the limit could not be read back.
        guard encoder.payloadByteCount <= FormatLimits.maxBlockBytes else { return }
        var frame: [UInt8] = []
        encoder.finishBlock(using: deflater, appendingTo: &frame)
        guard case .valid(let payload) = frame.withUnsafeBytes({ BlockFrame.probe($0, at: 0) }) else {
            throw FuzzCheckFailure(description: "re-encoded frame is not valid")
        }
        // Through a Result: swiftc 6.3.1 crashes in IRGen on a typed-throws
        // closure passed to the rethrowing `withUnsafeBytes`.
        let result: Result<Void, BlockError> = frame.withUnsafeBytes { raw in
            Result { () throws(BlockError) in
                try reencodeDecoder.decode(stored: UnsafeRawBufferPointer(rebasing: raw[payload]), into: &reencodeBlock)
            }
        }
        if case .failure(let error) = result {
            throw FuzzCheckFailure(description: "re-encoded block does not decode: \(error)")
        }
        let decoded = reencodeBlock.events
        try require(decoded == events, "re-encoded block decodes to other events")
    }

    /// What `SegmentJSONDecoder` wrote and reported for one segment.
    struct StoreDecoding: Equatable {
        var openError: SegmentError?
        var json: [UInt8] = []
        var damage: [Damage] = []
        var events = 0
        var damageCount = 0
        var tornTail = 0
        var zeroFilledTail = false
        var header: SegmentHeader?
    }

    func decodeWithStore(_ bytes: [UInt8], decoder: inout SegmentJSONDecoder) throws -> StoreDecoding {
        let output = CollectedOutput()
        var result = StoreDecoding()
        do {
            let outcome = try decoder.decode(bytes, to: output.buffer) { result.damage.append($0); return true }
            result.events = outcome.events
            result.damageCount = outcome.damage
            result.tornTail = outcome.tornTail
            result.zeroFilledTail = outcome.zeroFilledTail
            result.header = outcome.header
        } catch let error as SegmentError {
            result.openError = error
        } catch {
            throw FuzzCheckFailure(description: "decoder threw \(error)")
        }
        result.json = try output.finish()
        return result
    }

    /// `SegmentJSONDecoder` (the loop `sockstat-convert decode` runs) gives
    /// the same lines, damage and tail as the step-by-step read.
    func compareWithStoreDecoder(_ bytes: [UInt8], _ read: Outcome,
                                 decoder: inout SegmentJSONDecoder) throws {
        let store = try decodeWithStore(bytes, decoder: &decoder)
        try require(store.openError == read.openError, "decoder threw \(String(describing: store.openError)), the reader \(String(describing: read.openError))")
        guard read.openError == nil else { return }
        try require(store.json == read.json, "decoder output differs from the reader's")
        try require(store.events == read.events, "decoder counted \(store.events) events, the reader \(read.events)")
        try require(store.damage == read.damage && store.damageCount == read.damage.count, "decoder damage differs from the reader's")
        try require(store.tornTail == read.tornTail && store.zeroFilledTail == read.zeroFilledTail, "decoder tail differs")
        try require(store.header == read.header, "decoder header differs")
    }

    /// Cut before each later magic, the pieces decoded one after the other by
    /// one `SegmentJSONDecoder` give what each gives a fresh decoder: no state
    /// leaks from one segment to the next. (The whole input was checked step
    /// by step already; the pieces are only compared, to keep runs fast.)
    func checkSegmentsInSequence(_ bytes: [UInt8]) throws {
        let magic = SegmentHeader.magic
        var cuts: [Int] = []
        if bytes.count > magic.count {
            for start in 1...(bytes.count - magic.count) where bytes[start] == magic[0] && bytes[start..<(start + magic.count)].elementsEqual(magic) {
                cuts.append(start)
            }
        }
        guard !cuts.isEmpty else { return }
        var start = 0
        for end in cuts + [bytes.count] {
            let piece = Array(bytes[start..<end])
            var fresh = SegmentJSONDecoder()
            let alone = try decodeWithStore(piece, decoder: &fresh)
            let inSequence = try decodeWithStore(piece, decoder: &sequenceDecoder)
            try require(inSequence == alone, "segment at \(start) decodes otherwise after the segments before it")
            start = end
        }
    }

    /// `bytes` as an uncompressed payload, framed twice after a header whose
    /// sequence is the payload's own: the first copy decodes exactly as
    /// `BlockDecoder.decodePayload` says, the second is always rejected as
    /// out of order (or fails like the first).
    func checkAsPayload(_ bytes: [UInt8]) throws {
        guard bytes.count <= FormatLimits.maxBlockBytes else { return }
        var direct: [Event]?
        var unusedJSON: [UInt8] = []
        let decoded: Result<Void, BlockError> = bytes.withUnsafeBytes { raw in
            Result { () throws(BlockError) in try payloadDecoder.decodePayload(raw, into: &payloadBlock) }
        }
        if case .success = decoded {
            direct = try checkBlock(payloadBlock, writer: &payloadWriter, into: &unusedJSON)
        }

        var segment = SegmentHeader(sequence: Self.leadingVarint(bytes) ?? 0, creationTime: 0).encoded()
        var stored: [UInt8] = []
        bytes.withUnsafeBytes { deflater.compress($0, appendingTo: &stored) }
        // Our encoder, on any bytes: zlib inflates its stream back to them.
        let inflated: Result<[UInt8], DecompressionError> = stored.withUnsafeBytes { raw in
            Result { () throws(DecompressionError) in Array(try inflater.inflate(raw)) }
        }
        try require((try? inflated.get()) == bytes, "DEFLATE stream of \(bytes.count) bytes does not inflate back: \(inflated)")
        let firstFrame = segment.count
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &segment) }
        let secondFrame = segment.count
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &segment) }

        let read = try read(segment)
        try compareWithStoreDecoder(segment, read, decoder: &storeDecoder)
        try require(read.openError == nil && read.tornTail == 0, "framed payload: segment not read to a clean end")
        if let direct {
            try require(read.blocks == [direct], "framed payload decodes otherwise than decodePayload")
            try require(read.damage.map(\.offset) == [secondFrame], "duplicated block not reported exactly once: \(read.damage)")
        } else {
            try require(read.blocks.isEmpty, "framed payload decodes, decodePayload rejects it")
            try require(read.damage.map(\.offset) == [firstFrame, secondFrame], "rejected payload not reported twice: \(read.damage)")
        }
    }

    /// The payload's first varint (its segment sequence), if it has one.
    private static func leadingVarint(_ bytes: [UInt8]) -> UInt64? {
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(Varint.maxBytes).enumerated() {
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}

/// The first line where two texts differ, from each (for failure messages).
private func firstDifferingLines(_ lhs: [UInt8], _ rhs: [UInt8]) -> (String, String) {
    let left = lhs.split(separator: 0x0A, omittingEmptySubsequences: false)
    let right = rhs.split(separator: 0x0A, omittingEmptySubsequences: false)
    for index in 0..<max(left.count, right.count) {
        let one = index < left.count ? String(decoding: left[index], as: UTF8.self) : "(none)"
        let other = index < right.count ? String(decoding: right[index], as: UTF8.self) : "(none)"
        if one != other { return ("line \(index + 1): " + one, "line \(index + 1): " + other) }
    }
    return ("", "")
}

private func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

// MARK: - JSON lines

/// Checks for arbitrary bytes read as JSON lines (a class for the same
/// reason as `SegmentReaderChecks`, whose reader checks it reuses).
public final class JSONLinesChecks {
    private let segments = SegmentReaderChecks()
    private let deflater = Deflater()
    private let parser = JSONLinesParser()
    /// The parser replays and encodes use (plain lines on a fast path), kept
    /// across lines and inputs as they keep it.
    private var reusing = JSONLinesParser()
    private var reusedEvent = Event(time: 0, duration: 0, counts: [])

    public init() {}

    /// Runs `bytes`, split at "\n" as every reader splits them, through the
    /// parser, the canonical writer, the block codec and the replay source:
    /// - a parse error names the line and a column within it (or one past);
    /// - parsing into a reused event (the fast path for plain lines first)
    ///   gives the same event, or the same error, as the general parser;
    /// - a parsed event written canonically parses back to itself, and that
    ///   line is a fixed point;
    /// - the parsed events encoded into blocks decode (and write) back to
    ///   themselves: every event the parser accepts, the encoder takes;
    /// - `ReplaySource` recorded with the recorder's delta rule gives back
    ///   the events before the first line it cannot replay, and stops at
    ///   exactly that line.
    public func check(_ bytes: [UInt8]) throws {
        var events: [Event] = []
        // The events a replay records: those before the first line it cannot replay.
        var replayable: [Event] = []
        // First line a replay must stop at, with the JSON column if it is a syntax error.
        var replayStop: (line: Int, column: Int?)?
        var lineNumber = 0
        for line in Self.lines(of: bytes) {
            lineNumber += 1
            let parsed: Event?
            let failure: JSONLineError?
            do throws(JSONLineError) {
                parsed = try parser.parse(line, lineNumber: lineNumber)
                failure = nil
            } catch {
                parsed = nil
                failure = error
            }
            try checkReusingParser(line, lineNumber: lineNumber, expected: failure.map { .failure($0) } ?? .success(parsed))
            if let error = failure {
                try require(error.line == lineNumber, "error names line \(error.line), not \(lineNumber)")
                try require(error.column >= 1 && error.column <= line.count + 1, "error column \(error.column) outside a line of \(line.count) bytes")
                try require(!error.reason.isEmpty, "error without a reason")
                if replayStop == nil { replayStop = (lineNumber, error.column) }
                continue
            }
            guard let event = parsed else {
                try require(line.allSatisfy { [0x20, 0x09, 0x0D, 0x0A].contains($0) }, "line \(lineNumber) parsed as blank but is not")
                continue
            }
            try checkRoundTrip(event)
            events.append(event)
            if replayStop == nil {
                // Lines no recorder could have written stop a replay.
                if event.duration < 0 || event.counts.isEmpty || event.counts.contains(where: { $0.tx == 0 && $0.rx == 0 }) {
                    replayStop = (lineNumber, nil)
                } else {
                    replayable.append(event)
                }
            }
        }
        try checkEncoding(events)
        try checkReplay(bytes, expected: replayable, stop: replayStop)
    }

    /// "\n"-separated lines; a last line without "\n" still counts.
    static func lines(of bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if bytes.isEmpty || bytes.last == 0x0A { lines.removeLast() }
        return lines
    }

    func checkReusingParser(_ line: [UInt8], lineNumber: Int, expected: Result<Event?, JSONLineError>) throws {
        let reused: Result<Bool, JSONLineError> = line.withUnsafeBytes { bytes in
            Result { () throws(JSONLineError) -> Bool in
                try reusing.parse(bytes, lineNumber: lineNumber, into: &reusedEvent)
            }
        }
        switch (expected, reused) {
        case (.success(let event?), .success(true)):
            try require(reusedEvent == event, "line \(lineNumber): the reusing parser gives another event")
        case (.success(nil), .success(false)):
            break
        case (.failure(let error), .failure(let reusedError)):
            try require(reusedError == error, "line \(lineNumber): the reusing parser gives another error: \(reusedError)")
        default:
            throw FuzzCheckFailure(description: "line \(lineNumber): the general parser gives \(expected), the reusing one \(reused)")
        }
    }

    func checkRoundTrip(_ event: Event) throws {
        try require(event.counts.count <= FormatLimits.maxLabelsPerEvent, "parsed event with \(event.counts.count) labels")
        try require(Set(event.counts.map(\.label)).count == event.counts.count, "parsed event repeats a label")
        try require(event.counts.allSatisfy { $0.label.bytes.count <= FormatLimits.maxLabelBytes }, "parsed label over the limit")
        try require(event.counts.allSatisfy { isValidUTF8($0.label.bytes) }, "parsed label is not valid UTF-8")
        let line = CanonicalJSON.line(for: event)
        try require(line.last == 0x0A && line.dropLast().allSatisfy { $0 != 0x0A }, "canonical line is not one line")
        let reparsed: Event?
        do { reparsed = try parser.parse(Array(line.dropLast()), lineNumber: 1) } catch {
            throw FuzzCheckFailure(description: "canonical line does not parse: \(error): \(String(decoding: line, as: UTF8.self))")
        }
        try require(reparsed == canonical(event), "canonical line parses to another event: \(String(decoding: line, as: UTF8.self))")
        if let reparsed {
            try require(CanonicalJSON.line(for: reparsed) == line, "canonical line is not a fixed point")
        }
    }

    /// Encodes `events` into blocks of one segment (cut before the payload
    /// limit, as the writer cuts) and reads the segment with every reader check.
    func checkEncoding(_ events: [Event]) throws {
        guard !events.isEmpty else { return }
        let sequence: UInt64 = 1
        var segment = SegmentHeader(sequence: sequence, creationTime: 0).encoded()
        var encoder = BlockEncoder(segmentSequence: sequence)
        var encoded: [Event] = []
        for event in events {
            if encoder.eventCount > 0, encoder.payloadByteCount + BlockEncoder.payloadBound(of: event) > FormatLimits.maxBlockBytes {
                encoder.finishBlock(using: deflater, appendingTo: &segment)
            }
            do { try encoder.append(event) } catch {
                // A full dictionary asks for a new segment; stop there (only
                // inputs with over 65,536 labels get this far).
                guard error.needsNewSegment else {
                    throw FuzzCheckFailure(description: "the parser accepts an event the encoder rejects: \(error)")
                }
                break
            }
            encoded.append(canonical(event))
        }
        encoder.finishBlock(using: deflater, appendingTo: &segment)
        let read = try segments.read(segment, checkingEvents: false)
        try require(read.openError == nil && read.damage.isEmpty && read.tornTail == 0, "encoded segment reads with damage: \(read.damage)")
        try require(read.blocks.flatMap { $0 } == encoded, "encoded events decode to others")
        try require(read.json == jsonLines(encoded), "decoded JSON differs from the canonical lines")
    }

    /// Replays `bytes` through the recorder's delta rule (what `sockstat-record
    /// --replay` records).
    func checkReplay(_ bytes: [UInt8], expected events: [Event], stop: (line: Int, column: Int?)?) throws {
        let source = ReplaySource(bytes: bytes)
        var tracker = DeltaTracker()
        var snapshot = CounterSnapshot()
        var counts: [LabelCounts] = []
        var previous: ClockReading?
        var recorded: [Event] = []
        var failure: ReplayError?
        var polls = 0
        while true {
            polls += 1
            try require(polls <= 2 * events.count + 3, "replay of \(events.count) events still polling after \(polls) polls")
            let reading: ClockReading?
            do { reading = try source.advance() } catch {
                failure = error
                break
            }
            guard let reading else { break }
            source.read(into: &snapshot)
            try require(Set(snapshot.labels).count == snapshot.count, "replay snapshot repeats a label")
            if tracker.update(with: snapshot, into: &counts), let previous {
                let elapsed = Int64(bitPattern: reading.monotonicMilliseconds &- previous.monotonicMilliseconds)
                recorded.append(Event(time: previous.wallMilliseconds, duration: max(elapsed, 0),
                                      isCellular: snapshot.isCellular, counts: counts))
            }
            previous = reading
        }
        try require(tracker.resets == 0 && tracker.wraps == 0, "replay made counters go backwards")
        if let stop {
            guard let failure else {
                throw FuzzCheckFailure(description: "replay did not stop at line \(stop.line)")
            }
            try require(failure.line == stop.line && failure.column == stop.column,
                        "replay stopped at line \(failure.line), column \(String(describing: failure.column)): expected line \(stop.line), column \(String(describing: stop.column))")
        } else {
            try require(failure == nil, "replay failed: \(String(describing: failure))")
        }
        try require(recorded == events.map(canonical), "replay recorded other events than the lines before line \(stop?.line ?? 0)")
    }
}

/// The whole file at `path`, or nil when it cannot be opened or read; for
/// the fuzz targets' plain runs and the tests that replay kept inputs.
func readWholeFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return ferror(file) == 0 ? bytes : nil
}
