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

    /// The total of every series in each bucket.
    func bucketTotals() -> [(bucket: Int64, total: UInt128)] {
        buckets.enumerated().map { row, bucket in
            (bucket, sums[row * 2 * seriesCount..<(row + 1) * 2 * seriesCount].reduce(0, +))
        }
    }

    /// Columns: bucket count; bucket numbers as deltas (the first from
    /// `origin`, a bucket number); entries per bucket; then per entry its
    /// series, tx and rx (only series with traffic in the bucket).
    func encoded(from origin: Int64) -> [UInt8] {
        var counts = ColumnWriter(), deltas = ColumnWriter(), series = ColumnWriter(), txs = ColumnWriter(), rxs = ColumnWriter()
        var previous = origin
        for (row, bucket) in buckets.enumerated() {
            deltas.append(signed: Int128(bucket) - Int128(previous))
            previous = bucket
            var entries = 0
            for index in 0..<seriesCount {
                let tx = sums[row * 2 * seriesCount + 2 * index], rx = sums[row * 2 * seriesCount + 2 * index + 1]
                guard tx != 0 || rx != 0 else { continue }
                entries += 1
                series.append(index)
                txs.append(tx)
                rxs.append(rx)
            }
            counts.append(entries)
        }
        var out = ColumnWriter()
        out.append(buckets.count)
        out.append(deltas)
        out.append(counts)
        out.append(series)
        out.append(txs)
        out.append(rxs)
        return out.bytes
    }
}

/// Floor division (times before 1970 fall in the bucket before, as after).
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return value % divisor < 0 ? quotient - 1 : quotient
}
