/// The events of one block, decoded and validated, in columns.
///
/// Kept by the caller and refilled for every block so that decoding a stream
/// of blocks does not allocate once the buffers have grown.
public struct DecodedBlock: Sendable {
    /// Sequence number of the segment the block says it belongs to.
    public internal(set) var segmentSequence: UInt64 = 0
    /// Index of the block within its segment.
    public internal(set) var blockIndex: UInt64 = 0

    // Events, one entry each.
    @usableFromInline var times: [Int64] = []
    @usableFromInline var durations: [Int64] = []
    @usableFromInline var cellular: [Bool] = []
    /// Start of each event's entries in `entrySlots`; one extra end entry.
    @usableFromInline var entryStart: [Int32] = [0]

    // Label entries of all events, flattened.
    @usableFromInline var entrySlots: [Int32] = []
    @usableFromInline var tx: [UInt64] = []
    @usableFromInline var rx: [UInt64] = []

    // Labels defined in the block, by slot (order of definition).
    @usableFromInline var labelBytes: [UInt8] = []
    @usableFromInline var labelStart: [Int32] = [0]
    /// Rank of each slot's label in bytewise order.
    @usableFromInline var labelRank: [Int32] = []

    /// Creates an empty block.
    public init() {}

    /// Number of events.
    public var eventCount: Int { times.count }

    /// Number of labels the block defines.
    public var labelCount: Int { labelStart.count - 1 }

    // MARK: Reading the columns
    // For output formats and analyses outside this module (a CSV writer, a
    // summary): per event its time, duration, network and a range of
    // entries; per entry a label slot and its counts; per slot the label's
    // bytes and its bytewise rank. Inlinable: they run per event.

    /// `t` of event `index`, Unix milliseconds.
    @inlinable public func time(at index: Int) -> Int64 { times[index] }
    /// `d` of event `index`, milliseconds.
    @inlinable public func duration(at index: Int) -> Int64 { durations[index] }
    /// Whether event `index` was on cellular (`"c":1`).
    @inlinable public func isCellular(at index: Int) -> Bool { cellular[index] }
    /// The entries of event `index` (positions for `slot(ofEntry:)`, `tx(ofEntry:)`,
    /// `rx(ofEntry:)`), in the order stored: bytewise label order when our writer
    /// wrote the block, any order otherwise.
    @inlinable public func entries(of index: Int) -> Range<Int> { Int(entryStart[index])..<Int(entryStart[index + 1]) }
    /// The label slot of entry `entry`.
    @inlinable public func slot(ofEntry entry: Int) -> Int { Int(entrySlots[entry]) }
    /// Bytes sent in entry `entry`.
    @inlinable public func tx(ofEntry entry: Int) -> UInt64 { tx[entry] }
    /// Bytes received in entry `entry`.
    @inlinable public func rx(ofEntry entry: Int) -> UInt64 { rx[entry] }
    /// The bytes of the label in `slot` (valid UTF-8 is not guaranteed: FORMAT.md 9).
    @inlinable public func labelBytes(slot: Int) -> ArraySlice<UInt8> { labelBytes[Int(labelStart[slot])..<Int(labelStart[slot + 1])] }
    /// The rank of the label in `slot` among the block's labels in bytewise order (0 first).
    @inlinable public func labelRank(slot: Int) -> Int { Int(labelRank[slot]) }

    /// Whether `entries` are in bytewise label order, as our writer stores
    /// them (then output needs no sorting).
    @inline(__always)
    func entriesAreInLabelOrder(_ entries: Range<Int>) -> Bool {
        guard entries.count > 1 else { return true }
        var previous = labelRank[Int(entrySlots[entries.lowerBound])]
        for entry in (entries.lowerBound + 1)..<entries.upperBound {
            let rank = labelRank[Int(entrySlots[entry])]
            if rank < previous { return false }
            previous = rank
        }
        return true
    }

    /// Fills `order` with `entries` in bytewise label order (for blocks
    /// written by someone else): `order[k]` is the k-th entry to write.
    func sortEntriesByLabel(_ entries: Range<Int>, into order: inout [Int32]) {
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: Int32(entries.lowerBound)..<Int32(entries.upperBound))
        order.sort { labelRank[Int(entrySlots[Int($0)])] < labelRank[Int(entrySlots[Int($1)])] }
    }

    mutating func reset() {
        times.removeAll(keepingCapacity: true)
        durations.removeAll(keepingCapacity: true)
        cellular.removeAll(keepingCapacity: true)
        entryStart.removeAll(keepingCapacity: true)
        entryStart.append(0)
        entrySlots.removeAll(keepingCapacity: true)
        tx.removeAll(keepingCapacity: true)
        rx.removeAll(keepingCapacity: true)
        labelBytes.removeAll(keepingCapacity: true)
        labelStart.removeAll(keepingCapacity: true)
        labelStart.append(0)
        labelRank.removeAll(keepingCapacity: true)
    }

    /// The label defined in `slot`.
    public func label(slot: Int) -> Label {
        Label(bytes: Array(labelBytes[Int(labelStart[slot])..<Int(labelStart[slot + 1])]))
    }

    /// The event at `index`, its counts in canonical (bytewise label) order.
    public func event(at index: Int) -> Event {
        var counts: [LabelCounts] = []
        let range = Int(entryStart[index])..<Int(entryStart[index + 1])
        for entry in range {
            counts.append(LabelCounts(label: label(slot: Int(entrySlots[entry])), tx: tx[entry], rx: rx[entry]))
        }
        counts.sort { $0.label < $1.label }
        return Event(time: times[index], duration: durations[index], isCellular: cellular[index], counts: counts)
    }

    /// All events of the block.
    public var events: [Event] { (0..<eventCount).map(event(at:)) }
}
