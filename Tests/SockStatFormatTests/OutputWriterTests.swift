import Foundation
import SockStatFormat
import Testing
import TestSupport

/// Collects what an OutputBuffer drains.
final class CollectingSink {
    var bytes: [UInt8] = []
}

/// Runs every block of `segment` through `writer`, then finishes it.
func writerOutput<W: DecodedBlockWriter>(_ segment: [UInt8], through writer: inout W, range: TimeRange = TimeRange()) throws -> [UInt8] {
    try writerOutput(segments: [segment], through: &writer, range: range)
}

/// Runs every block of `segments`, in order, through `writer`, then finishes it.
func writerOutput<W: DecodedBlockWriter>(segments: [[UInt8]], through writer: inout W, range: TimeRange = TimeRange()) throws -> [UInt8] {
    let sink = CollectingSink()
    let output = OutputBuffer(capacity: 65536) { sink.bytes.append(contentsOf: $0) }
    var decoder = BlockDecoder()
    var block = DecodedBlock()
    for segment in segments {
        var reader = try SegmentReader(bytes: segment)
        loop: while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block: _ = try writer.write(block, to: output, range: range)
            case .damage(let damage): Issue.record("unexpected damage \(damage)")
            case .end: break loop
            }
        }
    }
    try writer.finish(to: output)
    try output.flush()
    return sink.bytes
}

/// CSV and TSV rows (DelimitedTextBlockWriter) and windows (WindowingBlockWriter).
struct OutputWriterTests {
    /// The label's text as canonical JSON gives it, unescaped by Foundation's
    /// JSON reader: the text Spec/OUTPUT.md says CSV and TSV carry.
    static func unescapedJSONText(of label: Label) throws -> [UInt8] {
        var json: [UInt8] = Array("[".utf8)
        CanonicalJSON.appendString(label.bytes, to: &json)
        json.append(UInt8(ascii: "]"))
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String])
        return Array(array[0].utf8)
    }

    /// Spec/OUTPUT.md's CSV and TSV fields, written here from the Spec.
    static func field(_ text: [UInt8], csv: Bool) -> [UInt8] {
        if csv {
            let special: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "\r"), UInt8(ascii: "\n")]
            guard text.isEmpty || text.contains(where: special.contains) else { return text }
            return [UInt8(ascii: "\"")] + text.flatMap { $0 == UInt8(ascii: "\"") ? [$0, $0] : [$0] } + [UInt8(ascii: "\"")]
        }
        return text.flatMap { byte -> [UInt8] in
            switch byte {
            case UInt8(ascii: "\\"): Array(#"\\"#.utf8)
            case UInt8(ascii: "\t"): Array(#"\t"#.utf8)
            case UInt8(ascii: "\n"): Array(#"\n"#.utf8)
            case UInt8(ascii: "\r"): Array(#"\r"#.utf8)
            default: [byte]
            }
        }
    }

    /// Hostile random events (invalid UTF-8, control bytes, empty labels,
    /// extreme values): every row is the event's label, unescaped from its
    /// canonical JSON, with t, d, c, tx and rx; no row for an event without labels.
    @Test(arguments: [(1 as UInt64, true), (2, true), (3, false), (4, false)])
    func rowsAreTheCanonicalEventsOneLabelEach(_ seed: UInt64, _ csv: Bool) throws {
        var generator = EventGenerator(seed: seed)
        let blocks = (0..<6).map { _ in (0..<40).map { _ in generator.event() } }
        let segment = try buildSegment(blocks: blocks).bytes
        var writer = DelimitedTextBlockWriter(dialect: csv ? .csv : .tsv)
        let output = try writerOutput(segment, through: &writer)

        let separator = csv ? UInt8(ascii: ",") : UInt8(ascii: "\t")
        var expected: [UInt8] = Array((csv ? "t,d,c,label,tx,rx\n" : "t\td\tc\tlabel\ttx\trx\n").utf8)
        for event in blocks.joined().map(canonical) {
            for entry in event.counts {
                let fields: [[UInt8]] = [Array(String(event.time).utf8), Array(String(event.duration).utf8),
                                         Array((event.isCellular ? "1" : "0").utf8),
                                         Self.field(try Self.unescapedJSONText(of: entry.label), csv: csv),
                                         Array(String(entry.tx).utf8), Array(String(entry.rx).utf8)]
                expected += Array(fields.joined(separator: [separator])) + [UInt8(ascii: "\n")]
            }
        }
        #expect(output == expected)
    }

    @Test func invalidUTF8BecomesOneReplacementCharacterPerByte() throws {
        // Go's rule: a truncated sequence is two bad bytes, not one.
        let segment = try buildSegment(blocks: [[Event(time: 1, duration: 2, counts: [
            LabelCounts(label: Label(bytes: [0x61, 0xE2, 0x82, 0xFF, 0x2C]), tx: 3, rx: 4),
        ])]]).bytes
        var writer = DelimitedTextBlockWriter(dialect: .csv)
        let output = try writerOutput(segment, through: &writer)
        #expect(String(decoding: output, as: UTF8.self) == "t,d,c,label,tx,rx\n1,2,0,\"a\u{FFFD}\u{FFFD}\u{FFFD},\",3,4\n")
    }

    @Test func headerOnlyWhenThereIsNothingAndNoneWhenAskedNot() throws {
        let empty = try buildSegment(blocks: []).bytes
        var withHeader = DelimitedTextBlockWriter(dialect: .tsv)
        #expect(try writerOutput(empty, through: &withHeader) == Array("t\td\tc\tlabel\ttx\trx\n".utf8))
        var without = DelimitedTextBlockWriter(dialect: .csv, writesHeader: false)
        #expect(try writerOutput(empty, through: &without).isEmpty)
    }

    // MARK: Windows

    @Test func windowFloorsTowardMinusInfinityAndIsCutAtInt64Min() {
        var random = TestRandom(seed: 9)
        for _ in 0..<20_000 {
            let resolution = [1, 7, 100, 1_000, 86_400_000, 366 * 86_400_000][random.below(6)] as Int64
            let time: Int64 = switch random.below(4) {
            case 0: Int64.min &+ Int64(random.below(1_000_000_000))
            case 1: Int64.max &- Int64(random.below(1_000_000_000))
            case 2: Int64(random.below(10_000)) - 5_000
            default: Int64(bitPattern: random.next())
            }
            let (start, duration) = WindowingBlockWriter<CanonicalJSONBlockWriter>.window(containing: time, resolution: resolution)
            // In 128 bits: the true window is [floor(t / r) * r, + r), clipped below at Int64.min.
            let wide = Int128(time), r = Int128(resolution)
            let floorStart = (wide >= 0 ? wide / r : (wide - r + 1) / r) * r
            let clippedStart = max(floorStart, Int128(Int64.min))
            #expect(Int128(start) == clippedStart, "t \(time) r \(resolution)")
            #expect(Int128(duration) == floorStart + r - clippedStart, "t \(time) r \(resolution)")
        }
    }

    /// A plain model of Spec/OUTPUT.md's windows, written here from the Spec.
    static func modelWindows(_ events: [Event], resolution: Int64) -> [Event] {
        var out: [Event] = []
        var current: (start: Int64, duration: Int64)?
        var sums: [Bool: [[UInt8]: (UInt64, UInt64)]] = [:]
        func emit(_ cellular: Bool) {
            guard let window = current, let group = sums[cellular] else { return }
            let counts = group.map { LabelCounts(label: Label(bytes: $0.key), tx: $0.value.0, rx: $0.value.1) }
            out.append(canonical(Event(time: window.start, duration: window.duration, isCellular: cellular, counts: counts)))
            sums[cellular] = nil
        }
        for event in events {
            // Already coarser than asked (a rollup tier's event): a run of its own, unchanged.
            if event.duration > resolution {
                emit(false)
                emit(true)
                current = nil
                out.append(canonical(event))
                continue
            }
            let wide = Int128(event.time), r = Int128(resolution)
            let floorStart = (wide >= 0 ? wide / r : (wide - r + 1) / r) * r
            let start = max(floorStart, Int128(Int64.min))
            let window = (Int64(start), Int64(floorStart + r - start))
            if let open = current, open.start != window.0 { emit(false); emit(true) }
            current = window
            var group = sums[event.isCellular] ?? [:]
            let overflows = event.counts.contains { entry in
                guard let sum = group[entry.label.bytes] else { return false }
                return UInt128(sum.0) + UInt128(entry.tx) > UInt128(UInt64.max) || UInt128(sum.1) + UInt128(entry.rx) > UInt128(UInt64.max)
            }
            if overflows { sums[event.isCellular] = group; emit(event.isCellular); group = [:] }
            for entry in event.counts {
                let sum = group[entry.label.bytes] ?? (0, 0)
                group[entry.label.bytes] = (sum.0 + entry.tx, sum.1 + entry.rx)
            }
            sums[event.isCellular] = group
        }
        emit(false)
        emit(true)
        return out
    }

    /// Events clustered in time (so windows hold many), going backwards now
    /// and then, cellular and not, counters near 2^64 (so sums overflow):
    /// the writer gives the model's events, and every label's total is kept.
    @Test(arguments: [(11 as UInt64, 1_000 as Int64), (12, 100), (13, 10_000), (14, 1), (15, 60_000)])
    func windowsAreTheModelsAndKeepEveryTotal(_ seed: UInt64, _ resolution: Int64) throws {
        var random = TestRandom(seed: seed)
        var time: Int64 = random.oneIn(2) ? -5_000 : 1_764_288_339_865
        let names = ["a", "b", "", "c\u{2028}", "x,y"].map(Label.init) + [Label(bytes: [0xFF])]
        var blocks: [[Event]] = []
        for _ in 0..<8 {
            var events: [Event] = []
            for _ in 0..<(50 + random.below(100)) {
                time += random.oneIn(15) ? -Int64(random.below(3_000)) : Int64(random.below(300))
                var counts: [LabelCounts] = []
                for name in names where random.oneIn(3) {
                    let huge = random.oneIn(4)
                    counts.append(LabelCounts(label: name, tx: huge ? UInt64.max - UInt64(random.below(3)) : UInt64(random.below(1_000)),
                                              rx: huge && random.oneIn(2) ? UInt64.max / 2 + 1 : UInt64(random.below(1_000))))
                }
                // Now and then a tier's event, coarser than some resolutions asked.
                let duration: Int64 = random.oneIn(12) ? [1_000, 60_000, 3_600_000][random.below(3)] : 100
                events.append(Event(time: time, duration: duration, isCellular: random.oneIn(3), counts: counts))
            }
            blocks.append(events)
        }
        let segment = try buildSegment(blocks: blocks).bytes
        var writer = WindowingBlockWriter(inner: CanonicalJSONBlockWriter(), resolution: resolution)
        let output = try writerOutput(segment, through: &writer)
        let model = Self.modelWindows(blocks.flatMap { $0 }, resolution: resolution)
        #expect(output == model.flatMap(CanonicalJSON.line(for:)))
        #expect(model.count > 10)

        func totals(_ events: [Event]) -> [[UInt8]: [UInt128]] {
            var sums: [[UInt8]: [UInt128]] = [:]
            for event in events {
                for entry in event.counts {
                    // By the label's text: the JSON lines read back carry U+FFFD for byte FF.
                    let key = Array(String(decoding: entry.label.bytes, as: UTF8.self).utf8) + [event.isCellular ? 1 : 0]
                    let sum = sums[key] ?? [0, 0]
                    sums[key] = [sum[0] + UInt128(entry.tx), sum[1] + UInt128(entry.rx)]
                }
            }
            return sums
        }
        let parser = JSONLinesParser()
        var decoded: [Event] = []
        for (number, line) in output.split(separator: UInt8(ascii: "\n")).enumerated() {
            if let event = try parser.parse(Array(line), lineNumber: number + 1) { decoded.append(event) }
        }
        #expect(totals(decoded) == totals(blocks.flatMap { $0 }))
    }

    /// A hostile log with ever new labels: past 65,536 labels the writer
    /// forgets them between windows (memory stays bounded) and the output is
    /// still the model's, the labels met again after that included.
    @Test func everNewLabelsAreForgottenBetweenWindowsWithoutChangingTheOutput() throws {
        var blocks: [[Event]] = []
        var serial = 0
        for blockIndex in 0..<100 {
            var events: [Event] = []
            for eventIndex in 0..<100 {
                var counts = [LabelCounts(label: Label("steady"), tx: 1, rx: UInt64(eventIndex))]
                for _ in 0..<7 {
                    counts.append(LabelCounts(label: Label("new-\(serial)"), tx: UInt64(serial), rx: 1))
                    serial += 1
                }
                // Windows across block boundaries, so labels are forgotten mid-block too.
                let time = Int64(blockIndex * 100 + eventIndex) * 100 + 350
                events.append(Event(time: time, duration: 100, isCellular: eventIndex % 7 == 0, counts: counts))
            }
            blocks.append(events)
        }
        #expect(serial > 65_536)
        // A segment's label dictionary is bounded: ten blocks each.
        let segments = try stride(from: 0, to: blocks.count, by: 10).map {
            try buildSegment(sequence: UInt64($0 + 1), blocks: Array(blocks[$0..<min($0 + 10, blocks.count)])).bytes
        }
        var writer = WindowingBlockWriter(inner: CanonicalJSONBlockWriter(), resolution: 1_000)
        let output = try writerOutput(segments: segments, through: &writer)
        #expect(output == Self.modelWindows(blocks.flatMap { $0 }, resolution: 1_000).flatMap(CanonicalJSON.line(for:)))
    }

    /// A tiered history as a directory reads it (1 h tier, 1 min tier, then
    /// recorded 100 ms events), at resolutions from finer than every tier to
    /// coarser than all: the model's output; no output event is finer than
    /// both the resolution and the event it came from (a tier's events pass
    /// unchanged where the resolution is finer); every total is kept.
    @Test(arguments: [1 as Int64, 100, 1_000, 60_000, 3_600_000, 86_400_000])
    func aResolutionFinerThanATiersIsGivenAtTheTiers(_ resolution: Int64) throws {
        let hour: Int64 = 3_600_000, minute: Int64 = 60_000
        let start: Int64 = 1_764_288_000_000 // a whole day
        var hours: [Event] = [], minutes: [Event] = [], recorded: [Event] = []
        for index in 0..<30 {
            let counts = [LabelCounts(label: Label("a"), tx: UInt64(index) + 1, rx: 7), LabelCounts(label: Label("b"), tx: UInt64.max - 3, rx: 0)]
            let time: Int64 = start + Int64(index / 2) * hour
            hours.append(Event(time: time, duration: hour, isCellular: index % 2 == 1, counts: counts))
        }
        for index in 0..<200 {
            let time: Int64 = start + 15 * hour + Int64(index / 2) * minute
            minutes.append(Event(time: time, duration: minute, isCellular: index % 2 == 1, counts: [LabelCounts(label: Label("b"), tx: 3, rx: UInt64(index))]))
        }
        for index in 0..<3_000 {
            let time: Int64 = start + 15 * hour + 100 * minute + Int64(index) * 100
            let counts = index % 9 == 0 ? [] : [LabelCounts(label: Label("a"), tx: UInt64(index), rx: 1)]
            recorded.append(Event(time: time, duration: 100, isCellular: index % 5 == 0, counts: counts))
        }
        let segments = try [hours, minutes, recorded].enumerated().map { try buildSegment(sequence: UInt64($0.offset + 1), blocks: [$0.element]).bytes }
        var writer = WindowingBlockWriter(inner: CanonicalJSONBlockWriter(), resolution: resolution)
        let output = try writerOutput(segments: segments, through: &writer)
        let model = Self.modelWindows(hours + minutes + recorded, resolution: resolution)
        #expect(output == model.flatMap(CanonicalJSON.line(for:)))
        #expect(model.allSatisfy { $0.duration >= resolution })
        // A tier's event passes unchanged exactly when the resolution is finer than its window.
        #expect(model.contains { $0.duration == hour } == (resolution <= hour))
        #expect(model.contains { $0.duration == minute } == (resolution <= minute))
        var inputTotals: [Bool: UInt128] = [:], outputTotals: [Bool: UInt128] = [:]
        for event in hours + minutes + recorded { for entry in event.counts { inputTotals[event.isCellular, default: 0] += UInt128(entry.tx) + UInt128(entry.rx) } }
        for event in model { for entry in event.counts { outputTotals[event.isCellular, default: 0] += UInt128(entry.tx) + UInt128(entry.rx) } }
        #expect(inputTotals == outputTotals)
    }

    @Test func rangeChoosesEventsByTheirOwnTimeBeforeMerging() throws {
        let events = (0..<10).map { Event(time: 1_000 + Int64($0) * 100, duration: 100, counts: [LabelCounts(label: Label("a"), tx: 1, rx: 2)]) }
        let segment = try buildSegment(blocks: [events]).bytes
        var writer = WindowingBlockWriter(inner: CanonicalJSONBlockWriter(), resolution: 1_000)
        let output = try writerOutput(segment, through: &writer, range: TimeRange(since: 1_300, until: 1_600))
        #expect(output == CanonicalJSON.line(for: Event(time: 1_000, duration: 1_000, counts: [LabelCounts(label: Label("a"), tx: 3, rx: 6)])))
    }

    /// Windows with CSV inside: composition, not a copy.
    @Test func windowsWriteThroughTheTableWriter() throws {
        let events = [Event(time: 5, duration: 1, isCellular: true, counts: [LabelCounts(label: Label("a"), tx: 1, rx: 1)]),
                      Event(time: 7, duration: 1, counts: [LabelCounts(label: Label("b,c"), tx: 2, rx: 3)]),
                      Event(time: 9, duration: 1, isCellular: true, counts: [LabelCounts(label: Label("a"), tx: 4, rx: 4)])]
        let segment = try buildSegment(blocks: [events]).bytes
        var writer = WindowingBlockWriter(inner: DelimitedTextBlockWriter(dialect: .csv), resolution: 10)
        let output = try writerOutput(segment, through: &writer)
        #expect(String(decoding: output, as: UTF8.self) == "t,d,c,label,tx,rx\n0,10,0,\"b,c\",2,3\n0,10,1,a,5,5\n")
    }
}
