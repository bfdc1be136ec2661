/// Builds the payload of one block at a time for one segment, and frames it.
///
/// Label ids are assigned per segment in order of first use, so a label keeps
/// its id across the segment's blocks; each block still defines every label
/// it uses before first use, so that it decodes without the blocks before it.
/// Buffers are kept between blocks: steady-state encoding does not allocate
/// except when a label is seen for the first time in the segment.
public struct BlockEncoder: Sendable {
    /// The sequence number of the segment these blocks belong to.
    public let segmentSequence: UInt64
    /// The index the next finished block gets (0, 1, 2 … within the segment).
    public private(set) var nextBlockIndex: UInt64 = 0
    /// Events in the block being built.
    public private(set) var eventCount = 0
    /// `t` of the block's first event, or nil while the block is empty.
    public private(set) var firstEventTime: Int64?

    private var ids: [Label: UInt32] = [:]
    private var definedInBlock: [Bool] = []
    private var definedList: [UInt32] = []
    /// The block's payload is `payload[..<payloadCount]`. The array only
    /// grows (zero-filled, doubling), so an event is written through a
    /// pointer into room already there rather than by growing the array.
    private var payload: [UInt8] = []
    private var payloadCount = 0
    private var previousEnd: Int64 = 0
    private var previousDuration: Int64 = 0
    private var stored: [UInt8] = []
    private var definedLabels: [Label] = []

    /// Creates an encoder for the segment numbered `segmentSequence`.
    public init(segmentSequence: UInt64) {
        self.init(segmentSequence: segmentSequence, firstBlockIndex: 0)
    }

    /// Creates an encoder whose first block gets index `firstBlockIndex`:
    /// for blocks that follow blocks of the same segment written by another
    /// encoder (a rollup tier's tail is rewritten from its last block on, and
    /// block indexes must keep increasing, `Spec/FORMAT.md` 10.1).
    public init(segmentSequence: UInt64, firstBlockIndex: UInt64) {
        self.segmentSequence = segmentSequence
        self.nextBlockIndex = firstBlockIndex
        payload = [UInt8](repeating: 0, count: 4096)
    }

    /// The uncompressed payload size of the block so far.
    public var payloadByteCount: Int { payloadCount }

    /// The number of distinct labels defined in this segment so far.
    public var labelCount: Int { ids.count }

    /// The most payload bytes any one event the format holds can take: 1,024
    /// labels of 1,024 bytes (`payloadBound(of:)` of that event).
    public static let largestEventPayloadBytes =
        6 * Varint.maxBytes + FormatLimits.maxLabelsPerEvent * (5 * Varint.maxBytes + FormatLimits.maxLabelBytes)

    /// The most bytes `event` can add to the payload (to decide a cut before
    /// it), including the block preamble it writes when it is the first.
    public static func payloadBound(of event: Event) -> Int {
        // Preamble (3 varints), record header, gap, duration delta.
        var bound = 6 * Varint.maxBytes
        for entry in event.counts {
            bound += 3 * Varint.maxBytes + 2 * Varint.maxBytes + entry.label.bytes.count
        }
        return bound
    }

    /// Adds `event` to the block being built.
    ///
    /// - Throws: `EventError` if the event breaks a format limit, repeats a
    ///   label, or needs a label id beyond `FormatLimits.labelIDLimit` (then
    ///   `needsNewSegment` is true). Nothing is changed when it throws.
    public mutating func append(_ event: Event) throws(EventError) {
        let labels = event.counts.count
        guard labels <= FormatLimits.maxLabelsPerEvent else {
            throw EventError(.tooManyLabels, "\(labels) labels in one event (limit \(FormatLimits.maxLabelsPerEvent))")
        }
        // The event's label order and ids are scratch on the stack (for a
        // few labels), not arrays kept and emptied at every event.
        let result = withUnsafeTemporaryAllocation(of: Int.self, capacity: labels) { order in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: labels) { eventIDs in
                append(event, order: order, eventIDs: eventIDs)
            }
        }
        if let error = result { throw error }
    }

    /// `append(_:)` with scratch for the label order and ids, as many as labels.
    private mutating func append(
        _ event: Event, order: UnsafeMutableBufferPointer<Int>, eventIDs: UnsafeMutableBufferPointer<UInt32>
    ) -> EventError? {
        let counts = event.counts
        // Canonical (bytewise) label order, without touching the caller's
        // array; callers usually pass it sorted already.
        var sorted = true
        for index in counts.indices {
            order[index] = index
            if index > 0, sorted, !(counts[index - 1].label < counts[index].label) { sorted = false }
        }
        if !sorted {
            var scratch = order  // the same memory: a buffer sorts through a copy of its pointer
            scratch.sort { counts[$0].label < counts[$1].label }
        }
        // Validate everything and look the ids up before changing anything.
        var newLabels = 0
        for position in 0..<counts.count {
            // Labels are read in place, not bound to a local: a local copy
            // retains and releases each label at every event.
            let size = counts[order[position]].label.bytes.count
            guard size <= FormatLimits.maxLabelBytes else {
                return EventError(.labelTooLong, "label of \(size) bytes (limit \(FormatLimits.maxLabelBytes))")
            }
            if position > 0, counts[order[position - 1]].label == counts[order[position]].label {
                return EventError(.repeatedLabel, "label \"\(counts[order[position]].label)\" appears twice in one event")
            }
            let id = knownID(of: counts[order[position]].label)
            if id == nil { newLabels += 1 }
            eventIDs[position] = id ?? Self.unassigned
        }
        guard ids.count + newLabels <= FormatLimits.labelIDLimit else {
            return EventError(.dictionaryFull, "label dictionary full")
        }

        reserve(Self.payloadBound(of: event))
        if firstEventTime == nil {
            firstEventTime = event.time
            let index = nextBlockIndex
            let sequence = segmentSequence
            write { cursor in
                var written = Varint.write(sequence, to: cursor)
                written += Varint.write(index, to: cursor + written)
                return written + Varint.write(ZigZag.encode(event.time), to: cursor + written)
            }
            previousEnd = event.time
            previousDuration = 0
        }

        for position in 0..<counts.count {
            var id = eventIDs[position]
            if id == Self.unassigned {
                id = UInt32(ids.count)
                ids[counts[order[position]].label] = id
                definedInBlock.append(false)
                eventIDs[position] = id
            }
            if !definedInBlock[Int(id)] {
                let label = counts[order[position]].label
                definedInBlock[Int(id)] = true
                definedList.append(id)
                definedLabels.append(label)
                let bodyLength = Varint.encodedSize(UInt64(id)) + label.bytes.count
                write { cursor in
                    var written = Varint.write(UInt64(bodyLength) << 3 | RecordType.label, to: cursor)
                    written += Varint.write(UInt64(id), to: cursor + written)
                    label.bytes.withUnsafeBufferPointer { bytes in
                        (cursor + written).update(from: bytes.baseAddress!, count: bytes.count)
                    }
                    return written + label.bytes.count
                }
            }
        }

        // Back-to-back ticks (gap 0) use the adjacent types and store no gap.
        let gap = ZigZag.encode(event.time &- previousEnd)
        let durationDelta = ZigZag.encode(event.duration &- previousDuration)
        var bodyLength = (gap == 0 ? 0 : Varint.encodedSize(gap)) + Varint.encodedSize(durationDelta)
        for position in 0..<counts.count {
            let entry = counts[order[position]]
            bodyLength += Varint.encodedSize(UInt64(eventIDs[position]))
                + Varint.encodedSize(entry.tx) + Varint.encodedSize(entry.rx)
        }
        let type: UInt64
        switch (event.isCellular, gap == 0) {
        case (false, false): type = RecordType.event
        case (true, false): type = RecordType.cellularEvent
        case (false, true): type = RecordType.adjacentEvent
        case (true, true): type = RecordType.adjacentCellularEvent
        }
        let header = UInt64(bodyLength) << 3 | type
        write { start in
            var cursor = start
            cursor += Varint.write(header, to: cursor)
            if gap != 0 { cursor += Varint.write(gap, to: cursor) }
            cursor += Varint.write(durationDelta, to: cursor)
            for position in 0..<counts.count {
                let entry = counts[order[position]]
                cursor += Varint.write(UInt64(eventIDs[position]), to: cursor)
                cursor += Varint.write(entry.tx, to: cursor)
                cursor += Varint.write(entry.rx, to: cursor)
            }
            return start.distance(to: cursor)
        }
        previousEnd = event.time &+ event.duration
        previousDuration = event.duration
        eventCount += 1
        return nil
    }

    /// Makes room for `bytes` more payload bytes.
    private mutating func reserve(_ bytes: Int) {
        let needed = payloadCount + bytes
        if needed > payload.count {
            payload.append(contentsOf: repeatElement(0, count: max(needed, 2 * payload.count) - payload.count))
        }
    }

    /// Runs `body` at the end of the payload, in room `reserve` made, and
    /// counts the bytes it says it wrote.
    private mutating func write(_ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let start = payloadCount
        payloadCount += payload.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    private static let unassigned = UInt32.max

    /// The id of `label` in this segment, if it has one. The labels this
    /// block defined are checked first (a few, compared by their storage
    /// first), so most events never hash a label.
    private func knownID(of label: Label) -> UInt32? {
        for (position, defined) in definedLabels.prefix(16).enumerated() where defined == label {
            return definedList[position]
        }
        return ids[label]
    }

    /// Compresses the block built so far, appends its frame to `out`, and
    /// starts the next block. Does nothing when the block is empty.
    ///
    /// - Parameters:
    ///   - compressor: Compresses the payload into the frame's stored bytes
    ///     (`Deflater` for every segment so far). Keep one for the life of the
    ///     writer: it reuses its tables from block to block.
    ///   - out: Where the frame is appended; bytes already there are kept.
    public mutating func finishBlock(using compressor: some BlockCompressor, appendingTo out: inout [UInt8]) {
        guard eventCount > 0 else { return }
        stored.removeAll(keepingCapacity: true)
        payload.withUnsafeBytes { compressor.compress(UnsafeRawBufferPointer(rebasing: $0[..<payloadCount]), appendingTo: &stored) }
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &out) }
        for id in definedList { definedInBlock[Int(id)] = false }
        definedList.removeAll(keepingCapacity: true)
        definedLabels.removeAll(keepingCapacity: true)
        payloadCount = 0
        eventCount = 0
        firstEventTime = nil
        nextBlockIndex += 1
    }
}
