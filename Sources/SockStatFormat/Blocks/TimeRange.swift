/// Which events to keep, by `t`: `since <= t < until`.
public struct TimeRange: Hashable, Sendable {
    /// Earliest `t` kept (inclusive); nil for no lower bound.
    public var since: Int64?
    /// `t` at which events stop being kept (exclusive); nil for no upper bound.
    public var until: Int64?

    /// Creates a range; the defaults keep every event.
    public init(since: Int64? = nil, until: Int64? = nil) {
        self.since = since
        self.until = until
    }

    /// Whether the range keeps every possible `t`.
    public var isEverything: Bool { since == nil && until == nil }

    /// Whether `time` is in the range.
    @inlinable
    public func contains(_ time: Int64) -> Bool {
        if let since, time < since { return false }
        if let until, time >= until { return false }
        return true
    }
}
