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

/// An `OutputBuffer` whose sink collects into an array. Kept and reused
/// (`start`) by the checks: a 64 KiB buffer made and freed several times an
/// input was a measurable part of each run under address sanitizer.
private final class CollectedOutput {
    var bytes: [UInt8] = []
    lazy var buffer = OutputBuffer(capacity: 1 << 16) { [unowned self] chunk in self.bytes.append(contentsOf: chunk) }

    /// Empties the collected bytes (the buffer is empty after every `finish`).
    func start() -> OutputBuffer {
        bytes.removeAll(keepingCapacity: true)
        return buffer
    }

    func finish() throws -> [UInt8] {
        do { try buffer.flush() } catch { throw FuzzCheckFailure(description: "flush into an array threw \(error)") }
        return bytes
    }
}

/// Raw DEFLATE in stored blocks (RFC 1951 BTYPE 00): a valid stream for any
/// payload at the cost of a copy. The re-encoding checks use it for most
/// inputs, where what is checked is the payload encoding, not compression
/// (`Deflater` is checked on every input by `checkAsPayload`, and on one
/// re-encoded payload in eight, chosen by the input's hash).
final class StoredDeflate: BlockCompressor {
    /// A decompressor that refuses every stream, for timing frame finding alone.
    final class Refusing: BlockDecompressor {
        func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecompressionError) -> UnsafeRawBufferPointer {
            throw DecompressionError(.corrupt, "not inflated")
        }
    }

    func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        var start = 0
        repeat {
            let count = min(input.count - start, 0xFFFF)
            let isLast = start + count == input.count
            output.append(isLast ? 1 : 0)
            output.append(UInt8(count & 0xFF))
            output.append(UInt8(count >> 8))
            output.append(UInt8(~count & 0xFF))
            output.append(UInt8((~count >> 8) & 0xFF))
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<(start + count)]))
            start += count
        } while start < input.count
    }
}

/// FNV-1a of the input: picks, the same way every time an input is replayed,
/// which inputs get the checks that are sampled for speed.
func inputHash(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}

private func littleEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

private func storeLittleEndian(_ value: UInt32, in bytes: inout [UInt8], at offset: Int) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
}

/// Thread CPU time in nanoseconds (not wall time: the other core's load
/// does not count).
private func threadCPUNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
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
    private let capInflater = Inflater()
    private let storedDeflate = StoredDeflate()
    private let parser = JSONLinesParser()
    private let blockOutput = CollectedOutput()
    private let rangeOutput = CollectedOutput()
    private let storeOutput = CollectedOutput()
    /// Whether this input's re-encoded blocks are compressed by `Deflater`
    /// (one input in eight) rather than stored.
    private var reencodeWithDeflater = true
    /// A valid block in a frame, decoded into `payloadBlock` before each
    /// payload decode so that a failed decode has something to leave behind.
    private lazy var primer: (frame: [UInt8], stored: Range<Int>) = {
        var encoder = BlockEncoder(segmentSequence: 1)
        try? encoder.append(Event(time: 1, duration: 1, counts: [LabelCounts(label: Label("primer"), tx: 1, rx: 2)]))
        var frame: [UInt8] = []
        encoder.finishBlock(using: storedDeflate, appendingTo: &frame)
        guard case .valid(let stored) = frame.withUnsafeBytes({ BlockFrame.probe($0, at: 0) }) else { fatalError("primer frame is not valid") }
        return (frame, stored)
    }()

    public init() {}

    /// Runs `bytes` through everything a reader does, three ways:
    /// 1. as one segment file, step by step with `SegmentReader` and through
    ///    `SegmentJSONDecoder` (what `sockstat-convert decode` runs);
    /// 2. cut before every segment magic, as a sequence of segments through
    ///    one shared `SegmentJSONDecoder`, as decode reads a directory;
    /// 3. as an uncompressed block payload, framed twice after a valid header,
    ///    so the fuzzer reaches the payload grammar without forging CRCs.
    /// 4. with every frame header's checks made to hold (`checkWithFramesRepaired`),
    ///    so the fuzzer reaches what lies behind a CRC: forged headers, and
    ///    DEFLATE streams it mutated;
    /// and, for one input in 1,024, that reading is linear (`checkLinearWork`).
    public func check(_ bytes: [UInt8]) throws {
        let hash = inputHash(bytes)
        reencodeWithDeflater = hash % 8 == 0
        if payloadsWithinCap(bytes) {
            let whole = try read(bytes)
            try compareWithStoreDecoder(bytes, whole, decoder: &storeDecoder)
            try checkSegmentsInSequence(bytes, withFreshDecoder: (hash >> 8) % 4 == 0)
        }
        try checkWithFramesRepaired(bytes)
        try checkAsPayload(bytes, framingRejected: (hash >> 16) % 2 == 0)
        if (hash >> 32) % 1024 == 0 { try checkLinearWork(bytes) }
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
    /// - the read ends within two steps per marker in the bytes (each block
    ///   and each region skipped to a block starts at one), and stays ended;
    /// - each region is what Spec/FORMAT.md 10.1 says, checked against
    ///   `FrameOracle` (section 5 alone, a plain CRC of every candidate,
    ///   where the reader uses range CRCs): a block's frame is valid; skipped bytes that end
    ///   before the file end where a valid frame starts and hold none; a
    ///   region skipped to the end, and a torn tail, hold no valid frame; a
    ///   torn tail is "incomplete" (marker as far as present, length in
    ///   range once present, header check holding once all 16 header bytes
    ///   are, frame running past the end) or zeros, and damage to the end is
    ///   neither; a block that does not decode leaves `DecodedBlock` empty;
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
        let stepLimit = 2 * Self.markerCount(bytes) + 3
        var oracle = FrameOracle(bytes)
        reading: while true {
            steps += 1
            try require(steps <= stepLimit, "no end after \(steps) steps over \(bytes.count) bytes with \(stepLimit / 2 - 1) markers")
            switch reader.next(into: &readBlock, using: &readDecoder) {
            case .block(let offset):
                let block = readBlock
                try require(offset == position, "block at \(offset), expected the next region at \(position)")
                try require(oracle.isValid(at: offset), "block at \(offset) where BlockFrame.probe finds no valid frame")
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
                if reader.header == nil && damage.offset == 0 && outcome.damage.count == 1 {
                    // The damaged header's fixed fields: not a frame search.
                } else if oracle.validFrameEnd(at: damage.offset) == position {
                    // A valid frame whose block was refused: a decode that
                    // failed leaves the block empty (sequence and order are
                    // judged after a decode that worked).
                    if !damage.reason.hasPrefix("block belongs to segment") && !damage.reason.hasSuffix("(moved or duplicated)") {
                        try require(readBlock.eventCount == 0 && readBlock.labelCount == 0,
                                    "block at \(damage.offset) failed (\(damage.reason)) but holds \(readBlock.eventCount) events, \(readBlock.labelCount) labels")
                    }
                } else {
                    try require(oracle.validFrameEnd(at: damage.offset, budgeted: true) == nil, "damage at \(damage.offset) is a valid frame")
                    if let next = oracle.firstValid(in: (damage.offset + 1)..<position) {
                        throw FuzzCheckFailure(description: "damage \(damage.offset)+\(damage.length) hides a valid frame at \(next)")
                    }
                    if position < bytes.count {
                        try require(oracle.isValid(at: position), "damage \(damage.offset)+\(damage.length) ends where no valid frame starts")
                    } else {
                        try require(!Self.isIncompleteFrame(bytes[damage.offset...]), "damage to the end at \(damage.offset) is an incomplete frame: a torn tail")
                        try require(!bytes[damage.offset...].allSatisfy { $0 == 0 }, "damage to the end at \(damage.offset) is zeros: a torn tail")
                    }
                }
            case .end(let tornTail):
                try require(tornTail >= 0 && position + tornTail == bytes.count,
                            "end with a torn tail of \(tornTail) bytes at \(position) of \(bytes.count)")
                let tail = bytes[position...]
                if reader.zeroFilledTail {
                    try require(tornTail > 0 && tail.allSatisfy { $0 == 0 }, "zero-filled tail of \(tornTail) bytes is not zeros")
                } else if tornTail > 0 {
                    // A torn write is the start of a frame (FORMAT.md 10.1 "incomplete").
                    try require(tail.prefix(4).elementsEqual(BlockFrame.marker.prefix(tail.prefix(4).count)),
                                "torn tail at \(position) does not start like a frame")
                    try require(Self.isIncompleteFrame(tail), "torn tail at \(position) of \(tornTail) bytes is not an incomplete frame")
                    if let next = oracle.firstValid(in: (position + 1)..<bytes.count) {
                        throw FuzzCheckFailure(description: "torn tail at \(position) hides a valid frame at \(next)")
                    }
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

        // Every event's canonical line, and where each ends, for the range below.
        var expected: [UInt8] = []
        var lineEnds: [Int] = []
        lineEnds.reserveCapacity(events.count)
        for event in events {
            CanonicalJSON.append(event, to: &expected)
            lineEnds.append(expected.count)
        }
        let written: Int
        do { written = try writer.write(block, to: blockOutput.start()) } catch {
            throw FuzzCheckFailure(description: "block writer threw \(error)")
        }
        let lines = try blockOutput.finish()
        try require(written == events.count, "block writer wrote \(written) of \(events.count) events")
        if lines != expected {
            let (got, want) = firstDifferingLines(lines, expected)
            throw FuzzCheckFailure(description: "block writer and CanonicalJSON disagree:\n\(got)\n\(want)")
        }
        json.append(contentsOf: lines)

        if let first = events.first, let last = events.last {
            let range = TimeRange(since: min(first.time, last.time), until: max(first.time, last.time))
            let kept: Int
            do { kept = try rangeWriter.write(block, to: rangeOutput.start(), range: range) } catch {
                throw FuzzCheckFailure(description: "block writer threw \(error)")
            }
            // The lines of the events in range, cut from the lines above.
            var inRange: [UInt8] = []
            var inRangeCount = 0
            for (index, event) in events.enumerated() where range.contains(event.time) {
                inRange += expected[(index == 0 ? 0 : lineEnds[index - 1])..<lineEnds[index]]
                inRangeCount += 1
            }
            try require(kept == inRangeCount, "range kept \(kept) of \(inRangeCount) events")
            try require(try rangeOutput.finish() == inRange, "range output differs from the events in range")
        }

        // The caller that encoded the events itself has checked them already.
        guard checkingEvents else { return events }
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
        if reencodeWithDeflater {
            encoder.finishBlock(using: deflater, appendingTo: &frame)
        } else {
            encoder.finishBlock(using: storedDeflate, appendingTo: &frame)
        }
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
        let output = storeOutput
        var result = StoreDecoding()
        do {
            let outcome = try decoder.decode(bytes, to: output.start()) { result.damage.append($0); return true }
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
    /// one `SegmentJSONDecoder` (kept across inputs too) give what a fresh
    /// decoder gives: no state leaks from one segment to the next. (The
    /// whole input was checked step by step already; the pieces are only
    /// compared, to keep runs fast.) Only the last piece is compared with a
    /// fresh decoder, and that for one input in four (by hash; the fuzzer
    /// runs each input's near variants many times): making one costs a
    /// 256 KiB table, which under address sanitizer is a fresh mapping and
    /// its page faults, and was a sixth of each run. The last piece comes
    /// after all the others, so state leaked by any earlier piece (or input)
    /// reaches it; a leak that only the piece right after would show, the
    /// fuzzer shows by cutting there.
    func checkSegmentsInSequence(_ bytes: [UInt8], withFreshDecoder: Bool = true) throws {
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
            let inSequence = try decodeWithStore(piece, decoder: &sequenceDecoder)
            if end == bytes.count && withFreshDecoder {
                var fresh = SegmentJSONDecoder()
                let alone = try decodeWithStore(piece, decoder: &fresh)
                try require(inSequence == alone, "segment at \(start) decodes otherwise after the segments before it")
            }
            start = end
        }
    }

    /// `bytes` as an uncompressed payload, framed twice after a header whose
    /// sequence is the payload's own: the first copy decodes exactly as
    /// `BlockDecoder.decodePayload` says, the second is always rejected as
    /// out of order (or fails like the first). A payload that does not
    /// decode is deflated and framed only when `framingRejected` (one input
    /// in two, by hash): most such inputs are segment files, whose bytes
    /// fail as a payload in their first records.
    func checkAsPayload(_ bytes: [UInt8], framingRejected: Bool = true) throws {
        guard bytes.count <= FormatLimits.maxBlockBytes else { return }
        var direct: [Event]?
        var unusedJSON: [UInt8] = []
        if payloadBlock.eventCount == 0 {
            let primer = self.primer
            _ = primer.frame.withUnsafeBytes { raw in
                Result { () throws(BlockError) in
                    try payloadDecoder.decode(stored: UnsafeRawBufferPointer(rebasing: raw[primer.stored]), into: &payloadBlock)
                }
            }
            try require(payloadBlock.eventCount == 1, "the primer block does not decode")
        }
        let decoded: Result<Void, BlockError> = bytes.withUnsafeBytes { raw in
            Result { () throws(BlockError) in try payloadDecoder.decodePayload(raw, into: &payloadBlock) }
        }
        switch decoded {
        case .success:
            direct = try checkBlock(payloadBlock, writer: &payloadWriter, into: &unusedJSON)
        case .failure(let error):
            try require(payloadBlock.eventCount == 0 && payloadBlock.labelCount == 0,
                        "failed decode (\(error)) leaves \(payloadBlock.eventCount) events, \(payloadBlock.labelCount) labels")
            guard framingRejected else { return }
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

    /// `bytes` with each frame header made to hold, right to left (so a
    /// frame's stored CRC covers the frames repaired inside it): at every
    /// marker with 16 bytes after it, the header check is set, and when the
    /// length is in range and fits, so is the stored bytes' CRC, unless the
    /// low bit of that CRC field's first byte is set (then the header holds
    /// and the stored CRC fails: the candidates the reader must reject in
    /// constant time). Read with the frame and block checks of `read` (not
    /// the per-event round trips, which the raw and payload views make) and
    /// compared with the store's decoder. Random bytes almost never hold a
    /// CRC-32, so without this the fuzzer reaches neither forged headers nor
    /// the inflater with streams it mutated.
    func checkWithFramesRepaired(_ bytes: [UInt8]) throws {
        guard bytes.count >= BlockFrame.headerSize else { return }
        var repaired = bytes
        // Stored bytes to checksum at most: a few quadratic inputs must not slow every run.
        var budget = 16 * bytes.count
        let marker = BlockFrame.marker
        for offset in stride(from: bytes.count - BlockFrame.headerSize, through: 0, by: -1)
        where repaired[offset] == marker[0] && repaired[offset + 1] == marker[1]
            && repaired[offset + 2] == marker[2] && repaired[offset + 3] == marker[3] {
            let length = Int(littleEndianUInt32(repaired, at: offset + 4))
            let room = repaired.count - offset - BlockFrame.headerSize
            if length >= 1, length <= min(room, FormatLimits.maxStoredBlockBytes), length <= budget, repaired[offset + 8] & 1 == 0 {
                budget -= length
                let start = offset + BlockFrame.headerSize
                let crc = repaired.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                storeLittleEndian(crc, in: &repaired, at: offset + 8)
            }
            let check = repaired.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 12)])) }
            storeLittleEndian(check, in: &repaired, at: offset + 12)
        }
        guard repaired != bytes, payloadsWithinCap(repaired) else { return }
        // Every frame check; the per-event round trips are the raw and payload views'.
        let outcome = try read(repaired, checkingEvents: false)
        try compareWithStoreDecoder(repaired, outcome, decoder: &storeDecoder)
    }

    /// The most payload bytes the valid frames of one input may inflate to
    /// for the input to be read by the checks: 64 KiB.
    ///
    /// A valid block of 4 KiB can inflate to 4 MiB of two-byte events, two
    /// million of them; decoding and writing those is linear but slow under
    /// address sanitizer (17 s for one such input through all the checks, 3 s
    /// in the store's decoder alone), which is legitimate work the format
    /// allows (Spec/FORMAT.md 10.1 "Time"), not a defect, and would hide real
    /// slowness behind a long timeout. Inputs past the cap are skipped (the
    /// payload view, at most 8 KiB, is still checked); payloads that inflate
    /// past the format's 4 MiB limit fail early and count nothing, so that
    /// path stays fuzzed. Large valid blocks are the unit tests' to cover.
    static let payloadCap = 64 << 10

    /// Whether the valid frames in `bytes` (found as `FrameOracle` finds
    /// them, nested ones counted too) inflate to at most `payloadCap` bytes.
    func payloadsWithinCap(_ bytes: [UInt8]) -> Bool {
        var oracle = FrameOracle(bytes)
        var total = 0
        let first = BlockFrame.marker[0]
        for offset in bytes.indices where bytes[offset] == first {
            guard let end = oracle.validFrameEnd(at: offset, budgeted: true) else { continue }
            let stored = (offset + BlockFrame.headerSize)..<end
            let inflated: Int? = bytes.withUnsafeBytes { raw in
                try? capInflater.inflate(UnsafeRawBufferPointer(rebasing: raw[stored])).count
            }
            total += inflated ?? 0
            if total > Self.payloadCap { return false }
        }
        return true
    }

    /// Finding frames takes time linear in the segment for every input
    /// (Spec/FORMAT.md 10.1 "Time"; the reader once checksummed every
    /// candidate from scratch, seconds per MiB). The input's first 28 bytes
    /// (zero-padded) after a marker, repeated after a valid header to 32 KiB
    /// and to 256 KiB, each marker a forged frame header whose check holds
    /// and whose length claims the rest of the file: a reader that
    /// checksums each claim does 64 times the work on 8 times the bytes (a
    /// GiB for the larger), a linear one 8 times. Thread CPU time, the least
    /// of up to three tries each; the larger may take at most 24 times the
    /// smaller plus 5 ms. Run for one input in 1,024 (by hash), as it costs
    /// about what a hundred ordinary runs do.
    func checkLinearWork(_ bytes: [UInt8]) throws {
        let pattern = Array(bytes.prefix(28)) + [UInt8](repeating: 0, count: max(0, 28 - bytes.count))
        let small = Self.forgedFrames(pattern, size: 32 << 10)
        let large = Self.forgedFrames(pattern, size: 256 << 10)
        var smallTime = UInt64.max
        var largeTime = UInt64.max
        for _ in 0..<3 {
            smallTime = min(smallTime, Self.timeToRead(small))
            largeTime = min(largeTime, Self.timeToRead(large))
            if largeTime <= 24 * smallTime + 5_000_000 { return }
        }
        throw FuzzCheckFailure(description: "reading is not linear: \(large.count) bytes of forged frame headers took \(largeTime / 1000) µs, \(small.count) bytes \(smallTime / 1000) µs")
    }

    /// A valid header, then `marker + pattern` repeated to `size` bytes, each
    /// marker a frame header whose check holds, claiming the rest of the file.
    static func forgedFrames(_ pattern: [UInt8], size: Int) -> [UInt8] {
        var out = SegmentHeader(sequence: 0, creationTime: 0).encoded()
        var starts: [Int] = []
        while out.count < size {
            starts.append(out.count)
            out += BlockFrame.marker + pattern
        }
        out.removeLast(out.count - size)
        for start in starts where size - start >= BlockFrame.headerSize {
            storeLittleEndian(UInt32(min(size - start - BlockFrame.headerSize, FormatLimits.maxStoredBlockBytes)), in: &out, at: start + 4)
            let check = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + 12)])) }
            storeLittleEndian(check, in: &out, at: start + 12)
        }
        return out
    }

    /// Thread CPU time to read `bytes` to the end with a `SegmentReader`.
    static func timeToRead(_ bytes: [UInt8]) -> UInt64 {
        var decoder = BlockDecoder(decompressor: StoredDeflate.Refusing())
        var block = DecodedBlock()
        let start = threadCPUNanoseconds()
        if var reader = try? SegmentReader(bytes: bytes) {
            while true {
                if case .end = reader.next(into: &block, using: &decoder) { break }
            }
        }
        return threadCPUNanoseconds() - start
    }

    /// Occurrences of the block marker.
    static func markerCount(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 4 else { return 0 }
        let marker = BlockFrame.marker
        var count = 0
        for offset in 0...(bytes.count - 4) where bytes[offset] == marker[0] && bytes[offset + 1] == marker[1]
            && bytes[offset + 2] == marker[2] && bytes[offset + 3] == marker[3] {
            count += 1
        }
        return count
    }

    /// Whether `tail` is an "incomplete" frame (Spec/FORMAT.md 10.1): the
    /// marker matches as far as present, the length is in range once all its
    /// bytes are, the header check holds once all 16 header bytes are, and
    /// the frame runs past the end.
    static func isIncompleteFrame(_ tail: ArraySlice<UInt8>) -> Bool {
        let tail = Array(tail)
        guard tail.prefix(4).elementsEqual(BlockFrame.marker.prefix(min(4, tail.count))) else { return false }
        guard tail.count >= 8 else { return true }
        let length = Int(littleEndianUInt32(tail, at: 4))
        guard length >= 1 && length <= FormatLimits.maxStoredBlockBytes else { return false }
        guard tail.count >= BlockFrame.headerSize else { return true }
        guard CRC32.checksum(Array(tail[0..<12])) == littleEndianUInt32(tail, at: 12) else { return false }
        return BlockFrame.headerSize + length > tail.count
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

/// Valid frames by Spec/FORMAT.md section 5 alone, with a plain CRC of each
/// candidate's stored bytes: the oracle the reader's range CRCs (and its
/// constant-time header check) are compared with. Searches are budgeted (64
/// times the input in stored bytes, plus 64 KiB): past that, candidates are
/// not checked, so a file of forged headers cannot make every run slow.
struct FrameOracle {
    let bytes: [UInt8]
    private var budget: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        budget = 64 * bytes.count + (1 << 16)
    }

    /// The end of the valid frame at `offset`, or nil.
    mutating func validFrameEnd(at offset: Int, budgeted: Bool = false) -> Int? {
        let marker = BlockFrame.marker
        guard offset >= 0, bytes.count - offset >= BlockFrame.headerSize,
              bytes[offset] == marker[0], bytes[offset + 1] == marker[1],
              bytes[offset + 2] == marker[2], bytes[offset + 3] == marker[3] else { return nil }
        let length = Int(littleEndianUInt32(bytes, at: offset + 4))
        guard length >= 1, length <= FormatLimits.maxStoredBlockBytes,
              length <= bytes.count - offset - BlockFrame.headerSize else { return nil }
        let (check, stored): (UInt32, UInt32?) = bytes.withUnsafeBytes { raw in
            let check = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 12)]))
            guard check == littleEndianUInt32(bytes, at: offset + 12), !budgeted || budget >= length else { return (check, nil) }
            let start = offset + BlockFrame.headerSize
            return (check, CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])))
        }
        guard check == littleEndianUInt32(bytes, at: offset + 12), let stored else { return nil }
        if budgeted { budget -= length }
        return stored == littleEndianUInt32(bytes, at: offset + 8) ? offset + BlockFrame.headerSize + length : nil
    }

    mutating func isValid(at offset: Int) -> Bool { validFrameEnd(at: offset) != nil }

    /// The first offset in `range` where a valid frame starts (budgeted).
    mutating func firstValid(in range: Range<Int>) -> Int? {
        let first = BlockFrame.marker[0]
        for offset in range where bytes[offset] == first {
            if validFrameEnd(at: offset, budgeted: true) != nil { return offset }
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

// One fuzz run at a time uses each: mutable state, not for sharing.
@available(*, unavailable)
extension SegmentReaderChecks: Sendable {}

// MARK: - JSON lines

/// Checks for arbitrary bytes read as JSON lines (a class for the same
/// reason as `SegmentReaderChecks`, whose reader checks it reuses).
public final class JSONLinesChecks {
    private let segments = SegmentReaderChecks()
    private let deflater = Deflater()
    private let storedDeflate = StoredDeflate()
    /// Whether this input's events are compressed by `Deflater` (one input
    /// in eight) rather than stored: what is checked is that the encoder
    /// takes every event the parser accepts, not compression.
    private var encodeWithDeflater = true
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
    /// - the first four events, written with their member names in other
    ///   spellings Go's decoder takes for the same fields, parse to the same
    ///   event, and with one member given twice under two spellings are refused.
    public func check(_ bytes: [UInt8]) throws {
        let hash = inputHash(bytes)
        encodeWithDeflater = hash % 8 == 0
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
            if events.count < 4 { try checkMemberNames(event, lineNumber: lineNumber, salt: hash) }
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

    /// Spellings of each member name that Go's encoding/json matches to the
    /// field (it folds each rune to ToUpper(ToLower(r)); U+017F, long s,
    /// folds to S), as raw bytes or escapes; and names it does not match.
    static let memberSpellings: [[String]] = [
        [#"t"#, #"T"#, #"\u0074"#, #"\u0054"#],
        [#"d"#, #"D"#, #"\u0064"#, #"\u0044"#],
        [#"c"#, #"C"#, #"\u0063"#, #"\u0043"#],
        [#"s"#, #"S"#, "\u{017F}", #"\u017f"#, #"\u017F"#, #"\u0053"#],
    ]
    /// Names Go does not match to any field: longer, other letters that
    /// look alike (U+015F s-cedilla, U+0405 Cyrillic S, U+0074 U+0301),
    /// U+212A (Kelvin, folds to k), an escaped NUL after t.
    static let unknownNames = ["tt", "ss", "\u{015F}", "\u{0405}", "t\u{0301}", "\u{212A}", #"t\u0000"#, "ſſ", ""]

    /// `event` written with each member under a spelling chosen by `salt`
    /// and the line, in a rotated order, with an unknown member among them,
    /// parses to the event; given one member a second time under another
    /// spelling, the line is refused as a duplicate.
    func checkMemberNames(_ event: Event, lineNumber: Int, salt: UInt64) throws {
        let canonicalLine = CanonicalJSON.line(for: event)
        // The "s" object: after the first `,"s":`, which t, d and c cannot hold.
        let prefix = Array(#","s":"#.utf8)
        guard let at = (0...(canonicalLine.count - prefix.count)).first(where: { canonicalLine[$0..<($0 + prefix.count)].elementsEqual(prefix) }) else {
            throw FuzzCheckFailure(description: "canonical line without an s member")
        }
        let stats = String(decoding: canonicalLine[(at + prefix.count)..<(canonicalLine.count - 2)], as: UTF8.self)
        let values = [String(event.time), String(event.duration), event.isCellular ? "1" : "0", stats]
        var choice = salt ^ UInt64(lineNumber) &* 0x9E37_79B9_7F4A_7C15
        func pick(_ count: Int) -> Int {
            choice = choice &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((choice >> 33) % UInt64(count))
        }
        let names = Self.memberSpellings.map { $0[pick($0.count)] }
        let unknown = Self.unknownNames[pick(Self.unknownNames.count)]
        var members = (0..<4).map { "\"\(names[$0])\":\(values[$0])" }
        members.insert("\"\(unknown)\":0", at: pick(5))
        let rotation = pick(members.count)
        members = Array(members[rotation...] + members[..<rotation])
        let line = Array(("{" + members.joined(separator: ",") + "}").utf8)
        let parsed: Event?
        do { parsed = try parser.parse(line, lineNumber: 1) } catch {
            throw FuzzCheckFailure(description: "member names as Go reads them refused: \(error): \(String(decoding: line, as: UTF8.self))")
        }
        try require(parsed.map(canonical) == canonical(event), "member names as Go reads them give another event: \(String(decoding: line, as: UTF8.self))")

        let member = pick(4)
        let spellings = Self.memberSpellings[member]
        let other = spellings[(spellings.firstIndex(of: names[member])! + 1 + pick(spellings.count - 1)) % spellings.count]
        let twice = Array(("{" + (members + ["\"\(other)\":\(values[member])"]).joined(separator: ",") + "}").utf8)
        do {
            _ = try parser.parse(twice, lineNumber: 1)
            throw FuzzCheckFailure(description: "a member under two names is not refused: \(String(decoding: twice, as: UTF8.self))")
        } catch let error as JSONLineError {
            try require(error.reason.contains("duplicate member"), "a member under two names refused otherwise: \(error): \(String(decoding: twice, as: UTF8.self))")
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
                finish(&encoder, appendingTo: &segment)
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
        finish(&encoder, appendingTo: &segment)
        let read = try segments.read(segment, checkingEvents: false)
        try require(read.openError == nil && read.damage.isEmpty && read.tornTail == 0, "encoded segment reads with damage: \(read.damage)")
        try require(read.blocks.flatMap { $0 } == encoded, "encoded events decode to others")
        try require(read.json == jsonLines(encoded), "decoded JSON differs from the canonical lines")
    }

    private func finish(_ encoder: inout BlockEncoder, appendingTo segment: inout [UInt8]) {
        if encodeWithDeflater {
            encoder.finishBlock(using: deflater, appendingTo: &segment)
        } else {
            encoder.finishBlock(using: storedDeflate, appendingTo: &segment)
        }
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

@available(*, unavailable)
extension JSONLinesChecks: Sendable {}
