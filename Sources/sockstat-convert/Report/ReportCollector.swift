import SockStatAnalysis
import SockStatFormat

/// Collects what a report needs while segments are read, chunk by chunk of
/// ten minutes of event time, and the table of labels met.
///
/// A chunk is open (its events as varints) only while the read is in it:
/// once a block ends in another chunk, it is finished into the form the page
/// stores (`FinishedChunk`: its events and 1 s sums as DEFLATE'd columns,
/// its 10 s sums, cellular runs and busiest seconds). Labels keep their
/// first-met numbers throughout; the page maps them to its colours through a
/// table written at the end, so nothing is encoded again once the colours
/// are chosen. A chunk met again later (events out of time order) is
/// reopened from its stored events and finished again. The same blocks feed
/// a `TrafficSummary`: the page's totals, gaps and time covered are
/// `summary`'s own.
struct ReportCollector: DecodedBlockWriter {
    /// Event time one chunk spans: the largest window the page shows 100 ms
    /// events for.
    static let chunkMilliseconds: Int64 = 600_000

    /// Label bytes by label number (order first met).
    private(set) var labels: [[UInt8]] = []
    private var labelNumbers: [[UInt8]: Int] = [:]
    /// Chunks being read, by chunk number (`t` floor-divided by
    /// `chunkMilliseconds`), each event as varints: t − chunk start,
    /// zigzag(d), c (one byte), entry count, then label number, tx, rx per entry.
    private var open: [Int64: [UInt8]] = [:]
    /// Chunks done, by chunk number.
    private(set) var finished: [Int64: FinishedChunk] = [:]
    /// Events collected.
    private(set) var eventCount = 0
    /// tx + rx of each label over the window, by label number: which labels
    /// get a colour of their own (display only; the totals table is the summary's).
    private(set) var labelBytesMoved: [UInt128] = []
    private var numberOfSlot: [Int] = []
    /// What `summary` says of the same events.
    private(set) var summary: SummaryBlockWriter
    private let deflater = Deflater()
    private let inflater = Inflater()

    init(summary options: SummaryOptions) {
        summary = SummaryBlockWriter(options: options)
    }

    mutating func beginSegment(window: Int64) {
        summary.beginSegment(window: window)
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
        var current: Int64?
        for index in 0..<block.eventCount {
            let time = block.time(at: index)
            guard range.contains(time) else { continue }
            written += 1
            let duration = block.duration(at: index), isCellular = block.isCellular(at: index)
            let entries = block.entries(of: index)
            for entry in entries {
                labelBytesMoved[numberOfSlot[block.slot(ofEntry: entry)]] += UInt128(block.tx(ofEntry: entry)) + UInt128(block.rx(ofEntry: entry))
            }
            // A rollup tier's event (a minute, an hour) is drawn as what it
            // is, its bytes spread over its window: pieces of at most 10 s.
            let pieces = Self.pieces(of: time, duration: duration, budget: &piecesLeft)
            for piece in pieces {
                let chunk = floorDivide(piece.time, Self.chunkMilliseconds)
                if chunk != current {
                    if open[chunk] == nil {
                        let done = finished.removeValue(forKey: chunk)
                        open[chunk] = done.map { reopened($0) } ?? []
                    }
                    current = chunk
                }
                let offset = UInt64(Int128(piece.time) - Self.start(ofChunk: chunk))
                Self.appendHead(to: &open[chunk, default: []], offset: offset, duration: pieces.count == 1 ? duration : piece.length,
                                isCellular: isCellular, entryCount: entries.count)
                for entry in entries {
                    let number = numberOfSlot[block.slot(ofEntry: entry)]
                    let tx = block.tx(ofEntry: entry), rx = block.rx(ofEntry: entry)
                    if pieces.count == 1 {
                        Self.appendEntry(to: &open[chunk, default: []], label: number, tx: tx, rx: rx)
                    } else {
                        Self.appendEntry(to: &open[chunk, default: []], label: number, tx: piece.share(of: tx, in: duration),
                                         rx: piece.share(of: rx, in: duration))
                    }
                }
            }
        }
        eventCount += written
        // The read has moved past every open chunk but the one it is in.
        for chunk in open.keys where chunk != current { finishChunk(chunk) }
        return written
    }

    mutating func finish(to output: OutputBuffer) throws {
        for chunk in open.keys { finishChunk(chunk) }
    }

    /// The longest stretch of one piece of a coarse event: the finest sums
    /// every chunk has (the 10 s level) then show its rate, not a spike.
    static let pieceMilliseconds: Int64 = 10_000
    /// Pieces a report makes at most: past them (a hostile log of long
    /// events), events are drawn whole at their `t`. A year of a 1 h tier is
    /// about 6.3 million.
    static let pieceBudget = 50_000_000
    private var piecesLeft = pieceBudget

    /// A stretch `[time, time + length)` of an event of `time ..< time +
    /// duration`, `start` ms after the event's `t`.
    struct Piece {
        var time: Int64
        var length: Int64
        var start: Int64

        /// Its part of `value` over the event's `duration`, exact: the parts
        /// of an event's pieces add up to `value`.
        func share(of value: UInt64, in duration: Int64) -> UInt64 {
            let whole = UInt128(value), total = UInt128(duration)
            return UInt64(whole * UInt128(start + length) / total - whole * UInt128(start) / total)
        }
    }

    /// `time ..< time + duration` cut at the multiples of `pieceMilliseconds`
    /// when longer than one (and the budget lasts); else the event whole.
    static func pieces(of time: Int64, duration: Int64, budget: inout Int) -> [Piece] {
        let (end, overflow) = time.addingReportingOverflow(duration)
        // At most this many (one more where the event starts between multiples).
        let count = Int(duration / pieceMilliseconds) + 1
        guard duration > pieceMilliseconds, !overflow, duration <= RollupTier.maxWindow, count <= budget else {
            return [Piece(time: time, length: duration, start: 0)]
        }
        budget -= count
        var pieces: [Piece] = []
        pieces.reserveCapacity(count)
        var start = time
        while start < end {
            // In 128 bits: the next multiple may lie past Int64.max.
            let next = Int64(min(Int128(end), (Int128(floorDivide(start, pieceMilliseconds)) + 1) * Int128(pieceMilliseconds)))
            pieces.append(Piece(time: start, length: next - start, start: start - time))
            start = next
        }
        return pieces
    }

    /// A piece of at most 10 s cut at whole seconds (for the 1 s sums).
    static func pieces(ofPiece time: Int64, duration: Int64) -> [Piece] {
        let (end, overflow) = time.addingReportingOverflow(duration)
        guard !overflow else { return [Piece(time: time, length: duration, start: 0)] }
        var pieces: [Piece] = []
        var start = time
        while start < end {
            let next = Int64(min(Int128(end), (Int128(floorDivide(start, 1_000)) + 1) * 1_000))
            pieces.append(Piece(time: start, length: next - start, start: start - time))
            start = next
        }
        return pieces
    }

    /// Where chunk `chunk` starts: before Int64.min for the first chunk of
    /// times near it, hence 128 bits.
    static func start(ofChunk chunk: Int64) -> Int128 { Int128(chunk) * Int128(chunkMilliseconds) }

    private static func appendHead(to bytes: inout [UInt8], offset: UInt64, duration: Int64, isCellular: Bool, entryCount: Int) {
        Varint.append(offset, to: &bytes)
        Varint.append(ZigZag.encode(duration), to: &bytes)
        bytes.append(isCellular ? 1 : 0)
        Varint.append(UInt64(entryCount), to: &bytes)
    }

    private static func appendEntry(to bytes: inout [UInt8], label: Int, tx: UInt64, rx: UInt64) {
        Varint.append(UInt64(label), to: &bytes)
        Varint.append(tx, to: &bytes)
        Varint.append(rx, to: &bytes)
    }

    /// Bytes this collector DEFLATE'd, `count` of them inflated.
    func inflated(_ bytes: [UInt8], count: Int) -> [UInt8] {
        var out: [UInt8] = []
        // Our own stream of a known size: it cannot fail.
        bytes.withUnsafeBytes { try? inflater.inflate($0, into: &out, limit: count) }
        return out
    }

    /// The events of a finished chunk as an open chunk's varints, in `t` order.
    private func reopened(_ chunk: FinishedChunk) -> [UInt8] {
        let columns = inflated(chunk.raw, count: chunk.rawBytes)
        let start = Self.start(ofChunk: chunk.chunk)
        var bytes: [UInt8] = []
        for event in RawColumns.events(columns, start: start) {
            Self.appendHead(to: &bytes, offset: UInt64(Int128(event.time) - start), duration: event.duration,
                            isCellular: event.isCellular, entryCount: event.entries.count)
            for entry in event.entries { Self.appendEntry(to: &bytes, label: entry.label, tx: entry.tx, rx: entry.rx) }
        }
        return bytes
    }

    /// Turns open chunk `chunk` into its final form.
    private mutating func finishChunk(_ chunk: Int64) {
        guard let bytes = open.removeValue(forKey: chunk) else { return }
        let events = Self.events(bytes, start: Self.start(ofChunk: chunk))
        guard !events.isEmpty else { return }
        finished[chunk] = FinishedChunk(chunk: chunk, events: events, deflater: deflater)
    }

    /// Events from an open chunk's varints, in `t` order (stable: events of
    /// one `t` keep the order they were read in).
    private static func events(_ bytes: [UInt8], start: Int128) -> [CollectedEvent] {
        var events: [CollectedEvent] = []
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

/// One event read back from a chunk.
struct CollectedEvent {
    var time: Int64
    var duration: Int64
    var isCellular: Bool
    /// Label number, tx, rx.
    var entries: [(label: Int, tx: UInt64, rx: UInt64)]
}

/// A chunk the read has moved past, in the compact form the page takes:
/// nothing here depends on which labels get a colour.
struct FinishedChunk {
    var chunk: Int64
    var eventCount: Int
    /// tx + rx of its events: busiest chunks keep their detail first.
    var bytes: UInt128 = 0
    var firstTime: Int64
    /// The latest `t + d` (`t` for a negative `d`).
    var lastEnd: Int64
    /// Its events as the page reads them (`RawColumns`), DEFLATE'd, and their size inflated.
    var raw: [UInt8] = []
    var rawBytes: Int
    /// Its 1 s sums per label (`LabelSums.encoded`), DEFLATE'd.
    var seconds: [UInt8] = []
    /// Its 10 s sums per label (`LabelSums.encoded`, origin 0), for the zoom
    /// levels, DEFLATE'd, and their size inflated.
    var tenSeconds: [UInt8] = []
    var tenSecondsBytes: Int
    /// Runs of cellular events; the first may go on from the chunk before
    /// (when `startsCellular`), the last into the next (when `endsCellular`).
    var cellular: [(start: Int64, end: Int64)] = []
    var startsCellular: Bool
    var endsCellular: Bool
    /// Its busiest seconds, at most `ReportData.burstCount`, busiest first.
    var bursts: [ReportData.Burst] = []

    /// `events`: at least one, in `t` order.
    init(chunk: Int64, events: [CollectedEvent], deflater: Deflater) {
        self.chunk = chunk
        eventCount = events.count
        firstTime = events[0].time
        lastEnd = events[0].time
        startsCellular = events[0].isCellular
        endsCellular = events[events.count - 1].isCellular
        var rawColumns = RawColumns(start: ReportCollector.start(ofChunk: chunk))
        var seconds = LabelSums(width: 1_000)
        var run: (start: Int64, end: Int64)?
        // Each event's bytes in the 1 s sums: in its second, or spread over
        // the seconds of a piece of a coarse event (up to 10 s), in second order.
        var spread: [(second: Int64, label: Int, tx: UInt128, rx: UInt128)] = []
        for event in events {
            if event.duration > 1_000, event.duration <= ReportCollector.pieceMilliseconds {
                for second in ReportCollector.pieces(ofPiece: event.time, duration: event.duration) {
                    for entry in event.entries {
                        spread.append((floorDivide(second.time, 1_000), entry.label, UInt128(second.share(of: entry.tx, in: event.duration)),
                                       UInt128(second.share(of: entry.rx, in: event.duration))))
                    }
                }
            } else {
                for entry in event.entries { spread.append((floorDivide(event.time, 1_000), entry.label, UInt128(entry.tx), UInt128(entry.rx))) }
            }
        }
        if !zip(spread, spread.dropFirst()).allSatisfy({ $0.second <= $1.second }) {
            spread = spread.enumerated().sorted { ($0.element.second, $0.offset) < ($1.element.second, $1.offset) }.map(\.element)
        }
        for part in spread { seconds.add(bucket: part.second, label: part.label, tx: part.tx, rx: part.rx) }
        for event in events {
            rawColumns.append(event)
            for entry in event.entries { bytes += UInt128(entry.tx) + UInt128(entry.rx) }
            // Held at Int64.max rather than wrapping, for a hostile t + d.
            let (sum, overflow) = event.time.addingReportingOverflow(max(event.duration, 0))
            let end = overflow ? Int64.max : sum
            lastEnd = max(lastEnd, end)
            if event.isCellular {
                run = run.map { ($0.start, max($0.end, end)) } ?? (event.time, end)
            } else if let done = run {
                cellular.append(done)
                run = nil
            }
        }
        if let run { cellular.append(run) }
        seconds.close()
        func deflated(_ input: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            input.withUnsafeBytes { deflater.compress($0, appendingTo: &out) }
            // The deflater reserves room for the input stored: kept, that would be most of it.
            return out.withUnsafeBufferPointer { Array($0) }
        }
        let rawBytes = rawColumns.encoded()
        self.rawBytes = rawBytes.count
        raw = deflated(rawBytes)
        self.seconds = deflated(seconds.encoded(from: chunk * (ReportCollector.chunkMilliseconds / 1_000)))
        let tenSecondsBytes = seconds.coarsened(by: 10).encoded(from: 0)
        self.tenSecondsBytes = tenSecondsBytes.count
        tenSeconds = deflated(tenSecondsBytes)
        noteBursts(seconds)
    }

    /// Keeps the busiest seconds of `seconds` (the earlier of equals), with
    /// the labels that moved the most in each.
    private mutating func noteBursts(_ seconds: LabelSums) {
        for row in seconds.buckets.indices {
            let entries = seconds.entries(of: row)
            let tx = entries.reduce(UInt128(0)) { $0 + seconds.txs[$1] }, rx = entries.reduce(UInt128(0)) { $0 + seconds.rxs[$1] }
            ReportData.Burst.keep(total: tx + rx, in: &bursts) {
                let labels = entries.sorted {
                    (seconds.txs[$0] + seconds.rxs[$0], seconds.labels[$1]) > (seconds.txs[$1] + seconds.rxs[$1], seconds.labels[$0])
                }
                return ReportData.Burst(second: seconds.buckets[row], tx: tx, rx: rx, labels: labels.prefix(ReportData.labelsPerBurst)
                    .map { (label: seconds.labels[$0], tx: seconds.txs[$0], rx: seconds.rxs[$0]) })
            }
        }
    }
}
