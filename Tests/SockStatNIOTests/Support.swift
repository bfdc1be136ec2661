import Foundation
import NIOCore
import SockStatRecorder
import Synchronization
import Testing
import TestSupport

/// Records `counters` with a real clock, polling every 5 ms while `traffic`
/// runs, then shuts the recorder down and drains everything it wrote.
func record(_ counters: InProcessCounters, while traffic: () async throws -> Void) async throws -> RecordedTotals {
    let directory = TemporaryDirectory()
    var options = RecorderOptions(directory: directory.path)
    options.pollIntervalMilliseconds = 5
    options.flushIntervalMilliseconds = 50
    options.maxSegmentBytes = 4096
    options.syncEachBlock = false
    // A debug build on a loaded machine: the final flush must not be cut short.
    options.shutdownTimeoutMilliseconds = 30_000
    let recorder = try Recorder(source: counters, options: options)
    // No poll by hand: the recorder starts from zero (in-process counters),
    // and shutdown() takes the last poll, so every byte counted is recorded.
    recorder.start()
    try await traffic()
    #expect(recorder.shutdown())
    var lines = Data()
    try recorder.drain { lines.append(contentsOf: $0) }
    return try RecordedTotals(jsonLines: lines)
}

/// A reproducible list of sizes in `range`, from `seed`.
func sizes(count: Int, in range: ClosedRange<Int>, seed: UInt64) -> [Int] {
    var random = TestRandom(seed: seed)
    return (0..<count).map { _ in Int.random(in: range, using: &random) }
}
