/// The fast path of `JSONLinesParser.parse(_:lineNumber:into:)`: lines in
/// the exact shape canonical JSON has, read in one pass over raw bytes.
///
/// A plain line is `{"t":T,"d":D,"s":{…}}` or `{"t":T,"d":D,"c":1,"s":{…}}`
/// with no whitespace; T and D are 1 to 18 digits, tx and rx 1 to 19 (no
/// sign, no leading zero), so none can overflow; labels are printable ASCII
/// without `"` or `\`, at most `FormatLimits.maxLabelBytes` bytes, in strictly
/// increasing bytewise order (which also rules out duplicates), at most
/// `FormatLimits.maxLabelsPerEvent` of them. Canonical lines whose labels are
/// ASCII without escapes are plain: nearly every line of a real log.
///
/// Any other line is declined, not judged: the general parser then reads it
/// from the start and gives the same event, or the error, it always did. On
/// the lines it accepts, both parsers give the same event; a test and the
/// JSON-lines fuzz target compare them.
struct PlainLineScanner {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var index = 0

    private static let digitsOfInt64 = 18
    private static let digitsOfUInt64 = 19

    /// Reads `line` into `event` if it is plain; false leaves `event` with
    /// no meaningful value. Labels are looked up in, and added to,
    /// `interned` as the general parser does.
    static func parse(_ line: UnsafeRawBufferPointer, into event: inout Event, interned: inout [Label]) -> Bool {
        // The shortest plain line: {"t":0,"d":0,"s":{}}
        guard line.count >= 20, let start = line.baseAddress else { return false }
        var scanner = PlainLineScanner(base: start.assumingMemoryBound(to: UInt8.self), end: line.count)
        return scanner.parseLine(into: &event, interned: &interned)
    }

    private init(base: UnsafePointer<UInt8>, end: Int) {
        self.base = base
        self.end = end
    }

    private mutating func parseLine(into event: inout Event, interned: inout [Label]) -> Bool {
        guard take("{\"t\":"), let time = digits(atMost: Self.digitsOfInt64),
              take(",\"d\":"), let duration = digits(atMost: Self.digitsOfInt64)
        else { return false }
        let isCellular = take(",\"c\":1")
        guard take(",\"s\":{") else { return false }
        // Entries are overwritten in place, and an entry whose label has the
        // bytes just read keeps its label: most lines name the labels of the
        // line before, which then costs no reference counting.
        var used = 0
        if !take("}") {
            var previous: UnsafeBufferPointer<UInt8>?
            while true {
                guard used < FormatLimits.maxLabelsPerEvent,
                      let name = label(),
                      previous.map({ precedes($0, name) }) ?? true,
                      take(":["), let tx = digits(atMost: Self.digitsOfUInt64),
                      take(","), let rx = digits(atMost: Self.digitsOfUInt64),
                      take("]")
                else { return false }
                if used < event.counts.count, Self.bytes(of: event.counts[used].label, equal: name) {
                    event.counts[used].tx = tx
                    event.counts[used].rx = rx
                } else {
                    let entry = LabelCounts(label: Self.label(name, interned: &interned), tx: tx, rx: rx)
                    if used < event.counts.count { event.counts[used] = entry } else { event.counts.append(entry) }
                }
                used += 1
                previous = name
                if take(",") { continue }
                guard take("}") else { return false }
                break
            }
        }
        guard take("}"), index == end else { return false }
        if event.counts.count > used { event.counts.removeSubrange(used...) }
        event.time = Int64(time)  // at most 18 digits: below Int64.max
        event.duration = Int64(duration)
        event.isCellular = isCellular
        return true
    }

    /// Consumes `text` if the line continues with exactly it.
    @inline(__always)
    private mutating func take(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard end - index >= count else { return false }
        let expected = text.utf8Start
        for offset in 0..<count where base[index + offset] != expected[offset] {
            return false
        }
        index += count
        return true
    }

    /// 1 to `limit` digits, no leading zero, and not followed by another digit.
    @inline(__always)
    private mutating func digits(atMost limit: Int) -> UInt64? {
        let start = index
        let stop = min(end, start + limit)
        var value: UInt64 = 0
        // Eight digits at a time where eight are there (a time has 13).
        while stop - index >= 8 {
            let chunk = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            // Every byte 0x30…0x39: high nibble 3, and adding 6 keeps it 3.
            guard chunk & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030,
                  (chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
            else { break }
            value = value &* 100_000_000 &+ Self.eightDigits(chunk)
            index += 8
        }
        while index < stop {
            let digit = base[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt64(digit)
            index += 1
        }
        let count = index - start
        guard count > 0, count == 1 || base[start] != UInt8(ascii: "0") else { return nil }
        // More digits than the fast path sums without overflow: declined.
        if index < end, base[index] &- UInt8(ascii: "0") < 10 { return nil }
        return value
    }

    /// The value of eight ASCII digits loaded little-endian (first digit in
    /// the low byte): pairs, then quads, then the whole, by multiply-shift.
    @inline(__always)
    private static func eightDigits(_ chunk: UInt64) -> UInt64 {
        var value = chunk & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* (10 << 8 + 1)) >> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) >> 16
        value = ((value & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) >> 32
        return value
    }

    /// A quoted label of printable ASCII without escapes, within the limit;
    /// its bytes without the quotes.
    @inline(__always)
    private mutating func label() -> UnsafeBufferPointer<UInt8>? {
        guard index < end, base[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var at = start
        while at < end {
            let byte = base[at]
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            if byte == UInt8(ascii: "\"") { break }
            at += 1
        }
        guard at < end, at - start <= FormatLimits.maxLabelBytes else { return nil }
        index = at + 1
        return UnsafeBufferPointer(start: base + start, count: at - start)
    }

    /// Bytewise order, strict.
    private func precedes(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        for offset in 0..<min(lhs.count, rhs.count) where lhs[offset] != rhs[offset] {
            return lhs[offset] < rhs[offset]
        }
        return lhs.count < rhs.count
    }

    private static func bytes(of label: Label, equal bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        label.bytes.withUnsafeBufferPointer { $0.elementsEqual(bytes) }
    }

    /// The interned label with these bytes, or a new one, interned while
    /// there is room (as `JSONLinesParser` interns).
    private static func label(_ bytes: UnsafeBufferPointer<UInt8>, interned: inout [Label]) -> Label {
        for known in interned where known.bytes.count == bytes.count {
            let same = known.bytes.withUnsafeBufferPointer { knownBytes in
                knownBytes.elementsEqual(bytes)
            }
            if same { return known }
        }
        let label = Label(bytes: Array(bytes))
        if interned.count < JSONLinesParser.maxInternedLabels {
            interned.append(label)
        }
        return label
    }
}
