/// Writes decoded blocks as canonical JSON lines (`Spec/FORMAT.md` section
/// 9), fast: the default output of decoding.
///
/// Each block's labels are escaped once into a cache (`"label":[`), so an
/// event costs a few copies and integer conversions; nothing is allocated per
/// event once the buffers have grown.
public struct CanonicalJSONBlockWriter: DecodedBlockWriter, Sendable {
    private var cache: [UInt8] = []
    private var cacheStart: [Int] = [0]
    private var order: [Int32] = []

    /// Creates a writer.
    public init() {}

    /// Writes the events of `block` whose `t` is in `range`, one line each;
    /// returns how many.
    @discardableResult
    public mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange = TimeRange()) throws -> Int {
        buildCache(block)
        var written = 0
        let everything = range.isEverything
        try cache.withUnsafeBufferPointer { cache in
            for index in 0..<block.eventCount {
                let time = block.times[index]
                if !everything && !range.contains(time) { continue }
                try writeEvent(block, index, cache: cache, to: output)
                written += 1
            }
        }
        return written
    }

    private mutating func buildCache(_ block: DecodedBlock) {
        cache.removeAll(keepingCapacity: true)
        cacheStart.removeAll(keepingCapacity: true)
        cacheStart.append(0)
        for slot in 0..<block.labelCount {
            let range = Int(block.labelStart[slot])..<Int(block.labelStart[slot + 1])
            CanonicalJSON.appendString(block.labelBytes[range], to: &cache)
            cache.append(contentsOf: #":["#.utf8)
            cacheStart.append(cache.count)
        }
    }

    @inline(__always)
    private mutating func writeEvent(_ block: DecodedBlock, _ index: Int, cache: UnsafeBufferPointer<UInt8>, to output: OutputBuffer) throws {
        let first = Int(block.entryStart[index])
        let end = Int(block.entryStart[index + 1])
        // Fixed part: {"t":<20>,"d":<20>,"c":1,"s":{ ... }}\n
        var pointer = try output.reserve(64)
        var written = 0
        @inline(__always) func put(_ literal: StaticString) {
            let count = literal.utf8CodeUnitCount
            (pointer + written).update(from: literal.utf8Start, count: count)
            written &+= count
        }
        @inline(__always) func putSigned(_ value: Int64) {
            if value < 0 {
                pointer[written] = UInt8(ascii: "-")
                written &+= 1
            }
            written &+= CanonicalJSON.writeDecimal(value.magnitude, to: pointer + written)
        }
        put(#"{"t":"#)
        putSigned(block.times[index])
        put(#","d":"#)
        putSigned(block.durations[index])
        if block.cellular[index] { put(#","c":1"#) }
        put(#","s":{"#)
        output.commit(written)

        // Entries in bytewise label order; the writer stores them sorted, so
        // sorting is needed only for blocks written by someone else.
        let sorted = block.entriesAreInLabelOrder(first..<end)
        if !sorted { block.sortEntriesByLabel(first..<end, into: &order) }
        for position in first..<end {
            let entry = sorted ? position : Int(order[position - first])
            let slot = Int(block.entrySlots[entry])
            let labelStart = cacheStart[slot]
            let labelCount = cacheStart[slot + 1] - labelStart
            pointer = try output.reserve(labelCount + 48)
            written = 0
            if position != first {
                pointer[0] = UInt8(ascii: ",")
                written = 1
            }
            (pointer + written).update(from: cache.baseAddress! + labelStart, count: labelCount)
            written &+= labelCount
            written &+= CanonicalJSON.writeDecimal(block.tx[entry], to: pointer + written)
            pointer[written] = UInt8(ascii: ",")
            written &+= 1
            written &+= CanonicalJSON.writeDecimal(block.rx[entry], to: pointer + written)
            pointer[written] = UInt8(ascii: "]")
            written &+= 1
            output.commit(written)
        }
        pointer = try output.reserve(3)
        pointer[0] = UInt8(ascii: "}")
        pointer[1] = UInt8(ascii: "}")
        pointer[2] = UInt8(ascii: "\n")
        output.commit(3)
    }
}
