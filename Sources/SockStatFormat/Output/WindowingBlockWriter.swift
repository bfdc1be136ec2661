/// Merges events into windows of a fixed length and hands the merged events
/// to another writer: `decode --resolution`, for any output format.
///
/// The rules (normative in `Spec/OUTPUT.md`, "Windows"):
/// - An event belongs to the window `[s, s + resolution)` with `s` the
///   multiple of `resolution` at or below its `t` (floor, also for negative
///   `t`); the window holding `Int64.min` is cut there (`t` = `Int64.min`,
///   `d` = the part of the window from there).
/// - A window is one run of consecutive events in it: it closes when an event
///   of another window arrives (or at the end), and then its non-cellular
///   event, then its cellular one, are written, each only if an event of that
///   network fell in the window (one with no labels gives `"s":{}`). `t` is
///   the window start, `d` its length, tx and rx summed per label. A window
///   met again later (time went backwards) is written again, as another event.
/// - Exact totals: when adding an event would take a label's sum past
///   2^64−1, the window's event so far is written at once, and the sums start
///   again from that event: a second event with the same `t`, `d` and `c`.
/// - An event whose `d` is longer than `resolution` is already coarser than
///   asked (a rollup tier's, `Spec/FORMAT.md` 4.1): it ends the current
///   window run and is written unchanged (its `t`, `d`, `c` and labels). So
///   a resolution finer than a tier's is given at the tier's.
/// - Events are chosen by `range` (their own `t`) before they are merged.
///
/// Memory holds the current window only: its labels and sums, and the
/// merged events of one input block until they are handed on.
public struct WindowingBlockWriter<Inner: DecodedBlockWriter>: DecodedBlockWriter {
    /// The writer merged events go to.
    public private(set) var inner: Inner
    /// The window length, milliseconds (at least 1).
    public let resolution: Int64

    /// The sums of one window for one network.
    private struct Sums {
        /// Whether an event fell in it.
        var active = false
        /// Label ids in the order first met.
        var members: [Int32] = []
        // By label id; `mark[id] == generation` means `id` is a member.
        var tx: [UInt64] = []
        var rx: [UInt64] = []
        var mark: [UInt32] = []
        var generation: UInt32 = 1

        mutating func grow(to count: Int) {
            guard tx.count < count else { return }
            let more = count - tx.count
            tx.append(contentsOf: repeatElement(0, count: more))
            rx.append(contentsOf: repeatElement(0, count: more))
            mark.append(contentsOf: repeatElement(0, count: more))
        }

        /// Whether adding the counts of `entries` would take a sum past 2^64-1.
        @inline(__always)
        func wouldOverflow(_ block: DecodedBlock, _ entries: Range<Int>, ids slotIDs: [Int32]) -> Bool {
            for entry in entries {
                let id = Int(slotIDs[Int(block.entrySlots[entry])])
                if mark[id] == generation && (tx[id] > UInt64.max - block.tx[entry] || rx[id] > UInt64.max - block.rx[entry]) {
                    return true
                }
            }
            return false
        }

        /// Adds the counts of `entries` (which must not overflow).
        @inline(__always)
        mutating func add(_ block: DecodedBlock, _ entries: Range<Int>, ids slotIDs: [Int32]) {
            active = true
            for entry in entries {
                let id = Int(slotIDs[Int(block.entrySlots[entry])])
                if mark[id] == generation {
                    tx[id] &+= block.tx[entry]
                    rx[id] &+= block.rx[entry]
                } else {
                    mark[id] = generation
                    tx[id] = block.tx[entry]
                    rx[id] = block.rx[entry]
                    members.append(Int32(id))
                }
            }
        }

        mutating func clear() {
            active = false
            members.removeAll(keepingCapacity: true)
            generation &+= 1
            if generation == 0 {
                // After 2^32 windows the marks could repeat: forget them.
                for index in mark.indices { mark[index] = 0 }
                generation = 1
            }
        }
    }

    /// Merged events not yet handed on, as a block for the inner writer.
    private struct Batch {
        var block = DecodedBlock()
        /// Each label id's slot in `block`, -1 for none.
        var slotOfID: [Int32] = []
        /// The label id of each slot.
        var ids: [Int32] = []
        var rankOrder: [Int32] = []

        /// Appends the event `sums` hold, and clears them.
        mutating func append(_ sums: inout Sums, start: Int64, duration: Int64, isCellular: Bool, labels: [[UInt8]]) {
            block.times.append(start)
            block.durations.append(duration)
            block.cellular.append(isCellular)
            for id in sums.members {
                var slot = slotOfID[Int(id)]
                if slot < 0 {
                    slot = Int32(block.labelCount)
                    block.labelBytes.append(contentsOf: labels[Int(id)])
                    block.labelStart.append(Int32(block.labelBytes.count))
                    slotOfID[Int(id)] = slot
                    ids.append(id)
                }
                block.entrySlots.append(slot)
                block.tx.append(sums.tx[Int(id)])
                block.rx.append(sums.rx[Int(id)])
            }
            block.entryStart.append(Int32(block.entrySlots.count))
            sums.clear()
        }

        /// Writes the events through `inner` and empties the batch.
        mutating func hand<W: DecodedBlockWriter>(to inner: inout W, output: OutputBuffer, labels: [[UInt8]]) throws {
            guard block.eventCount > 0 else { return }
            // Ranks of the slots in bytewise label order, as a decoded block has.
            rankOrder.removeAll(keepingCapacity: true)
            rankOrder.append(contentsOf: 0..<Int32(block.labelCount))
            let ids = self.ids
            rankOrder.sort { labels[Int(ids[Int($0)])].lexicographicallyPrecedes(labels[Int(ids[Int($1)])]) }
            block.labelRank = Array(repeating: 0, count: block.labelCount)
            for (rank, slot) in rankOrder.enumerated() { block.labelRank[Int(slot)] = Int32(rank) }
            _ = try inner.write(block, to: output, range: TimeRange())
            block.reset()
            for id in ids { slotOfID[Int(id)] = -1 }
            self.ids.removeAll(keepingCapacity: true)
        }
    }

    private var hasWindow = false
    private var windowStart: Int64 = 0
    private var windowDuration: Int64 = 0
    private var plain = Sums()
    private var cellular = Sums()
    /// The one event of a run written unchanged (its `d` is longer than `resolution`).
    private var coarser = Sums()
    private var batch = Batch()

    // Labels met, by id; forgotten between windows once there are many, so a
    // log of ever new labels does not grow memory.
    private var labelIDs: [[UInt8]: Int32] = [:]
    private var labels: [[UInt8]] = []
    /// Label id of each slot of the block being read; -1 not yet looked up.
    private var slotIDs: [Int32] = []

    /// More labels than this are forgotten at the next window boundary.
    private static var labelTableLimit: Int { 1 << 16 }
    /// Merged events are handed on at the end of each input block, or sooner
    /// when this many are waiting.
    private static var batchLimit: Int { 4096 }

    /// Creates a writer merging into windows of `resolution` ms.
    ///
    /// - Parameters:
    ///   - inner: the output format of the merged events.
    ///   - resolution: the window length in milliseconds; must be positive.
    public init(inner: Inner, resolution: Int64) {
        precondition(resolution > 0, "window length must be positive")
        self.inner = inner
        self.resolution = resolution
    }

    /// The window holding `time`: its start and length (`resolution`, or less
    /// for the window cut at `Int64.min`).
    ///
    /// - Parameters:
    ///   - time: an event's `t`.
    ///   - resolution: the window length in milliseconds; must be positive.
    /// - Returns: the window's `t` and `d` as `Spec/OUTPUT.md` 4.1 defines them.
    public static func window(containing time: Int64, resolution: Int64) -> (start: Int64, duration: Int64) {
        var remainder = time % resolution
        if remainder < 0 { remainder += resolution }
        let (start, overflow) = time.subtractingReportingOverflow(remainder)
        if !overflow { return (start, resolution) }
        // The window begins below Int64.min: it is cut there. time - Int64.min
        // is smaller than remainder, so this is positive and exact.
        return (Int64.min, resolution - remainder + (time &- Int64.min))
    }

    /// Merges the events of `block` whose `t` is in `range` into windows,
    /// writing the windows they close; returns how many events were in `range`.
    @discardableResult
    public mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange = TimeRange()) throws -> Int {
        slotIDs.removeAll(keepingCapacity: true)
        slotIDs.append(contentsOf: repeatElement(-1, count: block.labelCount))
        var taken = 0
        let everything = range.isEverything
        for index in 0..<block.eventCount {
            let time = block.times[index]
            if !everything && !range.contains(time) { continue }
            taken += 1
            let entries = block.entries(of: index)
            if block.durations[index] > resolution {
                // Already coarser than asked: a run of its own, written as it is.
                closeWindow()
                hasWindow = false
                if labels.count > Self.labelTableLimit { try forgetLabels(to: output) }
                for entry in entries where slotIDs[Int(block.entrySlots[entry])] < 0 {
                    resolve(slot: Int(block.entrySlots[entry]), of: block)
                }
                // One event never overflows its own sums (no label twice).
                coarser.add(block, entries, ids: slotIDs)
                batch.append(&coarser, start: time, duration: block.durations[index], isCellular: block.cellular[index], labels: labels)
                if batch.block.eventCount >= Self.batchLimit { try batch.hand(to: &inner, output: output, labels: labels) }
                continue
            }
            let (start, duration) = Self.window(containing: time, resolution: resolution)
            if !hasWindow || start != windowStart {
                closeWindow()
                if labels.count > Self.labelTableLimit { try forgetLabels(to: output) }
                hasWindow = true
                windowStart = start
                windowDuration = duration
            }
            for entry in entries where slotIDs[Int(block.entrySlots[entry])] < 0 {
                resolve(slot: Int(block.entrySlots[entry]), of: block)
            }
            if block.cellular[index] {
                if cellular.wouldOverflow(block, entries, ids: slotIDs) { emitCellular() }
                cellular.add(block, entries, ids: slotIDs)
            } else {
                if plain.wouldOverflow(block, entries, ids: slotIDs) { emitPlain() }
                plain.add(block, entries, ids: slotIDs)
            }
            if batch.block.eventCount >= Self.batchLimit { try batch.hand(to: &inner, output: output, labels: labels) }
        }
        try batch.hand(to: &inner, output: output, labels: labels)
        return taken
    }

    /// Passes the segment's tier on to the inner writer.
    public mutating func beginSegment(window: Int64) {
        inner.beginSegment(window: window)
    }

    /// Writes the last window, then finishes the inner writer.
    public mutating func finish(to output: OutputBuffer) throws {
        closeWindow()
        hasWindow = false
        try batch.hand(to: &inner, output: output, labels: labels)
        try inner.finish(to: output)
    }

    // MARK: - Merging

    private mutating func resolve(slot: Int, of block: DecodedBlock) {
        let bytes = Array(block.labelBytes(slot: slot))
        if let id = labelIDs[bytes] {
            slotIDs[slot] = id
            return
        }
        let id = Int32(labels.count)
        labelIDs[bytes] = id
        labels.append(bytes)
        batch.slotOfID.append(-1)
        plain.grow(to: labels.count)
        cellular.grow(to: labels.count)
        coarser.grow(to: labels.count)
        slotIDs[slot] = id
    }

    private mutating func emitPlain() {
        batch.append(&plain, start: windowStart, duration: windowDuration, isCellular: false, labels: labels)
    }

    private mutating func emitCellular() {
        batch.append(&cellular, start: windowStart, duration: windowDuration, isCellular: true, labels: labels)
    }

    private mutating func closeWindow() {
        guard hasWindow else { return }
        if plain.active { emitPlain() }
        if cellular.active { emitCellular() }
    }

    /// Forgets every label (between windows, when none is in use).
    private mutating func forgetLabels(to output: OutputBuffer) throws {
        try batch.hand(to: &inner, output: output, labels: labels)
        labelIDs.removeAll()
        labels.removeAll()
        batch.slotOfID.removeAll()
        plain = Sums()
        cellular = Sums()
        coarser = Sums()
        for slot in slotIDs.indices { slotIDs[slot] = -1 }
    }
}

extension WindowingBlockWriter: Sendable where Inner: Sendable {}
