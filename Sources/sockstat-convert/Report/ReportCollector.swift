import SockStatAnalysis
import SockStatFormat

/// Collects what a report needs while segments are read: every event in the
/// window, kept compactly (varints, by label number) in chunks of ten
/// minutes of event time, and the table of labels met.
///
/// The events stay in memory (about 8 bytes each) because which labels get
/// their own colour, and which chunks keep their 100 ms detail, is only known
/// once every event has been seen. The same blocks feed a `TrafficSummary`:
/// the page's totals, gaps and time covered are `summary`'s own.
struct ReportCollector: DecodedBlockWriter {
    /// Event time one chunk spans: the largest window the page shows 100 ms
    /// events for.
    static let chunkMilliseconds: Int64 = 600_000

    /// Label bytes by label number (order first met).
    private(set) var labels: [[UInt8]] = []
    private var labelNumbers: [[UInt8]: Int] = [:]
    /// Events by chunk number (`t` floor-divided by `chunkMilliseconds`), each
    /// event as varints: t − chunk start, zigzag(d), c (one byte), entry count, then
    /// label number, tx, rx per entry.
    private(set) var chunks: [Int64: [UInt8]] = [:]
    /// Events per chunk.
    private(set) var chunkEvents: [Int64: Int] = [:]
    /// Events collected.
    private(set) var eventCount = 0
    /// tx + rx of each label over the window, by label number: which labels
    /// get a colour of their own (display only; the totals table is the summary's).
    private(set) var labelBytesMoved: [UInt128] = []
    private var numberOfSlot: [Int] = []
    /// What `summary` says of the same events.
    private(set) var summary: SummaryBlockWriter

    init(summary options: SummaryOptions) {
        summary = SummaryBlockWriter(options: options)
    }

    mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
        _ = try summary.write(block, to: output, range: range)
        numberOfSlot.removeAll(keepingCapacity: true)
        for slot in 0..<block.labelCount {
            let bytes = Array(block.labelBytes(slot: slot))
            if let number = labelNumbers[bytes] {
                numberOfSlot.append(number)
            } else {
                labelNumbers[bytes] = labels.count
                numberOfSlot.append(labels.count)
                labels.append(bytes)
                labelBytesMoved.append(0)
            }
        }
        var written = 0
        for index in 0..<block.eventCount {
            let time = block.time(at: index)
            guard range.contains(time) else { continue }
            written += 1
            let chunk = floorDivide(time, Self.chunkMilliseconds)
            let offset = UInt64(Int128(time) - Self.start(ofChunk: chunk))
            let duration = ZigZag.encode(block.duration(at: index))
            chunkEvents[chunk, default: 0] += 1
            Self.append(to: &chunks[chunk, default: []], offset: offset, duration: duration, block: block, event: index,
                        numberOfSlot: numberOfSlot, moved: &labelBytesMoved)
        }
        eventCount += written
        return written
    }

    /// Where chunk `chunk` starts: before Int64.min for the first chunk of
    /// times near it, hence 128 bits.
    static func start(ofChunk chunk: Int64) -> Int128 { Int128(chunk) * Int128(chunkMilliseconds) }

    private static func append(to bytes: inout [UInt8], offset: UInt64, duration: UInt64, block: DecodedBlock,
                               event index: Int, numberOfSlot: [Int], moved: inout [UInt128]) {
        Varint.append(offset, to: &bytes)
        Varint.append(duration, to: &bytes)
        bytes.append(block.isCellular(at: index) ? 1 : 0)
        let entries = block.entries(of: index)
        Varint.append(UInt64(entries.count), to: &bytes)
        for entry in entries {
            let number = numberOfSlot[block.slot(ofEntry: entry)]
            let tx = block.tx(ofEntry: entry), rx = block.rx(ofEntry: entry)
            Varint.append(UInt64(number), to: &bytes)
            Varint.append(tx, to: &bytes)
            Varint.append(rx, to: &bytes)
            moved[number] += UInt128(tx) + UInt128(rx)
        }
    }
}

/// One event read back from a collector's chunk.
struct CollectedEvent {
    var time: Int64
    var duration: Int64
    var isCellular: Bool
    /// Label number, tx, rx.
    var entries: [(label: Int, tx: UInt64, rx: UInt64)]
}

extension ReportCollector {
    /// The events of chunk `chunk`, in `t` order (stable: events of one `t`
    /// keep the order they were read in).
    func events(ofChunk chunk: Int64) -> [CollectedEvent] {
        guard let bytes = chunks[chunk] else { return [] }
        var events: [CollectedEvent] = []
        events.reserveCapacity(chunkEvents[chunk] ?? 0)
        let start = Self.start(ofChunk: chunk)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            // The bytes are our own, written above: a read cannot fail.
            func next() -> UInt64 { (try? Varint.read(raw, at: &offset)) ?? 0 }
            while offset < raw.count {
                let time = Int64(start + Int128(next()))
                let duration = ZigZag.decode(next())
                let cellular = raw[offset] == 1
                offset += 1
                let count = Int(next())
                var entries: [(label: Int, tx: UInt64, rx: UInt64)] = []
                entries.reserveCapacity(count)
                for _ in 0..<count {
                    let label = Int(next())
                    let tx = next()
                    entries.append((label, tx, next()))
                }
                events.append(CollectedEvent(time: time, duration: duration, isCellular: cellular, entries: entries))
            }
        }
        if !zip(events, events.dropFirst()).allSatisfy({ $0.time <= $1.time }) {
            events = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        }
        return events
    }
}
