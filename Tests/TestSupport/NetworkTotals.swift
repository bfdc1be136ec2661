import Foundation

/// Sums per label and network, read with Foundation's JSON parser from
/// canonical JSON lines (the input, or what a directory decodes to), so
/// that the expected totals do not come from the code under test.
public struct NetworkTotals: Equatable, Sendable, CustomStringConvertible {
    /// By "label" for non-cellular traffic, "label (cellular)" for cellular.
    public var byLabel: [String: Totals] = [:]

    public init() {}

    /// The totals of the events of `lines` with `t` in `from ..< to`.
    public init<Bytes: Collection<UInt8>>(jsonLines lines: Bytes, from: Int64 = .min, to: Int64 = .max) throws {
        for (index, line) in lines.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let time = object["t"] as? Int64, let entries = object["s"] as? [String: [UInt64]],
                  entries.values.allSatisfy({ $0.count == 2 }) else {
                throw RecordedTotals.MalformedLine(line: index + 1)
            }
            guard time >= from, time < to else { continue }
            let cellular = object["c"] as? Int == 1
            for (label, pair) in entries {
                let key = cellular ? label + " (cellular)" : label
                byLabel[key, default: Totals()].sent += pair[0]
                byLabel[key, default: Totals()].received += pair[1]
            }
        }
    }

    public var description: String { byLabel.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ") }
}

