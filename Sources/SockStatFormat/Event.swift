/// A label: the name a counter is kept under ("8", "wlan0", "dns").
///
/// Labels are arbitrary byte strings, normally UTF-8. They compare and sort
/// bytewise, which is the order canonical JSON puts them in (Go sorts map keys
/// as raw strings); `String` comparison would not give that order.
public struct Label: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The label's bytes, exactly as recorded.
    public var bytes: [UInt8]

    /// Creates a label from raw bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Creates a label from a string's UTF-8 bytes.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// Bytewise order, as canonical JSON sorts the members of `s`.
    public static func < (lhs: Label, rhs: Label) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The label decoded as UTF-8, invalid sequences replaced by U+FFFD.
    public var description: String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// The bytes one label sent and received during an event's interval.
public struct LabelCounts: Hashable, Sendable {
    /// The label the bytes were counted under.
    public var label: Label
    /// Bytes transmitted.
    public var tx: UInt64
    /// Bytes received.
    public var rx: UInt64

    /// Creates one label's counts.
    public init(label: Label, tx: UInt64, rx: UInt64) {
        self.label = label
        self.tx = tx
        self.rx = rx
    }
}

/// One sockstat event: the JSON line `{"t":…,"d":…,"c":1,"s":{…}}`.
///
/// It is the value of Go's `event` struct in Tailscale's sockstatlog package.
public struct Event: Hashable, Sendable {
    /// Start of the interval, Unix milliseconds (`t`).
    public var time: Int64
    /// Length of the interval in milliseconds (`d`).
    public var duration: Int64
    /// Whether the traffic went over a cellular interface (`"c":1`).
    public var isCellular: Bool
    /// The labels whose counters changed, with their deltas (`s`).
    ///
    /// The order here is the caller's; canonical JSON sorts by label bytes.
    /// Two entries with the same label are invalid.
    public var counts: [LabelCounts]

    /// Creates an event.
    public init(time: Int64, duration: Int64, isCellular: Bool = false, counts: [LabelCounts]) {
        self.time = time
        self.duration = duration
        self.isCellular = isCellular
        self.counts = counts
    }
}
