import SockStatRecorder
import Testing

/// The segment size follows a small directory cap unless the caller chose one.
struct RecorderOptionsTests {
    @Test(arguments: [
        (5 * 1024 * 1024, 256 * 1024),  // the defaults: 20 segments
        (1 << 20, 256 * 1024),          // from 1 MiB up, 256 KiB
        (1 << 20 - 4, 262_143),         // under it, a quarter of the cap
        (100_000, 25_000),
        (16_384, 4096),
        (5_000, 4096),                  // never below 4 KiB
    ])
    func aCapUnder1MiBGetsSegmentsOfAQuarterOfIt(cap: Int, segmentBytes: Int) {
        var options = RecorderOptions(directory: "/nonexistent")
        options.maxTotalBytes = cap
        #expect(options.maxSegmentBytes == segmentBytes)
        #expect(options.maxSegmentBytes == RecorderOptions.defaultSegmentBytes(forCap: cap))
        #expect(options.problem == nil, "a cap of \(cap) bytes is usable")
    }

    @Test func aChosenSegmentSizeIsKeptAndStillCheckedAgainstTheCap() {
        var options = RecorderOptions(directory: "/nonexistent")
        options.maxSegmentBytes = 8192
        options.maxTotalBytes = 100_000
        #expect(options.maxSegmentBytes == 8192)
        #expect(options.problem == nil)
        options.maxSegmentBytes = 200_000
        #expect(options.problem?.contains("must be at least the segment size") == true)
    }

    @Test func aCapBelowTheSmallestSegmentIsRefused() {
        var options = RecorderOptions(directory: "/nonexistent")
        options.maxTotalBytes = 3000
        #expect(options.problem?.contains("must be at least the segment size (4096 bytes)") == true)
    }
}
