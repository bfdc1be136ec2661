import SockStatFormat
@testable import SockStatRecorder
import Testing

func snapshot(_ values: [(String, UInt64, UInt64)], cellular: Bool = false) -> CounterSnapshot {
    var result = CounterSnapshot()
    for (label, tx, rx) in values { result.append(Label(label), tx: tx, rx: rx) }
    result.isCellular = cellular
    return result
}

func counts(_ values: [(String, UInt64, UInt64)]) -> [LabelCounts] {
    values.map { LabelCounts(label: Label($0.0), tx: $0.1, rx: $0.2) }.sorted { $0.label < $1.label }
}

struct DeltaTrackerTests {
    /// The seed's delta table (sockstatlog's delta()), then what it got wrong.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var before: [(String, UInt64, UInt64)]
        var after: [(String, UInt64, UInt64)]
        var expected: [(String, UInt64, UInt64)]
        var resets = 0
        var wraps = 0
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing before, nothing after", before: [], after: [], expected: []),
        Case(name: "no change", before: [("a", 1, 2)], after: [("a", 1, 2)], expected: []),
        Case(name: "tx after empty", before: [], after: [("a", 5, 0)], expected: [("a", 5, 0)]),
        Case(name: "rx after non-empty", before: [("a", 5, 7)], after: [("a", 5, 10)], expected: [("a", 0, 3)]),
        Case(name: "unchanged labels left out", before: [("a", 1, 1), ("b", 2, 2)], after: [("a", 1, 1), ("b", 3, 2)],
             expected: [("b", 1, 0)]),
        Case(name: "label appearing counts from zero", before: [("a", 1, 1)], after: [("a", 1, 1), ("new", 9, 4)],
             expected: [("new", 9, 4)]),
        Case(name: "label appearing at zero is not a change", before: [("a", 1, 1)], after: [("a", 1, 1), ("z", 0, 0)],
             expected: []),
        Case(name: "label vanishing gives nothing", before: [("a", 1, 1), ("b", 5, 5)], after: [("a", 1, 1)], expected: []),
        Case(name: "reset counts from zero, not near 2^64", before: [("a", 1_000_000_000_000, 50)], after: [("a", 300, 60)],
             expected: [("a", 300, 10)], resets: 1),
        Case(name: "reset of both counters", before: [("a", 5_000_000_000, 6_000_000_000)], after: [("a", 1, 2)],
             expected: [("a", 1, 2)], resets: 2),
        Case(name: "32-bit wrap", before: [("eth0", 4_294_967_000, 10)], after: [("eth0", 100, 10)],
             expected: [("eth0", 396, 0)], wraps: 1),
        Case(name: "32-bit counter falling from the middle is a reset", before: [("eth0", 2_000_000_000, 0)],
             after: [("eth0", 100, 0)], expected: [("eth0", 100, 0)], resets: 1),
        Case(name: "UInt64 extremes", before: [("a", 0, UInt64.max - 1)], after: [("a", UInt64.max, UInt64.max)],
             expected: [("a", UInt64.max, 1)]),
    ]

    @Test(arguments: cases)
    func deltasFollowTheRules(_ entry: Case) {
        var tracker = DeltaTracker()
        var result: [LabelCounts] = []
        #expect(tracker.update(with: snapshot(entry.before), into: &result) == false, "first snapshot is a baseline")
        #expect(result.isEmpty)
        let changed = tracker.update(with: snapshot(entry.after), into: &result)
        #expect(changed == !entry.expected.isEmpty)
        #expect(result == counts(entry.expected))
        #expect(tracker.resets == entry.resets)
        #expect(tracker.wraps == entry.wraps)
    }

    @Test func aVanishedLabelCountsFromZeroWhenItReturns() {
        var tracker = DeltaTracker()
        var result: [LabelCounts] = []
        _ = tracker.update(with: snapshot([("a", 100, 100)]), into: &result)
        _ = tracker.update(with: snapshot([]), into: &result)
        #expect(tracker.update(with: snapshot([("a", 7, 8)]), into: &result))
        #expect(result == counts([("a", 7, 8)]))
        #expect(tracker.resets == 0)
    }

    @Test func resetStartsANewBaseline() {
        var tracker = DeltaTracker()
        var result: [LabelCounts] = []
        _ = tracker.update(with: snapshot([("a", 1, 1)]), into: &result)
        tracker.reset()
        #expect(tracker.update(with: snapshot([("a", 50, 50)]), into: &result) == false)
        #expect(tracker.update(with: snapshot([("a", 51, 50)]), into: &result))
        #expect(result == counts([("a", 1, 0)]))
    }

    /// `update` overwrites the result in place, keeping labels already
    /// there; whatever the array held before, the result must be what a
    /// fresh array gets. Random polls over a few labels: subsets, orders,
    /// counters that grow, stay, or fall back.
    @Test func aReusedResultGivesWhatAFreshOneGives() {
        // A fixed-seed linear congruential sequence: the same polls every run.
        var state: UInt64 = 0xDE17A
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let pool = ["a", "b", "dns", "eth0", "wlan0", "z"].map { Label($0) }
        var values = [UInt64](repeating: 0, count: pool.count)
        var reusing = DeltaTracker()
        var fresh = DeltaTracker()
        var reused = counts([("stale", 1, 1), ("zz", 2, 2), ("a", 3, 3)])
        for poll in 0..<5000 {
            var snapshot = CounterSnapshot()
            var order = Array(pool.indices)
            for position in order.indices.reversed() { order.swapAt(position, Int(next() % UInt64(position + 1))) }
            for index in order where next() % 4 != 0 {
                switch next() % 8 {
                case 0: values[index] = next() % 100  // may fall back: a reset
                case 1, 2, 3: values[index] += next() % 1000
                default: break
                }
                snapshot.append(pool[index], tx: values[index], rx: values[index] / 2)
            }
            var expected: [LabelCounts] = []
            let changed = fresh.update(with: snapshot, into: &expected)
            #expect(reusing.update(with: snapshot, into: &reused) == changed, "poll \(poll)")
            #expect(reused == expected, "poll \(poll)")
        }
    }
}
