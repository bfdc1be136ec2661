/// Everything the page shows but the totals, worked out from the collected
/// events: which labels get a colour, the zoom levels, each chunk's detail,
/// cellular periods, gaps and the largest bursts.
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
    }

    /// One chunk's detail: its events (series numbers instead of labels)
    /// and, for when those do not fit, its 1 s sums.
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
    /// Zoom levels of 10 s and wider, finest first.
    var levels: [RateLevel] = []
    var chunks: [ChunkDetail] = []
    var cellular: [(start: Int64, end: Int64)] = []
    /// Whether cellular periods were merged to stay within `maximumIntervals`.
    var cellularMerged = false
    var bursts: [Burst] = []
    /// The gaps the summary found (at most `maximumIntervals`, the longest), in time order.
    var gaps: [(start: Int64, end: Int64)] = []

    /// Works out the page's data from `collector`; `gaps` are the summary's.
    init(from collector: ReportCollector, gaps: [(start: Int64, end: Int64)]) {
        self.gaps = gaps.sorted { $0.start < $1.start }
        chooseSeries(collector)
        let seriesCount = series.count
        var tenSeconds = RateLevel(width: 10_000, seriesCount: seriesCount)
        var cellularRun: (start: Int64, end: Int64)?
        var firstSeen = false
        for chunk in collector.chunks.keys.sorted() {
            let events = collector.events(ofChunk: chunk)
            guard let head = events.first else { continue }
            if !firstSeen { first = head.time; last = head.time; firstSeen = true }
            var seconds = RateLevel(width: 1_000, seriesCount: seriesCount)
            var raw = RawColumns(start: ReportCollector.start(ofChunk: chunk))
            var chunkBytes: UInt128 = 0
            for event in events {
                raw.append(event, seriesOfLabel: seriesOfLabel)
                for entry in event.entries {
                    let series = seriesOfLabel[entry.label]
                    seconds.add(time: event.time, series: series, tx: UInt128(entry.tx), rx: UInt128(entry.rx))
                    chunkBytes += UInt128(entry.tx) + UInt128(entry.rx)
                }
                // Held at Int64.max rather than wrapping, for a hostile t + d.
                let (sum, overflow) = event.time.addingReportingOverflow(max(event.duration, 0))
                let end = overflow ? Int64.max : sum
                last = max(last, end)
                if event.isCellular {
                    if let run = cellularRun { cellularRun = (run.start, max(run.end, end)) } else { cellularRun = (event.time, end) }
                } else if let run = cellularRun {
                    cellular.append(run)
                    cellularRun = nil
                }
            }
            for (row, bucket) in seconds.buckets.enumerated() {
                for index in 0..<seriesCount {
                    let tx = seconds.sums[row * 2 * seriesCount + 2 * index], rx = seconds.sums[row * 2 * seriesCount + 2 * index + 1]
                    if tx != 0 || rx != 0 { tenSeconds.add(bucket: floorDivide(bucket, 10), series: index, tx: tx, rx: rx) }
                }
            }
            noteBursts(seconds)
            chunks.append(ChunkDetail(chunk: chunk, bytes: chunkBytes, raw: raw.encoded(),
                                      seconds: seconds.encoded(from: chunk * (ReportCollector.chunkMilliseconds / 1_000))))
        }
        if let run = cellularRun { cellular.append(run) }
        boundCellular()
        nameBurstLabels(collector)
        levels = [tenSeconds]
        // 1 min, 10 min, 1 h, 6 h, 1 d, 7 d, then tenfold, until one level fits `coarsestBuckets`.
        let factors: [Int64] = [6, 10, 6, 6, 4, 7]
        var step = 0
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

    /// Keeps the busiest seconds of `seconds` among the `burstCount` busiest so far.
    private mutating func noteBursts(_ seconds: RateLevel) {
        let width = 2 * seconds.seriesCount
        for (row, second) in seconds.buckets.enumerated() {
            var tx: UInt128 = 0, rx: UInt128 = 0
            for index in stride(from: row * width, to: (row + 1) * width, by: 2) {
                tx += seconds.sums[index]
                rx += seconds.sums[index + 1]
            }
            if bursts.count == Self.burstCount {
                guard let least = bursts.last, tx + rx > least.tx + least.rx else { continue }
                bursts.removeLast()
            }
            let place = bursts.firstIndex { tx + rx > $0.tx + $0.rx } ?? bursts.count
            bursts.insert(Burst(second: second, tx: tx, rx: rx, labels: []), at: place)
        }
    }

    /// Names the labels that moved the most in each burst.
    private mutating func nameBurstLabels(_ collector: ReportCollector) {
        for index in bursts.indices {
            let second = bursts[index].second
            var perLabel: [Int: (tx: UInt128, rx: UInt128)] = [:]
            for event in collector.events(ofChunk: floorDivide(second, ReportCollector.chunkMilliseconds / 1_000))
            where floorDivide(event.time, 1_000) == second {
                for entry in event.entries {
                    perLabel[entry.label, default: (0, 0)].tx += UInt128(entry.tx)
                    perLabel[entry.label, default: (0, 0)].rx += UInt128(entry.rx)
                }
            }
            bursts[index].labels = perLabel
                .sorted { ($0.value.tx + $0.value.rx, $1.key) > ($1.value.tx + $1.value.rx, $0.key) }
                .prefix(Self.labelsPerBurst).map { (label: $0.key, tx: $0.value.tx, rx: $0.value.rx) }
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
/// zigzag(d) · 2 + c; entry count; then per entry series, tx, rx.
struct RawColumns {
    private var previous: Int128
    private var count = 0
    private var times = ColumnWriter(), durations = ColumnWriter(), entryCounts = ColumnWriter()
    private var series = ColumnWriter(), txs = ColumnWriter(), rxs = ColumnWriter()

    init(start: Int128) { previous = start }

    mutating func append(_ event: CollectedEvent, seriesOfLabel: [Int]) {
        count += 1
        times.append(signed: Int128(event.time) - previous)
        previous = Int128(event.time)
        let zigzag: UInt128 = event.duration < 0 ? UInt128(-(Int128(event.duration) + 1)) * 2 + 1 : UInt128(event.duration) * 2
        durations.append(zigzag * 2 + (event.isCellular ? 1 : 0))
        entryCounts.append(event.entries.count)
        for entry in event.entries {
            series.append(seriesOfLabel[entry.label])
            txs.append(entry.tx)
            rxs.append(entry.rx)
        }
    }

    func encoded() -> [UInt8] {
        var out = ColumnWriter()
        out.append(count)
        for column in [times, durations, entryCounts, series, txs, rxs] { out.append(column) }
        return out.bytes
    }
}
