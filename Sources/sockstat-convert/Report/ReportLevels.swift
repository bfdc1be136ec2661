/// Varint columns for the page's data: the page's reader (`readColumns` in
/// the page script) takes them back. Values may pass 64 bits (sums of
/// counters near 2^64): a varint carries as many 7-bit groups as it needs,
/// and the page reads them as floating point, which is all a chart needs.
struct ColumnWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ value: UInt128) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func append(_ value: UInt64) { append(UInt128(value)) }
    mutating func append(_ value: Int) { append(UInt128(value)) }

    /// A signed value, zigzag coded (0, −1, 1, −2 … → 0, 1, 2, 3 …).
    mutating func append(signed value: Int128) {
        append(value < 0 ? UInt128(-(value + 1)) * 2 + 1 : UInt128(value) * 2)
    }

    mutating func append(_ other: ColumnWriter) { bytes.append(contentsOf: other.bytes) }
}

/// Sums per series (sent and received) in buckets of one width, for the
/// buckets that saw traffic, in bucket order: one zoom level of the chart.
struct RateLevel {
    /// Bucket width, milliseconds.
    let width: Int64
    let seriesCount: Int
    /// Bucket numbers (`t` floor-divided by `width`), ascending.
    private(set) var buckets: [Int64] = []
    /// `2 * seriesCount` sums per bucket: tx then rx of each series.
    private(set) var sums: [UInt128] = []

    init(width: Int64, seriesCount: Int) {
        self.width = width
        self.seriesCount = seriesCount
    }

    /// Adds `tx` and `rx` of `series` at `time`; times come in ascending order.
    mutating func add(time: Int64, series: Int, tx: UInt128, rx: UInt128) {
        add(bucket: floorDivide(time, width), series: series, tx: tx, rx: rx)
    }

    /// Adds to bucket number `bucket`; buckets come in ascending order.
    mutating func add(bucket: Int64, series: Int, tx: UInt128, rx: UInt128) {
        if buckets.last != bucket {
            buckets.append(bucket)
            for _ in 0..<2 * seriesCount { sums.append(0) }
        }
        let row = sums.count - 2 * seriesCount
        sums[row + 2 * series] += tx
        sums[row + 2 * series + 1] += rx
    }

    /// The same sums in buckets `factor` times wider.
    func coarsened(by factor: Int64) -> RateLevel {
        var wider = RateLevel(width: width * factor, seriesCount: seriesCount)
        for (row, bucket) in buckets.enumerated() {
            for series in 0..<seriesCount {
                let tx = sums[row * 2 * seriesCount + 2 * series], rx = sums[row * 2 * seriesCount + 2 * series + 1]
                if tx != 0 || rx != 0 { wider.add(bucket: floorDivide(bucket, factor), series: series, tx: tx, rx: rx) }
            }
        }
        return wider
    }

    /// The page's columns (`LevelColumns`), bucket numbers from `origin`.
    func encoded(from origin: Int64) -> [UInt8] {
        var columns = LevelColumns(origin: origin)
        for (row, bucket) in buckets.enumerated() {
            columns.appendBucket(bucket)
            for index in 0..<seriesCount {
                columns.appendEntry(series: index, tx: sums[row * 2 * seriesCount + 2 * index], rx: sums[row * 2 * seriesCount + 2 * index + 1])
            }
        }
        return columns.encoded()
    }
}

/// The finest zoom level (10 s), built bucket by bucket and kept only as the
/// page's columns: over a week, held whole as a `RateLevel` (a row of every
/// series per bucket), it would be the largest thing in memory. Each bucket
/// also goes into `coarser`, the level `coarserFactor` times wider, whole.
struct StreamedLevel {
    let width: Int64
    let seriesCount: Int
    let origin: Int64
    private(set) var bucketCount = 0
    private(set) var coarser: RateLevel
    private let coarserFactor: Int64
    private var columns: LevelColumns
    private var bucket: Int64?
    /// The current bucket's sums: tx then rx of each series.
    private var row: [UInt128]

    /// Bucket numbers in the columns go from `origin`.
    init(width: Int64, seriesCount: Int, origin: Int64, coarserFactor: Int64) {
        self.width = width
        self.seriesCount = seriesCount
        self.origin = origin
        self.coarserFactor = coarserFactor
        coarser = RateLevel(width: width * coarserFactor, seriesCount: seriesCount)
        columns = LevelColumns(origin: origin)
        row = Array(repeating: 0, count: 2 * seriesCount)
    }

    /// Adds to bucket number `bucket`; buckets come in ascending order.
    mutating func add(bucket: Int64, series: Int, tx: UInt128, rx: UInt128) {
        if self.bucket != bucket {
            close()
            self.bucket = bucket
        }
        row[2 * series] += tx
        row[2 * series + 1] += rx
    }

    /// Ends the last bucket: once everything is added.
    mutating func close() {
        guard let bucket else { return }
        columns.appendBucket(bucket)
        bucketCount += 1
        for series in 0..<seriesCount where row[2 * series] != 0 || row[2 * series + 1] != 0 {
            columns.appendEntry(series: series, tx: row[2 * series], rx: row[2 * series + 1])
            coarser.add(bucket: floorDivide(bucket, coarserFactor), series: series, tx: row[2 * series], rx: row[2 * series + 1])
        }
        for index in row.indices { row[index] = 0 }
        self.bucket = nil
    }

    /// The page's columns (`LevelColumns`, from `origin`).
    func encoded() -> [UInt8] { columns.encoded() }

    /// The level whole, read back from its columns (for the overview SVG of a short range).
    func whole() -> RateLevel {
        var level = RateLevel(width: width, seriesCount: seriesCount)
        LevelColumns.forEachEntry(encoded(), origin: origin) { bucket, series, tx, rx in level.add(bucket: bucket, series: series, tx: tx, rx: rx) }
        return level
    }
}

/// A level as the page reads it (`readLevel` in the page script): bucket
/// count; bucket numbers as deltas (the first from an origin, a bucket
/// number), zigzag; entries per bucket; then per entry its series (or label
/// number), tx and rx. Entries that moved nothing are left out.
struct LevelColumns {
    private var previous: Int64
    private var bucketCount = 0
    private var entriesInBucket = 0
    private var deltas = ColumnWriter(), counts = ColumnWriter(), series = ColumnWriter(), txs = ColumnWriter(), rxs = ColumnWriter()

    init(origin: Int64) { previous = origin }

    /// Starts the next bucket (ascending).
    mutating func appendBucket(_ bucket: Int64) {
        if bucketCount > 0 { counts.append(entriesInBucket) }
        bucketCount += 1
        entriesInBucket = 0
        deltas.append(signed: Int128(bucket) - Int128(previous))
        previous = bucket
    }

    mutating func appendEntry(series number: Int, tx: UInt128, rx: UInt128) {
        guard tx != 0 || rx != 0 else { return }
        entriesInBucket += 1
        series.append(number)
        txs.append(tx)
        rxs.append(rx)
    }

    func encoded() -> [UInt8] {
        var counts = counts
        if bucketCount > 0 { counts.append(entriesInBucket) }
        var out = ColumnWriter()
        out.append(bucketCount)
        for column in [deltas, counts, series, txs, rxs] { out.append(column) }
        return out.bytes
    }

    /// Calls `body` with each entry of `bytes` (as `encoded()` wrote them,
    /// from `origin`): bucket number, series, tx, rx.
    static func forEachEntry(_ bytes: [UInt8], origin: Int64, _ body: (Int64, Int, UInt128, UInt128) -> Void) {
        var reader = ColumnReader(bytes)
        let count = Int(reader.next())
        var bucket = Int128(origin)
        let buckets = (0..<count).map { _ in
            bucket += reader.signed()
            return Int64(bucket)
        }
        let counts = (0..<count).map { _ in Int(reader.next()) }
        let entries = counts.reduce(0, +)
        let series = (0..<entries).map { _ in Int(reader.next()) }
        let txs = reader.column(entries), rxs = reader.column(entries)
        var entry = 0
        for (row, bucket) in buckets.enumerated() {
            for _ in 0..<counts[row] {
                body(bucket, series[entry], txs[entry], rxs[entry])
                entry += 1
            }
        }
    }
}

/// Reads back what a `ColumnWriter` wrote. The bytes are the program's own:
/// past their end it reads 0 rather than failing.
struct ColumnReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> UInt128 {
        var value: UInt128 = 0
        var shift = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if shift < 128 { value |= UInt128(byte & 0x7F) << shift }
            shift += 7
            if byte < 0x80 { break }
        }
        return value
    }

    /// A zigzag-coded signed value.
    mutating func signed() -> Int128 {
        let value = next()
        return value & 1 == 1 ? -Int128(value >> 1) - 1 : Int128(value >> 1)
    }

    mutating func column(_ count: Int) -> [UInt128] { (0..<count).map { _ in next() } }
}

/// Sums per label number (sent and received) in buckets of one width, with
/// only the labels met in each bucket, in label order: a chunk's 1 s and
/// 10 s sums, kept before the colours are chosen (a dense row per bucket
/// would cost every label in every bucket).
struct LabelSums {
    /// Bucket width, milliseconds.
    let width: Int64
    /// Bucket numbers, ascending.
    private(set) var buckets: [Int64] = []
    /// Where each bucket's entries start in `labels`, `txs`, `rxs`, then their end.
    private(set) var starts: [Int] = [0]
    private(set) var labels: [Int] = []
    private(set) var txs: [UInt128] = []
    private(set) var rxs: [UInt128] = []
    /// The last bucket's sums by label number (tx then rx), until `close()`,
    /// and the labels met in it.
    private var pending: [UInt128] = []
    private var pendingLabels: [Int] = []
    private var isPending: [Bool] = []

    init(width: Int64) { self.width = width }

    /// Adds to the bucket of `time`; times come in ascending order.
    mutating func add(time: Int64, label: Int, tx: UInt128, rx: UInt128) {
        add(bucket: floorDivide(time, width), label: label, tx: tx, rx: rx)
    }

    /// Adds to bucket number `bucket`; buckets come in ascending order.
    mutating func add(bucket: Int64, label: Int, tx: UInt128, rx: UInt128) {
        if buckets.last != bucket {
            close()
            buckets.append(bucket)
        }
        if isPending.count <= label {
            isPending.append(contentsOf: repeatElement(false, count: label + 1 - isPending.count))
            pending.append(contentsOf: repeatElement(0, count: 2 * label + 2 - pending.count))
        }
        if !isPending[label] {
            isPending[label] = true
            pendingLabels.append(label)
        }
        pending[2 * label] += tx
        pending[2 * label + 1] += rx
    }

    /// Ends the last bucket: once everything is added.
    mutating func close() {
        guard starts.count == buckets.count else { return }
        pendingLabels.sort()
        for label in pendingLabels {
            labels.append(label)
            txs.append(pending[2 * label])
            rxs.append(pending[2 * label + 1])
            pending[2 * label] = 0
            pending[2 * label + 1] = 0
            isPending[label] = false
        }
        starts.append(labels.count)
        pendingLabels.removeAll(keepingCapacity: true)
    }

    /// Where bucket `row`'s entries are (after `close()`).
    func entries(of row: Int) -> Range<Int> { starts[row]..<starts[row + 1] }

    /// The same sums in buckets `factor` times wider; a bucket only where a
    /// label moved something.
    func coarsened(by factor: Int64) -> LabelSums {
        var wider = LabelSums(width: width * factor)
        for (row, bucket) in buckets.enumerated() {
            for entry in entries(of: row) where txs[entry] != 0 || rxs[entry] != 0 {
                wider.add(bucket: floorDivide(bucket, factor), label: labels[entry], tx: txs[entry], rx: rxs[entry])
            }
        }
        wider.close()
        return wider
    }

    /// The page's columns (`LevelColumns`, label numbers for series), bucket
    /// numbers from `origin`.
    func encoded(from origin: Int64) -> [UInt8] {
        var columns = LevelColumns(origin: origin)
        for (row, bucket) in buckets.enumerated() {
            columns.appendBucket(bucket)
            for entry in entries(of: row) { columns.appendEntry(series: labels[entry], tx: txs[entry], rx: rxs[entry]) }
        }
        return columns.encoded()
    }
}

/// Floor division (times before 1970 fall in the bucket before, as after).
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return value % divisor < 0 ? quotient - 1 : quotient
}
