import Foundation
import SockStatAnalysis
import SockStatFormat
import TestSupport

/// Events like a phone's: mostly 100 ms apart, sometimes seconds, now and
/// then asleep for minutes or days (so buckets, weeks and months are
/// crossed), with labels that are numbers, names, control characters and
/// invalid UTF-8, and counts from 0 to a gigabyte.
func generatedEvents(seed: UInt64, count: Int, start: Int64 = 1_766_880_000_000) -> [Event] {
    // 1_766_880_000_000 is 2025-12-28T00:00:00Z, a Sunday: a week, a month and a year end soon after.
    var random = TestRandom(seed: seed)
    let pool: [Label] = [Label("0"), Label("1"), Label("8"), Label("9"), Label("wlan0"), Label("\u{7}bell"),
                         Label(bytes: [0xFF, 0x41]), Label("é"), Label("")]
    var time = start + Int64(random.below(1000))
    var events: [Event] = []
    for _ in 0..<count {
        switch random.below(1000) {
        case 0..<2: time += Int64(86_400_000 + random.below(20 * 86_400_000))
        case 2..<12: time += Int64(60_000 + random.below(600_000))
        case 12..<60: time += Int64(random.below(5_000))
        default: time += 100
        }
        var counts: [LabelCounts] = []
        for label in pool where random.oneIn(4) {
            func amount() -> UInt64 {
                switch random.below(10) {
                case 0: 0
                case 1..<6: UInt64(random.below(200))
                case 6..<9: UInt64(random.below(100_000))
                default: UInt64(random.below(1_000_000_000))
                }
            }
            counts.append(LabelCounts(label: label, tx: amount(), rx: amount()))
        }
        events.append(Event(time: time, duration: Int64(random.below(3) == 0 ? random.below(2000) : 100),
                            isCellular: random.oneIn(3), counts: counts))
    }
    return events
}

/// The figures of one label computed the slow, obvious way.
struct ReferenceLabel {
    var tx: UInt128 = 0, rx: UInt128 = 0, cellularTX: UInt128 = 0, cellularRX: UInt128 = 0
    /// Bytes per UTC second (sent + received, sent, received).
    var seconds: [Int64: (both: UInt128, tx: UInt128, rx: UInt128)] = [:]

    var activeSeconds: [(both: UInt128, tx: UInt128, rx: UInt128)] { seconds.values.filter { $0.both > 0 } }
    var peak: UInt128 { activeSeconds.map(\.both).max() ?? 0 }

    /// The nearest-rank 95th percentile of the active seconds, exactly.
    var p95: UInt128 {
        let sorted = activeSeconds.map(\.both).sorted()
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((Double(sorted.count) * 0.95).rounded(.up))
        return sorted[max(rank, 1) - 1]
    }
}

/// Everything a summary reports, by brute force over all events.
struct Reference {
    var labels: [Label: ReferenceLabel] = [:]
    var events = 0
    var first: Int64?
    var end: Int64?
    var gaps: [(start: Int64, length: Int64)] = []

    /// `events` in `range`, gaps over `threshold` ms found by sorting by `t`.
    init(_ events: [Event], range: TimeRange = TimeRange(), gapThreshold: Int64 = 60_000) {
        let kept = events.filter { range.contains($0.time) }
        self.events = kept.count
        for event in kept {
            for count in event.counts {
                var label = labels[count.label, default: ReferenceLabel()]
                label.tx += UInt128(count.tx)
                label.rx += UInt128(count.rx)
                if event.isCellular {
                    label.cellularTX += UInt128(count.tx)
                    label.cellularRX += UInt128(count.rx)
                }
                // Rates come from events of at most 1 s (a tier's longer event has totals only).
                guard event.duration <= 1000 else {
                    labels[count.label] = label
                    continue
                }
                let second = Int64((Double(event.time) / 1000).rounded(.down))
                var window = label.seconds[second, default: (0, 0, 0)]
                window.both += UInt128(count.tx) + UInt128(count.rx)
                window.tx += UInt128(count.tx)
                window.rx += UInt128(count.rx)
                label.seconds[second] = window
                labels[count.label] = label
            }
        }
        first = kept.map(\.time).min()
        end = kept.map { $0.time + max($0.duration, 0) }.max()
        var latest: Int64?
        for event in kept.sorted(by: { $0.time < $1.time }) {
            if let previous = latest, event.time - previous > gapThreshold {
                gaps.append((previous, event.time - previous))
            }
            latest = max(latest ?? .min, event.time + max(event.duration, 0))
        }
    }
}

/// The start of the bucket holding `time`, from Foundation's calendar
/// (weeks from Monday) at `offset` ms east of UTC: independent of
/// `BucketSize`'s arithmetic.
func referenceBucketStart(_ time: Int64, size: BucketSize, offset: Int64) -> Int64? {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: Int(offset / 1000))!
    calendar.firstWeekday = 2
    let component: Calendar.Component
    switch size {
    case .hour: component = .hour
    case .day: component = .day
    case .week: component = .weekOfYear
    case .month: component = .month
    default: return nil
    }
    let date = Date(timeIntervalSince1970: Double(time) / 1000)
    guard let interval = calendar.dateInterval(of: component, for: date) else { return nil }
    return Int64((interval.start.timeIntervalSince1970 * 1000).rounded())
}

extension ByteTotal {
    /// As a `UInt128`, to compare with the reference.
    var wide: UInt128 { UInt128(high) << 64 | UInt128(low) }
}

/// Feeds `blocks` to a fresh summary.
func summarize(_ blocks: [DecodedBlock], options: SummaryOptions = SummaryOptions(), range: TimeRange = TimeRange()) -> SummaryFigures {
    var summary = TrafficSummary(options: options)
    for block in blocks { summary.add(block, range: range) }
    return summary.figures
}
