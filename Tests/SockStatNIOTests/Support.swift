import Foundation
import NIOCore
import SockStatRecorder
import Synchronization
import Testing
import TestSupport

/// A directory under the system's temporary directory, removed with the object.
final class TemporaryDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-nio-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Bytes sent and received under one label.
struct Totals: Hashable, CustomStringConvertible {
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var description: String { "sent \(sent), received \(received)" }
}

/// What the recorder recorded, summed per label from its JSON lines
/// (`{"t":…,"d":…,"c":1,"s":{"label":[tx,rx]}}`), read here with Foundation's
/// JSON parser rather than the library's own reader.
struct RecordedTotals {
    var byLabel: [String: Totals] = [:]
    var cellularEvents = 0
    var events = 0

    init(jsonLines: Data) throws {
        for line in jsonLines.split(separator: UInt8(ascii: "\n")) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let entries = try #require(object["s"] as? [String: [UInt64]])
            events += 1
            if object["c"] as? Int == 1 { cellularEvents += 1 }
            for (label, pair) in entries {
                try #require(pair.count == 2)
                byLabel[label, default: Totals()].sent += pair[0]
                byLabel[label, default: Totals()].received += pair[1]
            }
        }
    }
}

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
