import Foundation
import Testing

/// A directory under the system's temporary directory, removed with the object.
final class TemporaryDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-docs-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Bytes sent and received under one label.
struct Totals: Hashable, CustomStringConvertible {
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var description: String { "sent \(sent), received \(received)" }
}

/// JSON lines (`{"t":…,"d":…,"c":1,"s":{"label":[tx,rx]}}`) summed per label,
/// read with Foundation's JSON parser rather than the library's own reader.
struct RecordedTotals {
    var byLabel: [String: Totals] = [:]
    var events = 0
    var cellularEvents = 0

    init(jsonLines: [UInt8]) throws {
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
