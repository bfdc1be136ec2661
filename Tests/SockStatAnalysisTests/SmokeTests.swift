import SockStatAnalysis
import SockStatFormat
import Testing

@Test func oneEventIsCounted() throws {
    let events = [Event(time: 1_000, duration: 100, isCellular: true, counts: [LabelCounts(label: Label("8"), tx: 5, rx: 7)])]
    var summary = TrafficSummary()
    for block in try decodedBlocks(events) { summary.add(block) }
    let figures = summary.figures
    #expect(figures.events == 1)
    #expect(figures.labels.count == 1)
    #expect(figures.labels[0].totals.tx == ByteTotal(5))
    #expect(figures.labels[0].totals.cellularRX == ByteTotal(7))
    #expect(figures.labels[0].rate.peak == ByteTotal(12))
}
