/// Writes decoded blocks as CSV or TSV in long form (`Spec/OUTPUT.md`): a
/// header row, then one row per event and label,
///
///     t,d,c,label,tx,rx
///     1764288339865,100,0,2,148,148
///     1764288339865,100,0,8,1024,96
///
/// in the event order of canonical JSON and, within an event, its label order
/// (bytewise). `c` is `0` or `1`. A label is the text canonical JSON gives it,
/// unescaped: every byte that does not start a valid UTF-8 sequence becomes
/// U+FFFD (the rule of `Spec/FORMAT.md` 9), so CSV, TSV and JSON agree. An
/// event with no labels has no row. Lines end in LF.
///
/// - CSV (RFC 4180): a label that is empty or holds `,` `"` CR or LF is
///   quoted, its `"` doubled.
/// - TSV (PostgreSQL text format, ClickHouse `TabSeparated`): in a label `\`
///   is written `\\`, tab `\t`, LF `\n`, CR `\r`; nothing is quoted.
///
/// Fast like `CanonicalJSONBlockWriter`: each block's labels are escaped once.
public struct DelimitedTextBlockWriter: DecodedBlockWriter, Sendable {
    /// Which of the two text tables.
    public struct Dialect: Hashable, Sendable {
        /// The byte between fields.
        public let separator: UInt8
        private let quotes: Bool

        /// Comma-separated, RFC 4180 quoting.
        public static let csv = Dialect(separator: UInt8(ascii: ","), quotes: true)
        /// Tab-separated, backslash escapes.
        public static let tsv = Dialect(separator: UInt8(ascii: "\t"), quotes: false)

        /// Appends `label` as one field of this dialect.
        ///
        /// - Parameters:
        ///   - label: the label's bytes, any bytes (invalid UTF-8 is replaced).
        ///   - out: where the field goes.
        public func appendField<C: Collection>(_ label: C, to out: inout [UInt8]) where C.Element == UInt8 {
            var text: [UInt8] = []
            GoUTF8.appendReplacingInvalid(label, to: &text)
            if quotes {
                let needsQuotes = text.isEmpty || text.contains { byte in
                    byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
                }
                guard needsQuotes else {
                    out.append(contentsOf: text)
                    return
                }
                out.append(UInt8(ascii: "\""))
                for byte in text {
                    if byte == UInt8(ascii: "\"") { out.append(byte) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "\""))
            } else {
                for byte in text {
                    switch byte {
                    case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                    case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
                    case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                    case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
                    default: out.append(byte)
                    }
                }
            }
        }
    }

    /// The dialect written.
    public let dialect: Dialect
    /// Whether the header row is written (once, before the first row).
    public let writesHeader: Bool
    private var headerWritten = false
    /// Each slot's field followed by the separator, for the current block.
    private var cache: [UInt8] = []
    private var cacheStart: [Int] = [0]
    private var order: [Int32] = []

    /// Creates a writer.
    ///
    /// - Parameters:
    ///   - dialect: CSV or TSV.
    ///   - writesHeader: whether the run's output starts with the header row
    ///     `t,d,c,label,tx,rx` (written once per run, even when no event is).
    public init(dialect: Dialect, writesHeader: Bool = true) {
        self.dialect = dialect
        self.writesHeader = writesHeader
    }

    /// Writes a row for each label of each event of `block` whose `t` is in
    /// `range`; returns how many events were in `range`.
    @discardableResult
    public mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange = TimeRange()) throws -> Int {
        try writeHeaderOnce(to: output)
        buildCache(block)
        var written = 0
        let everything = range.isEverything
        let separator = dialect.separator
        try cache.withUnsafeBufferPointer { cache in
            // t, d and c of the event, written once and copied into each row.
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { prefixBuffer in
                let prefix = prefixBuffer.baseAddress!
                for index in 0..<block.eventCount {
                    let time = block.times[index]
                    if !everything && !range.contains(time) { continue }
                    written += 1
                    let first = Int(block.entryStart[index])
                    let end = Int(block.entryStart[index + 1])
                    if first == end { continue }
                    var prefixCount = Self.writeSigned(time, to: prefix)
                    prefix[prefixCount] = separator
                    prefixCount &+= 1
                    prefixCount &+= Self.writeSigned(block.durations[index], to: prefix + prefixCount)
                    prefix[prefixCount] = separator
                    prefix[prefixCount &+ 1] = block.cellular[index] ? UInt8(ascii: "1") : UInt8(ascii: "0")
                    prefix[prefixCount &+ 2] = separator
                    prefixCount &+= 3

                    let sorted = block.entriesAreInLabelOrder(first..<end)
                    if !sorted { block.sortEntriesByLabel(first..<end, into: &order) }
                    for position in first..<end {
                        let entry = sorted ? position : Int(order[position - first])
                        let slot = Int(block.entrySlots[entry])
                        let fieldStart = cacheStart[slot]
                        let fieldCount = cacheStart[slot + 1] - fieldStart
                        let pointer = try output.reserve(prefixCount + fieldCount + 42)
                        pointer.update(from: prefix, count: prefixCount)
                        var count = prefixCount
                        (pointer + count).update(from: cache.baseAddress! + fieldStart, count: fieldCount)
                        count &+= fieldCount
                        count &+= CanonicalJSON.writeDecimal(block.tx[entry], to: pointer + count)
                        pointer[count] = separator
                        count &+= 1
                        count &+= CanonicalJSON.writeDecimal(block.rx[entry], to: pointer + count)
                        pointer[count] = UInt8(ascii: "\n")
                        output.commit(count &+ 1)
                    }
                }
            }
        }
        return written
    }

    /// Writes the header row if this run has not yet had it.
    public mutating func finish(to output: OutputBuffer) throws {
        try writeHeaderOnce(to: output)
    }

    private mutating func writeHeaderOnce(to output: OutputBuffer) throws {
        guard writesHeader && !headerWritten else { return }
        let names = ["t", "d", "c", "label", "tx", "rx"]
        var header: [UInt8] = []
        for (position, name) in names.enumerated() {
            if position > 0 { header.append(dialect.separator) }
            header.append(contentsOf: name.utf8)
        }
        header.append(UInt8(ascii: "\n"))
        try output.append(header)
        headerWritten = true
    }

    private mutating func buildCache(_ block: DecodedBlock) {
        cache.removeAll(keepingCapacity: true)
        cacheStart.removeAll(keepingCapacity: true)
        cacheStart.append(0)
        for slot in 0..<block.labelCount {
            dialect.appendField(block.labelBytes(slot: slot), to: &cache)
            cache.append(dialect.separator)
            cacheStart.append(cache.count)
        }
    }

    @inline(__always)
    private static func writeSigned(_ value: Int64, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        guard value < 0 else { return CanonicalJSON.writeDecimal(value.magnitude, to: destination) }
        destination[0] = UInt8(ascii: "-")
        return 1 &+ CanonicalJSON.writeDecimal(value.magnitude, to: destination + 1)
    }
}
