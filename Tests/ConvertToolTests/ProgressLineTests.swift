import SockStatAnalysis
import Testing
@testable import sockstat_convert

/// `ProgressLine` on a clock the test moves.
struct ProgressLineTests {
    /// A clock and a terminal the test owns.
    final class Screen {
        var now: UInt64 = 1_000_000_000
        var written: [UInt8] = []
        var text: String { String(decoding: written, as: UTF8.self) }
    }

    private func line(_ screen: Screen, bytes: Int = 100 << 20, segments: Int = 400, width: Int = 80) -> ProgressLine {
        ProgressLine(totalBytes: bytes, totalSegments: segments, width: width,
                     clock: { screen.now }, write: { screen.written += $0 })
    }

    @Test func nothingIsDrawnInTheFirstTenthOfASecond() {
        let screen = Screen()
        let progress = line(screen)
        for _ in 0..<50 {
            screen.now += 1_000_000  // 1 ms
            progress.advance(bytes: 1 << 16)
        }
        progress.finish()
        #expect(screen.written.isEmpty, "\(screen.text)")
    }

    /// Advanced every millisecond for 3 s, it draws at most 10 times a
    /// second (30 in all), and at least once per tenth that saw progress.
    @Test func drawsAtMostTenTimesASecond() {
        let screen = Screen()
        let progress = line(screen)
        let start = screen.now
        var drawTimes: [UInt64] = []
        for _ in 0..<3000 {
            screen.now += 1_000_000
            let before = progress.draws
            progress.advance(bytes: 1 << 15)
            if progress.draws > before { drawTimes.append(screen.now) }
        }
        #expect(progress.draws == drawTimes.count)
        #expect(progress.draws <= 30)
        #expect(progress.draws >= 29)
        for (earlier, later) in zip([start] + drawTimes, drawTimes) {
            #expect(later - earlier >= ProgressLine.redrawNanoseconds)
        }
        // Each draw is a carriage return, the text and a clear to the end of the line.
        #expect(screen.written.filter { $0 == 0x0D }.count == progress.draws)
        #expect(screen.written.filter { $0 == 0x1B }.count == progress.draws)
        progress.finish()
        #expect(screen.text.hasSuffix("\u{1B}[K\r\u{1B}[K"))
    }

    @Test func theLineSaysBytesSegmentsRateAndTimeLeft() {
        let screen = Screen()
        let progress = line(screen, bytes: 40 << 20, segments: 160)
        screen.now += 2_000_000_000
        progress.advance(bytes: 10 << 20, segments: 40)
        // 10 MiB in 2 s: 5 MiB/s; 30 MiB left: 6 s.
        #expect(progress.text == "sockstat-convert: 10.0 of 40.0 MiB, 40 of 160 segments, 5.0 MiB/s, 6 s left")
        #expect(screen.text == "\r" + progress.text + "\u{1B}[K")
    }

    @Test func aLongLineIsCutToTheTerminalWidth() {
        let screen = Screen()
        let progress = line(screen, width: 30)
        screen.now += 200_000_000
        progress.advance(bytes: 1 << 20)
        #expect(screen.text == "\r" + String(progress.text.prefix(29)) + "\u{1B}[K")
    }

    /// A note printed mid-read starts on an erased line, and the line comes
    /// back only at the next draw due.
    @Test func aNoteIsNotGluedToTheLine() {
        let screen = Screen()
        let progress = line(screen)
        screen.now += 200_000_000
        progress.advance(bytes: 1 << 20)
        progress.interrupt { screen.written += Array("sockstat-convert: a note\n".utf8) }
        #expect(screen.text.hasSuffix("\u{1B}[K\r\u{1B}[Ksockstat-convert: a note\n"))
        let draws = progress.draws
        progress.advance(bytes: 1)
        #expect(progress.draws == draws)
        screen.now += 100_000_000
        progress.advance(bytes: 1)
        #expect(progress.draws == draws + 1)
        #expect(screen.text.hasSuffix("a note\n\r" + progress.text + "\u{1B}[K"))
        // With nothing shown, a note is printed as is, and the end erases nothing.
        let quiet = Screen()
        let idle = line(quiet)
        idle.interrupt { quiet.written += Array("note\n".utf8) }
        idle.finish()
        #expect(quiet.text == "note\n")
    }

    @Test func minutesLeftAreShownAsMinutes() {
        let screen = Screen()
        let progress = line(screen, bytes: 1000 << 20, segments: 4000)
        screen.now += 10_000_000_000
        progress.advance(bytes: 10 << 20, segments: 40)
        // 1 MiB/s, 990 MiB left: 16 min 30 s.
        #expect(progress.text.hasSuffix("1.0 MiB/s, \(HumanUnits.duration(ByteTotal(990_000))) left"))
    }

    /// Hours left read as hours, written as summary writes lengths of time
    /// (they read "166 min 40 s left").
    @Test func hoursLeftAreShownAsHours() {
        let screen = Screen()
        let progress = line(screen, bytes: 10_010 << 20, segments: 4000)
        screen.now += 10_000_000_000
        progress.advance(bytes: 10 << 20, segments: 4)
        // 1 MiB/s, 10,000 MiB left: 10,000 s.
        #expect(progress.text.hasSuffix("1.0 MiB/s, \(HumanUnits.duration(ByteTotal(10_000_000))) left"))
        #expect(progress.text.hasSuffix("2h 46m 40s left"))
    }
}
