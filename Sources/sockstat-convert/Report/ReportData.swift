import SockStatFormat

/// Everything the page shows but the totals, put together from the
/// collector's finished chunks: which labels get a colour, the zoom levels,
/// each chunk's detail, cellular periods, gaps and the largest bursts.
struct ReportData {
    /// Labels drawn with a colour of their own; the rest are one "other" series.
    static let maximumSeries = 16
    /// The coarsest level has at most this many buckets, so that the whole
    /// range fits the page whatever it spans.
    static let coarsestBuckets = 2_000
    /// Bursts listed.
    static let burstCount = 10
    /// Labels named per burst.
    static let labelsPerBurst = 4
    /// Interval lists (cellular periods, gaps) are bounded: past this many,
    /// cellular periods closer than a growing distance merge and only the
    /// longest gaps are kept (`SummaryOptions.longestGapsKept`).
    static let maximumIntervals = 20_000

    /// One colour of the chart: a label, or the labels without one of their own.
    struct Series {
        var labels: [Int]
        /// Bytes moved, both directions.
        var bytes: UInt128
    }

    /// One second among the busiest.
    struct Burst {
        var second: Int64
        var tx: UInt128
        var rx: UInt128
        /// Label number, tx, rx: the labels that moved the most in it, most first.
        var labels: [(label: Int, tx: UInt128, rx: UInt128)]

        /// Puts the second `make` gives among `bursts` (busiest first, at
        /// most `burstCount`) when it moved more than the least of them: of
        /// equals, the one met first stays. Seconds come in time order.
        static func keep(total: UInt128, in bursts: inout [Burst], _ make: () -> Burst) {
            if bursts.count == burstCount {
                guard let least = bursts.last, total > least.tx + least.rx else { return }
                bursts.removeLast()
            }
            let place = bursts.firstIndex { total > $0.tx + $0.rx } ?? bursts.count
            bursts.insert(make(), at: place)
        }
    }

    /// One chunk's detail as the page stores it, DEFLATE'd: its events and,
    /// for when those do not fit, its 1 s sums (label numbers, which the
    /// page maps to series).
    struct ChunkDetail {
        var chunk: Int64
        var bytes: UInt128
        var raw: [UInt8]
        var seconds: [UInt8]
    }

    var first: Int64 = 0
    var last: Int64 = 0
    var series: [Series] = []
    /// Series of each label number.
    var seriesOfLabel: [Int] = []
    /// The 10 s level, as the page stores it (origin the bucket of `first`).
    /// (Set up once the series are chosen.)
    var finest = StreamedLevel(width: 10_000, seriesCount: 0, origin: 0, coarserFactor: 6)
    /// Zoom levels wider than `finest`, finest first, while they are needed
    /// to reach one of at most `coarsestBuckets` (none when `finest` is one).
    var levels: [RateLevel] = []
    var chunks: [ChunkDetail] = []
    var cellular: [(start: Int64, end: Int64)] = []
    /// Whether cellular periods were merged to stay within `maximumIntervals`.
    var cellularMerged = false
    var bursts: [Burst] = []
    /// The gaps the summary found (at most `maximumIntervals`, the longest), in time order.
    var gaps: [(start: Int64, end: Int64)] = []

    /// Puts the page's data together from `collector` (finished); `gaps` are the summary's.
    init(from collector: ReportCollector, gaps: [(start: Int64, end: Int64)]) {
        self.gaps = gaps.sorted { $0.start < $1.start }
        chooseSeries(collector)
        // 1 min, 10 min, 1 h, 6 h, 1 d, 7 d, then tenfold.
        let factors: [Int64] = [6, 10, 6, 6, 4, 7]
        let firstTime = collector.finished.keys.min().flatMap { collector.finished[$0]?.firstTime } ?? 0
        finest = StreamedLevel(width: 10_000, seriesCount: series.count, origin: floorDivide(firstTime, 10_000), coarserFactor: factors[0])
        var firstSeen = false
        var endsCellular = false
        for number in collector.finished.keys.sorted() {
            guard let chunk = collector.finished[number] else { continue }
            if !firstSeen { first = chunk.firstTime; last = chunk.firstTime; firstSeen = true }
            last = max(last, chunk.lastEnd)
            // A run that goes on from the chunk before is one period.
            var runs = chunk.cellular[...]
            if endsCellular, chunk.startsCellular, let head = runs.first, let previous = cellular.last {
                cellular[cellular.count - 1].end = max(previous.end, head.end)
                runs = runs.dropFirst()
            }
            cellular.append(contentsOf: runs)
            endsCellular = chunk.endsCellular
            LevelColumns.forEachEntry(collector.inflated(chunk.tenSeconds, count: chunk.tenSecondsBytes), origin: 0) { bucket, label, tx, rx in
                finest.add(bucket: bucket, series: seriesOfLabel[label], tx: tx, rx: rx)
            }
            for burst in chunk.bursts { Burst.keep(total: burst.tx + burst.rx, in: &bursts) { burst } }
            chunks.append(ChunkDetail(chunk: number, bytes: chunk.bytes, raw: chunk.raw, seconds: chunk.seconds))
        }
        boundCellular()
        finest.close()
        // Coarser levels until one fits `coarsestBuckets`.
        if finest.bucketCount > Self.coarsestBuckets { levels = [finest.coarser] }
        var step = 1
        while let coarsest = levels.last, coarsest.buckets.count > Self.coarsestBuckets,
              coarsest.width <= Int64.max / 10 {
            levels.append(coarsest.coarsened(by: step < factors.count ? factors[step] : 10))
            step += 1
        }
    }

    private mutating func chooseSeries(_ collector: ReportCollector) {
        let ranked = collector.labelBytesMoved.indices.sorted {
            let (left, right) = (collector.labelBytesMoved[$0], collector.labelBytesMoved[$1])
            return left != right ? left > right : collector.labels[$0].lexicographicallyPrecedes(collector.labels[$1])
        }
        let own = ranked.count <= Self.maximumSeries ? ranked : Array(ranked.prefix(Self.maximumSeries - 1))
        seriesOfLabel = Array(repeating: own.count, count: collector.labels.count)
        // Busiest first: at the bottom of the stack, with the most distinct colours.
        for (index, label) in own.enumerated() {
            seriesOfLabel[label] = index
            series.append(Series(labels: [label], bytes: collector.labelBytesMoved[label]))
        }
        if own.count < ranked.count {
            let rest = ranked.dropFirst(own.count)
            series.append(Series(labels: Array(rest), bytes: rest.reduce(0) { $0 + collector.labelBytesMoved[$1] }))
        }
    }

    /// Merges cellular periods closer than a distance that doubles until at
    /// most `maximumIntervals` remain.
    private mutating func boundCellular() {
        var distance: Int64 = 1_000
        while cellular.count > Self.maximumIntervals {
            cellularMerged = true
            var merged: [(start: Int64, end: Int64)] = []
            for run in cellular {
                if let previous = merged.last, Int128(run.start) - Int128(previous.end) < Int128(distance) {
                    merged[merged.count - 1].end = max(previous.end, run.end)
                } else {
                    merged.append(run)
                }
            }
            cellular = merged
            distance = distance > Int64.max / 2 ? Int64.max : distance * 2
        }
    }
}

/// A chunk's events as the page reads them: event count; per event `t` as
/// a delta from the one before (the first from the chunk's start), zigzag;
/// zigzag(d) · 2 + c; entry count; then per entry label number, tx, rx.
struct RawColumns {
    private var previous: Int128
    private var count = 0
    private var times = ColumnWriter(), durations = ColumnWriter(), entryCounts = ColumnWriter()
    private var labels = ColumnWriter(), txs = ColumnWriter(), rxs = ColumnWriter()

    init(start: Int128) { previous = start }

    mutating func append(_ event: CollectedEvent) {
        count += 1
        times.append(signed: Int128(event.time) - previous)
        previous = Int128(event.time)
        durations.append(UInt128(ZigZag.encode(event.duration)) * 2 + (event.isCellular ? 1 : 0))
        entryCounts.append(event.entries.count)
        for entry in event.entries {
            labels.append(entry.label)
            txs.append(entry.tx)
            rxs.append(entry.rx)
        }
    }

    func encoded() -> [UInt8] {
        var out = ColumnWriter()
        out.append(count)
        for column in [times, durations, entryCounts, labels, txs, rxs] { out.append(column) }
        return out.bytes
    }

    /// The events `encoded()` wrote, for a chunk starting at `start`.
    static func events(_ bytes: [UInt8], start: Int128) -> [CollectedEvent] {
        var reader = ColumnReader(bytes)
        let count = Int(reader.next())
        var time = start
        let times = (0..<count).map { _ in
            time += reader.signed()
            return Int64(time)
        }
        let flags = reader.column(count)
        let counts = (0..<count).map { _ in Int(reader.next()) }
        let entries = counts.reduce(0, +)
        let labels = (0..<entries).map { _ in Int(reader.next()) }
        let txs = reader.column(entries), rxs = reader.column(entries)
        var entry = 0
        return (0..<count).map { index in
            let event = CollectedEvent(time: times[index], duration: ZigZag.decode(UInt64(flags[index] >> 1)),
                                       isCellular: flags[index] & 1 == 1,
                                       entries: (entry..<entry + counts[index]).map { (labels[$0], UInt64(txs[$0]), UInt64(rxs[$0])) })
            entry += counts[index]
            return event
        }
    }
}
