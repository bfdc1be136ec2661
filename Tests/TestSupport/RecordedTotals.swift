import Foundation

/// A directory under the system's temporary directory, removed with the object.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-test-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Bytes sent and received under one label.
public struct Totals: Hashable, Sendable, CustomStringConvertible {
    public var sent: UInt64 = 0
    public var received: UInt64 = 0

    public init(sent: UInt64 = 0, received: UInt64 = 0) {
        self.sent = sent
        self.received = received
    }

    public var description: String { "sent \(sent), received \(received)" }
}

/// What was recorded, summed per label from JSON lines
/// (`{"t":…,"d":…,"c":1,"s":{"label":[tx,rx]}}`), read with Foundation's JSON
/// parser rather than the library's own reader, so that the tests' totals do
/// not come from the code under test.
public struct RecordedTotals: Hashable, Sendable {
    public var byLabel: [String: Totals] = [:]
    public var events = 0
    public var cellularEvents = 0

    /// A line that is not an event as the recorder writes it.
    public struct MalformedLine: Error, CustomStringConvertible {
        public var line: Int
        public var description: String { "line \(line) is not a sockstat event" }
    }

    public init<Bytes: Collection<UInt8>>(jsonLines: Bytes) throws {
        for (index, line) in jsonLines.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let entries = object["s"] as? [String: [UInt64]],
                  entries.values.allSatisfy({ $0.count == 2 }) else {
                throw MalformedLine(line: index + 1)
            }
            events += 1
            if object["c"] as? Int == 1 { cellularEvents += 1 }
            for (label, pair) in entries {
                byLabel[label, default: Totals()].sent += pair[0]
                byLabel[label, default: Totals()].received += pair[1]
            }
        }
    }
}
