import SockStatAnalysis
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on standard error for a long read: bytes and segments
/// done of the total, the rate and the time left, redrawn in place (`\r`,
/// then `ESC [ K` to clear the rest) at most 10 times a second, and erased
/// at the end, so that nothing of it stays on the screen.
///
/// Shown only when standard error is a terminal and the input is larger
/// than `threshold` (`forStandardError(totalBytes:totalSegments:)`): a pipe
/// or a file gets nothing extra. A note printed while it is shown goes
/// through `interrupt(_:)`, which erases the line first, so the note is not
/// glued to it.
///
/// A class: the read loop and the notes it prints share one line.
final class ProgressLine {
    /// Inputs up to this many bytes are read without a progress line (they
    /// take well under a second).
    static let threshold = 4 << 20
    /// The shortest time between two draws: at most 10 a second.
    static let redrawNanoseconds: UInt64 = 100_000_000

    private let totalBytes: Int
    private let totalSegments: Int
    private let width: Int
    private let clock: () -> UInt64
    private let write: ([UInt8]) -> Void
    private let started: UInt64
    private var bytesDone = 0
    private var segmentsDone = 0
    private var lastDraw: UInt64
    private var shown = false

    /// How many times the line was drawn (each a `\r`, the text, `ESC [ K`).
    private(set) var draws = 0

    /// A line for reading `totalBytes` in `totalSegments` segments, drawn
    /// `width` columns wide at most through `write`, timed by `clock`
    /// (monotonic nanoseconds). Nothing is drawn before the first
    /// `redrawNanoseconds` have passed: a short read shows no line at all.
    init(totalBytes: Int, totalSegments: Int, width: Int = 80, clock: @escaping () -> UInt64,
         write: @escaping ([UInt8]) -> Void) {
        self.totalBytes = totalBytes
        self.totalSegments = totalSegments
        self.width = max(width, 20)
        self.clock = clock
        self.write = write
        started = clock()
        lastDraw = started
    }

    /// The line for a read of `totalBytes` in `totalSegments` segments on
    /// this process's standard error, or nil when standard error is not a
    /// terminal or the input is not larger than `threshold`.
    static func forStandardError(totalBytes: Int, totalSegments: Int) -> ProgressLine? {
        guard totalBytes > threshold, isatty(2) == 1 else { return nil }
        var size = winsize()
        let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return ProgressLine(totalBytes: totalBytes, totalSegments: totalSegments, width: columns,
                            clock: monotonicNanoseconds, write: writeToStandardError)
    }

    /// Counts `bytes` and `segments` more as done, and redraws if the last
    /// draw is at least `redrawNanoseconds` old.
    func advance(bytes: Int, segments: Int = 1) {
        bytesDone += bytes
        segmentsDone += segments
        let now = clock()
        guard now &- lastDraw >= Self.redrawNanoseconds else { return }
        draw(at: now)
    }

    /// Runs `print` (which writes whole lines to standard error) with the
    /// line erased; it comes back at the next `advance` due.
    func interrupt(_ print: () -> Void) {
        erase()
        print()
    }

    /// Erases the line, if shown: the screen is as it was before.
    func finish() {
        erase()
    }

    /// What the line says now.
    var text: String {
        let elapsed = Double(clock() &- started) / 1e9
        var parts = ["\(Self.mebibytes(bytesDone)) of \(Self.mebibytes(totalBytes)) MiB",
                     "\(segmentsDone) of \(totalSegments) segment\(totalSegments == 1 ? "" : "s")"]
        if elapsed > 0, bytesDone > 0 {
            let rate = Double(bytesDone) / elapsed
            parts.append("\(Self.mebibytes(Int(rate))) MiB/s")
            let left = Int((Double(max(totalBytes - bytesDone, 0)) / rate).rounded(.up))
            // Whole seconds: "0 s", "42 s", then as summary writes lengths of time ("16m 30s", "2h 46m 40s").
            parts.append((left < 60 ? "\(left) s" : HumanUnits.duration(ByteTotal(UInt64(left) * 1000))) + " left")
        }
        return "sockstat-convert: " + parts.joined(separator: ", ")
    }

    private func draw(at now: UInt64) {
        lastDraw = now
        let line = Array(text.utf8.prefix(width - 1))
        write(Array("\r".utf8) + line + Self.clearToEnd)
        shown = true
        draws += 1
    }

    private func erase() {
        guard shown else { return }
        write(Array("\r".utf8) + Self.clearToEnd)
        shown = false
    }

    private static let clearToEnd: [UInt8] = [0x1B, UInt8(ascii: "["), UInt8(ascii: "K")]

    /// `bytes` in MiB with one decimal.
    private static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// Writes all of `bytes` to standard error (a terminal: short writes are rare, but retried).
private func writeToStandardError(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(2, raw.baseAddress! + offset, raw.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
