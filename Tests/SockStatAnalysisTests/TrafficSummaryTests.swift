import SockStatAnalysis
import SockStatFormat
import Testing
import TestSupport

/// TrafficSummary against a brute-force computation over generated events.
@Suite struct TrafficSummaryTests {
    /// Checks every per-label figure of `labels` against `reference`.
    func expectLabels(_ labels: [LabelFigures], match reference: [Label: ReferenceLabel]) {
        #expect(Set(labels.map(\.label)) == Set(reference.keys))
        for figures in labels {
            guard let expected = reference[figures.label] else { continue }
            #expect(figures.totals.tx.wide == expected.tx, "tx of \(figures.label)")
            #expect(figures.totals.rx.wide == expected.rx)
            #expect(figures.totals.cellularTX.wide == expected.cellularTX)
            #expect(figures.totals.cellularRX.wide == expected.cellularRX)
            #expect(figures.secondsActive == UInt64(expected.activeSeconds.count))
            #expect(figures.rate.peak.wide == expected.peak)
            #expect(figures.txRate.peak.wide == (expected.activeSeconds.map(\.tx).max() ?? 0))
            #expect(figures.rxRate.peak.wide == (expected.activeSeconds.map(\.rx).max() ?? 0))
            // Within the documented precision: never above, less than 1/128
            // below; a window past 2^64−1 (hostile) is counted as 2^64−1.
            let p95 = UInt128(figures.rate.percentile95)
            let exact = min(expected.p95, UInt128(UInt64.max))
            #expect(p95 <= exact && exact - p95 <= exact / 128, "p95 \(p95) vs \(exact)")
        }
        // Largest total first.
        let totals = labels.map { $0.totals.total }
        #expect(totals == totals.sorted(by: >))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func totalsRatesAndGapsMatchBruteForce(seed: UInt64) throws {
        let events = generatedEvents(seed: seed, count: 4000)
        var random = TestRandom(seed: seed)
        let blocks = try decodedBlocks(events) { _ in 1 + random.below(300) }
        let figures = summarize(blocks)
        let reference = Reference(events)
        #expect(figures.events == reference.events)
        #expect(figures.firstTime == reference.first)
        #expect(figures.endTime == reference.end)
        expectLabels(figures.labels, match: reference.labels)
        #expect(figures.totals.total.wide == reference.labels.values.reduce(0) { $0 + $1.tx + $1.rx })
        #expect(figures.gaps.count == reference.gaps.count)
        #expect(figures.gaps.totalLength.wide == reference.gaps.reduce(0) { $0 + UInt128($1.length) })
        let longest = reference.gaps.sorted { $0.length != $1.length ? $0.length > $1.length : $0.start < $1.start }.prefix(5)
        #expect(figures.gaps.longest.map(\.start) == longest.map(\.start))
        #expect(figures.gaps.longest.map(\.length) == longest.map(\.length))
        #expect(figures.buckets.isEmpty)
    }

    @Test(arguments: [BucketSize.hour, .day, .week, .month],
          [0, 3_600_000, -19_800_000, 50_400_000] as [Int64])
    func bucketsMatchTheCalendar(size: BucketSize, offset: Int64) throws {
        let events = generatedEvents(seed: 7, count: 3000)
        let blocks = try decodedBlocks(events) { $0 % 2 == 0 ? 17 : 250 }
        let figures = summarize(blocks, options: SummaryOptions(bucketSize: size, utcOffset: offset))
        var byStart: [Int64: [Event]] = [:]
        for event in events {
            let start = try #require(referenceBucketStart(event.time, size: size, offset: offset))
            byStart[start, default: []].append(event)
        }
        #expect(figures.buckets.map(\.start) == byStart.keys.sorted())
        for (index, bucket) in figures.buckets.enumerated() {
            let expected = try #require(byStart[bucket.start])
            #expect(bucket.events == expected.count)
            #expect(expected.allSatisfy { $0.time >= bucket.start && $0.time < bucket.end })
            if index + 1 < figures.buckets.count { #expect(bucket.end <= figures.buckets[index + 1].start) }
            expectLabels(bucket.labels, match: Reference(expected).labels)
        }
        // The buckets add up to the whole.
        #expect(figures.buckets.reduce(0) { $0 + $1.totals.total.wide } == figures.totals.total.wide)
        expectLabels(figures.labels, match: Reference(events).labels)
    }

    /// Boundaries a calendar gets wrong when done by hand.
    @Test(arguments: [
        // 2026-11-30T00:00:00Z is a Monday, 2026-11-29T23:59:59.999Z the Sunday before.
        (BucketSize.week, Int64(1_796_083_200_000), Int64(0)),
        (BucketSize.week, Int64(1_796_083_199_999), Int64(0)),
        // Monday 00:30 at +01:00 is still Sunday in UTC.
        (BucketSize.week, Int64(1_796_081_400_000), Int64(3_600_000)),
        // Month ends: February of a leap year, December into January.
        (BucketSize.month, Int64(1_709_164_800_000), Int64(0)),  // 2024-02-29
        (BucketSize.month, Int64(1_709_251_199_999), Int64(0)),  // 2024-02-29T23:59:59.999Z
        (BucketSize.month, Int64(1_767_225_599_999), Int64(0)),  // 2025-12-31T23:59:59.999Z
        (BucketSize.month, Int64(1_767_225_600_000), Int64(-18_000_000)),  // 2026-01-01Z is 2025-12-31 at -05:00
        (BucketSize.day, Int64(-1), Int64(0)),  // before the epoch
        (BucketSize.hour, Int64(1_767_225_600_000), Int64(19_800_000)),  // +05:30
    ])
    func bucketBoundaries(size: BucketSize, time: Int64, offset: Int64) throws {
        let event = Event(time: time, duration: 100, counts: [LabelCounts(label: Label("a"), tx: 1, rx: 2)])
        let figures = summarize(try decodedBlocks([event]), options: SummaryOptions(bucketSize: size, utcOffset: offset))
        let bucket = try #require(figures.buckets.first)
        #expect(bucket.start == referenceBucketStart(time, size: size, offset: offset))
        // The end is where the next bucket starts.
        #expect(bucket.end == referenceBucketStart(bucket.end, size: size, offset: offset))
        #expect(bucket.start <= time && time < bucket.end)
    }

    @Test(arguments: [1, 2] as [UInt64])
    func theRangeKeepsOnlyItsEvents(seed: UInt64) throws {
        let events = generatedEvents(seed: seed, count: 2000)
        let times = events.map(\.time)
        let range = TimeRange(since: times[times.count / 4], until: times[times.count * 3 / 4])
        let blocks = try decodedBlocks(events) { _ in 100 }
        var summary = TrafficSummary()
        var counted = 0
        for block in blocks { counted += summary.add(block, range: range) }
        let reference = Reference(events, range: range)
        #expect(counted == reference.events)
        #expect(summary.figures.events == reference.events)
        expectLabels(summary.figures.labels, match: reference.labels)
    }

    /// Blocks out of time order (PATHs given out of order, a clock stepped
    /// back): totals stay exact; a window can only be split, never merged.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func outOfOrderInputKeepsTotals(seed: UInt64) throws {
        let events = generatedEvents(seed: seed, count: 3000)
        var random = TestRandom(seed: seed)
        var blocks = try decodedBlocks(events) { _ in 1 + random.below(200) }
        blocks.shuffle(using: &random)
        let figures = summarize(blocks, options: SummaryOptions(bucketSize: .day))
        let reference = Reference(events)
        #expect(figures.events == reference.events)
        #expect(figures.firstTime == reference.first)
        #expect(figures.endTime == reference.end)
        for label in figures.labels {
            let expected = try #require(reference.labels[label.label])
            #expect(label.totals.tx.wide == expected.tx)
            #expect(label.totals.rx.wide == expected.rx)
            #expect(label.totals.cellularRX.wide == expected.cellularRX)
            #expect(label.secondsActive >= UInt64(expected.activeSeconds.count))
            #expect(label.rate.peak.wide <= expected.peak)
        }
        #expect(figures.buckets.reduce(0) { $0 + $1.totals.total.wide } == figures.totals.total.wide)
    }

    /// Hostile counters near 2^64: sums past 2^64−1 neither wrap nor trap.
    @Test(arguments: [2, 3, 1000] as [Int])
    func totalsPastUInt64AreExact(events count: Int) throws {
        let big = UInt64.max - 5
        var events: [Event] = []
        for index in 0..<count {
            let counts = [LabelCounts(label: Label("x"), tx: big, rx: big - UInt64(index)),
                          LabelCounts(label: Label("y"), tx: 1, rx: 0)]
            let time: Int64 = 1_000_000 + Int64(index / 2) * 10
            events.append(Event(time: time, duration: 10, isCellular: index % 2 == 0, counts: counts))
        }
        let figures = summarize(try decodedBlocks(events) { _ in 7 }, options: SummaryOptions(bucketSize: .hour))
        let reference = Reference(events)
        expectLabels(figures.labels, match: reference.labels)
        let x = try #require(figures.labels.first { $0.label == Label("x") })
        #expect(x.totals.tx.description == String(UInt128(big) * UInt128(count)))
        // The JSON says the same digits.
        let json = String(decoding: SummaryJSON.render(figures, context: SummaryContext(source: "test")), as: UTF8.self)
        #expect(json.contains(#""x":{"tx":\#(UInt128(big) * UInt128(count)),"#))
    }

    @Test func anEmptySummaryHasNoTraffic() {
        let figures = TrafficSummary().figures
        #expect(figures.events == 0)
        #expect(figures.labels.isEmpty && figures.hasNoTraffic && figures.firstTime == nil)
        let text = SummaryText.render(figures, context: SummaryContext(source: "logs"))
        #expect(text == "no traffic was recorded in logs\n")
    }

    /// Labels seen only with zero bytes are listed, with nothing active.
    @Test func zeroByteEntriesListTheLabelButNoActivity() throws {
        let events = [Event(time: 5_000, duration: 100, counts: [LabelCounts(label: Label("idle"), tx: 0, rx: 0)])]
        let figures = summarize(try decodedBlocks(events))
        #expect(figures.labels.map(\.label) == [Label("idle")])
        #expect(figures.labels[0].secondsActive == 0 && figures.labels[0].rate.windows == 0)
        #expect(figures.hasNoTraffic)
    }
}

/// The histogram's precision, at the edges of its buckets.
@Suite struct RateDistributionTests {
    @Test(arguments: [0, 1, 127, 128, 129, 255, 256, 257, 1000, 65_535, 65_536, 1 << 40 | 12345,
                      UInt64.max / 2, UInt64.max - 1, UInt64.max] as [UInt64])
    func oneValueIsKeptWithinPrecision(value: UInt64) {
        var distribution = RateDistribution()
        distribution.record(ByteTotal(value))
        let p95 = distribution.percentile95
        #expect(p95 <= value && value - p95 <= value / 128)
        if value < 128 { #expect(p95 == value) }
        #expect(distribution.peak == ByteTotal(value))
    }

    @Test(arguments: [1, 2, 19, 20, 21, 100, 1001] as [Int])
    func percentileIsTheNearestRank(count: Int) {
        var random = TestRandom(seed: UInt64(count))
        let values = (0..<count).map { _ in UInt64(random.below(1 << 30)) }
        var distribution = RateDistribution()
        for value in values { distribution.record(ByteTotal(value)) }
        let sorted = values.sorted()
        for percent in [50, 95, 99, 100] {
            let rank = (count * percent + 99) / 100
            let exact = sorted[rank - 1]
            let estimate = distribution.percentile(percent)
            #expect(estimate <= exact && exact - estimate <= exact / 128, "p\(percent) of \(count)")
        }
        #expect(distribution.peak == ByteTotal(sorted.last!))
    }

    @Test func mergingIsRecordingBoth() {
        var random = TestRandom(seed: 9)
        var left = RateDistribution(), right = RateDistribution(), both = RateDistribution()
        for index in 0..<500 {
            let value = ByteTotal(UInt64(random.below(1 << 20)))
            if index % 3 == 0 { left.record(value) } else { right.record(value) }
            both.record(value)
        }
        left.merge(right)
        #expect(left.windows == both.windows && left.peak == both.peak)
        for percent in [1, 50, 95, 100] { #expect(left.percentile(percent) == both.percentile(percent)) }
    }
}

@Suite struct ByteTotalTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func sumsAndDecimalsMatchUInt128(seed: UInt64) {
        var random = TestRandom(seed: seed)
        var total = ByteTotal()
        var wide: UInt128 = 0
        for _ in 0..<10_000 {
            let value = random.oneIn(3) ? UInt64.max - random.next() % 1000 : random.next()
            total.add(value)
            wide += UInt128(value)
            #expect(total.description == String(wide))
        }
        #expect(ByteTotal(high: 1, low: 0).description == String(UInt128(1) << 64))
        #expect(ByteTotal(high: .max, low: .max).description == String(UInt128.max))
    }
}

extension RateDistributionTests {
    /// A compacted histogram answers as the dense one, and still takes windows.
    @Test(arguments: [0, 1, 300, 999] as [Int])
    func compactingChangesNoAnswer(compactAfter: Int) {
        var random = TestRandom(seed: UInt64(compactAfter) + 5)
        var dense = RateDistribution(), compacted = RateDistribution()
        for index in 0..<1000 {
            if index == compactAfter { compacted.compact() }
            let value = ByteTotal(random.oneIn(5) ? random.next() : UInt64(random.below(1 << 16)))
            dense.record(value)
            compacted.record(value)
        }
        #expect(compacted.windows == dense.windows && compacted.peak == dense.peak)
        for percent in [1, 25, 50, 90, 95, 99, 100] { #expect(compacted.percentile(percent) == dense.percentile(percent)) }
        var merged = RateDistribution()
        merged.merge(compacted)
        #expect(merged.percentile95 == dense.percentile95)
    }
}

extension TrafficSummaryTests {
    /// Times and durations at the ends of Int64 (hostile logs): no trap,
    /// totals exact, every bucket holds its events, the output renders.
    @Test(arguments: BucketSize.all)
    func extremeTimesDoNotTrap(size: BucketSize) throws {
        let times: [Int64] = [.min, .min + 1, -86_400_001, -1, 0, 1, .max - 1, .max]
        var events: [Event] = []
        for (index, time) in times.enumerated() {
            let duration: Int64 = index % 2 == 0 ? .max : 100
            events.append(Event(time: time, duration: duration, counts: [LabelCounts(label: Label("a"), tx: UInt64.max, rx: 1)]))
        }
        var blocks: [DecodedBlock] = []
        for event in events { blocks += try decodedBlocks([event]) }
        for offset in [0, 50_400_000, -64_800_000] as [Int64] {
            let figures = summarize(blocks, options: SummaryOptions(bucketSize: size, utcOffset: offset))
            #expect(figures.events == times.count)
            #expect(figures.labels.first?.totals.tx.wide == UInt128(UInt64.max) * UInt128(times.count))
            #expect(figures.firstTime == .min && figures.endTime == .max)
            for bucket in figures.buckets { #expect(bucket.start <= bucket.end) }
            #expect(figures.buckets.reduce(0) { $0 + $1.events } == (size == .total ? 0 : times.count))
            let context = SummaryContext(source: "hostile")
            #expect(!SummaryText.render(figures, context: context).isEmpty)
            #expect(!SummaryJSON.render(figures, context: context).isEmpty)
        }
    }
}
