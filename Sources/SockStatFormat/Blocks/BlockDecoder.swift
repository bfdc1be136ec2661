/// Why a block whose checksum held still could not be decoded.
public struct BlockError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the block.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The stored bytes do not decompress to a payload within the limit.
        public static let undecompressable = Code("undecompressable")
        /// The payload breaks a rule of the format (a bad varint, an
        /// undefined label, a record past the end …).
        public static let malformed = Code("malformed")
        /// The segment's format (version, incompatible features) is not one
        /// this decoder reads.
        public static let unsupportedFormat = Code("unsupported format")

        public var description: String { name }
    }

    /// What is wrong with the block.
    public var code: Code
    /// A one-line explanation, with the payload offset where it applies.
    public var reason: String

    init(_ reason: String, code: Code = .malformed) {
        self.code = code
        self.reason = reason
    }

    init(_ error: VarintError, at offset: Int, reading field: String) {
        code = .malformed
        switch error.code {
        case .truncated: reason = "\(field) cut short at payload offset \(offset)"
        case .overflow: reason = "\(field) varint longer than 64 bits at payload offset \(offset)"
        default: reason = "\(field) varint overlong at payload offset \(offset)"
        }
    }

    public var description: String { reason }
}

/// Inflates and decodes block payloads.
///
/// A block is validated completely before any of its events are handed out,
/// so a damaged block yields nothing rather than a partial, possibly wrong,
/// run of events.
public struct BlockDecoder {
    /// Turns a block's stored bytes back into its payload.
    private let decompressor: any BlockDecompressor
    /// Label id -> slot + 1 for the current block (0: undefined).
    private var slotOfID: [Int32]
    /// The event index each slot last appeared in, to catch repeated labels.
    private var lastUse: [Int32] = []
    private var rankOrder: [Int32] = []
    private var definedIDs: [Int] = []

    /// Creates a decoder. Holds a 256 KiB id table (`FormatLimits.labelIDLimit` entries).
    ///
    /// - Parameter decompressor: Reads the stored bytes of every block this
    ///   decoder is given, kept for its life: `Inflater`, raw DEFLATE, the
    ///   codec of every segment so far, unless another is passed.
    public init(decompressor: any BlockDecompressor = Inflater()) {
        self.decompressor = decompressor
        slotOfID = Array(repeating: 0, count: FormatLimits.labelIDLimit)
    }

    /// Decompresses `stored`, a block of a segment of `format`, and decodes
    /// the payload into `block`.
    ///
    /// The format (the segment header's version and feature bits, or v1 when
    /// the header is damaged) is where a later codec would be chosen: one
    /// behind an incompatible feature bit, which readers that do not know it
    /// refuse at the header.
    ///
    /// - Throws: `BlockError` when the stored bytes do not decompress to a
    ///   valid payload, or the format is not one this decoder reads; `block`
    ///   is then left empty.
    public mutating func decode(stored: UnsafeRawBufferPointer, format: SegmentFormat = .v1,
                                into block: inout DecodedBlock) throws(BlockError) {
        guard format.version == SegmentHeader.currentVersion,
              format.incompatibleFeatures & ~SegmentHeader.knownIncompatibleFeatures == 0 else {
            block.reset()
            throw BlockError("block of an unsupported segment format (version \(format.version), "
                + "incompatible features 0x\(String(format.incompatibleFeatures, radix: 16)))", code: .unsupportedFormat)
        }
        let payload: UnsafeRawBufferPointer
        do {
            payload = try decompressor.decompress(stored, limit: FormatLimits.maxBlockBytes)
        } catch {
            block.reset()
            switch error.code {
            case .tooLarge: throw BlockError("block inflates past \(FormatLimits.maxBlockBytes) bytes", code: .undecompressable)
            case .truncated: throw BlockError("deflate stream cut short", code: .undecompressable)
            case .trailingBytes: throw BlockError("bytes after the end of the deflate stream", code: .undecompressable)
            default: throw BlockError("deflate stream corrupt: \(error.reason)", code: .undecompressable)
            }
        }
        try decodePayload(payload, into: &block)
    }

    /// Decodes an uncompressed payload into `block`.
    ///
    /// - Throws: `BlockError` when the payload breaks a rule of the format;
    ///   `block` is then left empty, never holding part of the payload.
    public mutating func decodePayload(_ bytes: UnsafeRawBufferPointer, into block: inout DecodedBlock) throws(BlockError) {
        do {
            try fill(&block, from: bytes)
        } catch {
            // A half-filled block has columns of different lengths and no
            // ranks: writing it would read past them.
            block.reset()
            throw error
        }
    }

    @inline(__always)
    private mutating func fill(_ block: inout DecodedBlock, from bytes: UnsafeRawBufferPointer) throws(BlockError) {
        block.reset()
        lastUse.removeAll(keepingCapacity: true)
        // Undefine this block's labels when done (only those, not the whole table).
        defer {
            for id in definedIDs { slotOfID[id] = 0 }
            definedIDs.removeAll(keepingCapacity: true)
        }

        var cursor = ByteCursor(bytes)
        let base = cursor.position
        func offset(_ cursor: ByteCursor) -> Int { cursor.position - base }

        do {
            block.segmentSequence = try cursor.readVarint()
        } catch { throw BlockError(error, at: offset(cursor), reading: "segment sequence") }
        do {
            block.blockIndex = try cursor.readVarint()
        } catch { throw BlockError(error, at: offset(cursor), reading: "block index") }
        var previousEnd: Int64
        do {
            previousEnd = ZigZag.decode(try cursor.readVarint())
        } catch { throw BlockError(error, at: offset(cursor), reading: "base time") }
        var previousDuration: Int64 = 0

        while !cursor.isAtEnd {
            let recordOffset = offset(cursor)
            let header: UInt64
            do { header = try cursor.readVarint() } catch {
                throw BlockError(error, at: recordOffset, reading: "record header")
            }
            let type = header & 7
            let length = header >> 3
            guard length <= UInt64(cursor.remaining) else {
                throw BlockError("record at payload offset \(recordOffset) claims \(length) bytes, \(cursor.remaining) remain")
            }
            let bodyLength = Int(length)
            var body = ByteCursor(UnsafeRawBufferPointer(start: cursor.position, count: bodyLength))
            cursor.position += bodyLength

            switch type {
            case RecordType.label:
                let id: UInt64
                do { id = try body.readVarint() } catch {
                    throw BlockError(error, at: recordOffset, reading: "label id")
                }
                guard id < UInt64(FormatLimits.labelIDLimit) else {
                    throw BlockError("label id \(id) at payload offset \(recordOffset) beyond limit \(FormatLimits.labelIDLimit)")
                }
                guard slotOfID[Int(id)] == 0 else {
                    throw BlockError("label id \(id) defined twice (payload offset \(recordOffset))")
                }
                guard body.remaining <= FormatLimits.maxLabelBytes else {
                    throw BlockError("label of \(body.remaining) bytes at payload offset \(recordOffset) (limit \(FormatLimits.maxLabelBytes))")
                }
                block.labelBytes.append(contentsOf: UnsafeBufferPointer(start: body.position, count: body.remaining))
                block.labelStart.append(Int32(block.labelBytes.count))
                slotOfID[Int(id)] = Int32(block.labelCount)
                definedIDs.append(Int(id))
                lastUse.append(-1)

            case RecordType.event, RecordType.cellularEvent, RecordType.adjacentEvent, RecordType.adjacentCellularEvent:
                let eventIndex = Int32(block.times.count)
                let gap: UInt64
                let durationDelta: UInt64
                do {
                    gap = type >= RecordType.adjacentEvent ? 0 : try body.readVarint()
                    durationDelta = try body.readVarint()
                } catch { throw BlockError(error, at: recordOffset, reading: "event time") }
                let time = previousEnd &+ ZigZag.decode(gap)
                let duration = previousDuration &+ ZigZag.decode(durationDelta)
                var entries = 0
                while !body.isAtEnd {
                    let id: UInt64, sent: UInt64, received: UInt64
                    do {
                        id = try body.readVarint()
                        sent = try body.readVarint()
                        received = try body.readVarint()
                    } catch { throw BlockError(error, at: recordOffset, reading: "event counts") }
                    guard id < UInt64(FormatLimits.labelIDLimit), slotOfID[Int(id)] != 0 else {
                        throw BlockError("event at payload offset \(recordOffset) uses undefined label id \(id)")
                    }
                    let slot = Int(slotOfID[Int(id)]) - 1
                    guard lastUse[slot] != eventIndex else {
                        throw BlockError("event at payload offset \(recordOffset) repeats label id \(id)")
                    }
                    lastUse[slot] = eventIndex
                    entries += 1
                    guard entries <= FormatLimits.maxLabelsPerEvent else {
                        throw BlockError("event at payload offset \(recordOffset) has more than \(FormatLimits.maxLabelsPerEvent) labels")
                    }
                    block.entrySlots.append(Int32(slot))
                    block.tx.append(sent)
                    block.rx.append(received)
                }
                block.times.append(time)
                block.durations.append(duration)
                block.cellular.append(type == RecordType.cellularEvent || type == RecordType.adjacentCellularEvent)
                block.entryStart.append(Int32(block.entrySlots.count))
                previousEnd = time &+ duration
                previousDuration = duration

            default:
                // Unknown record type: skipped by its length (forward compatibility).
                break
            }
        }
        try rankLabels(&block)
    }

    /// Orders the block's labels bytewise and rejects a label defined under two ids.
    private mutating func rankLabels(_ block: inout DecodedBlock) throws(BlockError) {
        let count = block.labelCount
        guard count > 0 else { return }
        rankOrder.removeAll(keepingCapacity: true)
        rankOrder.append(contentsOf: 0..<Int32(count))
        let duplicate: Bool = block.labelBytes.withUnsafeBufferPointer { bytes in
            let starts = block.labelStart
            func label(_ slot: Int32) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: bytes[Int(starts[Int(slot)])..<Int(starts[Int(slot) + 1])])
            }
            rankOrder.sort { label($0).lexicographicallyPrecedes(label($1)) }
            for index in 1..<max(count, 1) where label(rankOrder[index - 1]).elementsEqual(label(rankOrder[index])) {
                return true
            }
            return false
        }
        guard !duplicate else { throw BlockError("a label is defined under two ids") }
        block.labelRank.append(contentsOf: repeatElement(0, count: count))
        for (rank, slot) in rankOrder.enumerated() {
            block.labelRank[Int(slot)] = Int32(rank)
        }
    }
}

// Not Sendable: it holds its decompressor, a class with buffers, used by one thread at a time.
@available(*, unavailable)
extension BlockDecoder: Sendable {}
