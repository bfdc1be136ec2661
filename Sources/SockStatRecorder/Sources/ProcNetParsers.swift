// The two Linux `/proc/net` files `InterfaceCounters` reads, as pure
// functions of their text: no files, no state, no allocation. Names come
// back as byte ranges into the text, so that the caller decides what to copy.

/// `/proc/net/dev`: two header lines, then one line per interface.
///
/// The kernel prints each line with `"%6s: %7llu %7llu %4llu …"`
/// (`net/core/net-procfs.c`, `dev_seq_printf_stats`, in 3.10 as today;
/// 2.6.32 printed `"%6s:%8lu %7lu …"`, no blank after the colon). The name
/// is right aligned in 6 bytes, so a longer one starts the line; widths are
/// minimums, so a wide number just pushes the rest along, and under 2.6
/// touches the colon (`eth0:3742334317097 …`). Names cannot hold `:` or
/// blanks (the kernel's `dev_valid_name`), so the first colon ends the name.
enum ProcNetDev {
    /// One interface line: where the name is, and its byte counters.
    struct Entry: Equatable, Sendable {
        /// The name's byte offsets in the text: what comes before the line's
        /// first colon, blanks trimmed; never empty.
        var name: Range<Int>
        /// Bytes received: the first number after the colon.
        var rx: UInt64
        /// Bytes transmitted: the ninth number.
        var tx: UInt64
    }

    /// The interface lines of `text`, in file order, parsed as iterated.
    ///
    /// A line is skipped when it has no colon, an empty name, fewer than 9
    /// numbers after the colon, or one of them over `UInt64.max`; so are the
    /// headers. Numbers after the ninth are not looked at. A name that comes
    /// twice comes back twice: dropping the repeat is the caller's choice.
    ///
    /// - Parameter text: the file's bytes; the last line may lack its `\n`.
    /// - Returns: a sequence that allocates nothing as it goes.
    static func entries(in text: UnsafeBufferPointer<UInt8>) -> Entries {
        Entries(lines: TextLines(text: text))
    }

    /// The entries of one text; see `entries(in:)`.
    struct Entries: Sequence, IteratorProtocol {
        fileprivate var lines: TextLines

        mutating func next() -> Entry? {
            while let line = lines.next() {
                if let entry = ProcNetDev.entry(lines.text, line) { return entry }
            }
            return nil
        }
    }

    /// Parses `text[line]`; nil for a header or malformed line.
    private static func entry(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Entry? {
        guard let colon = text[line].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = trimmingBlanks(text, line.lowerBound..<colon)
        guard !name.isEmpty else { return nil }
        // Fields 0 (rx bytes) to 8 (tx bytes) must all be numbers; later
        // fields are not needed and not checked.
        var cursor = colon + 1
        var rx: UInt64 = 0
        var tx: UInt64 = 0
        for field in 0..<9 {
            while cursor < line.upperBound, isBlank(text[cursor]) { cursor += 1 }
            guard let value = parseDecimal(text, &cursor, end: line.upperBound) else { return nil }
            if field == 0 { rx = value }
            if field == 8 { tx = value }
        }
        return Entry(name: name, rx: rx, tx: tx)
    }
}

/// `/proc/net/route`: the IPv4 main routing table, a header, then one line
/// per route, tab-separated:
/// `Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT`
/// (`net/ipv4/fib_trie.c`, `fib_route_seq_show`: `"%s\t%08X\t%08X\t%04X\t…"`,
/// each line padded with blanks to 127 bytes). Destination and flags are
/// hexadecimal, the metric decimal. A namespace without a main table gives
/// an empty file, not even the header.
enum ProcNetRoute {
    /// The flag of a route that is up (`RTF_UP` in `<linux/route.h>`).
    static let routeIsUp: UInt64 = 0x1

    /// The interface of the default route: destination 0, flag `RTF_UP`,
    /// the lowest metric, the first listed on a tie.
    ///
    /// Lines whose interface is empty, whose destination or flags are not
    /// hexadecimal, whose metric is not a decimal number, or that have
    /// fewer than 7 fields are skipped; so is the header. Blanks around a
    /// field (spaces, tabs, `\r`) are trimmed. The kernel names the
    /// interface `*` for a route without a device (`unreachable default`):
    /// that is returned like any name.
    ///
    /// - Parameter text: the file's bytes; the last line may lack its `\n`.
    /// - Returns: the interface name's byte offsets in `text`, or nil when
    ///   no line is a default route that is up.
    static func defaultInterface(in text: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var best: (name: Range<Int>, metric: UInt64)?
        var lines = TextLines(text: text)
        while let line = lines.next() {
            var fields = TabFields(text: text, range: line)
            // The header's "Destination" is not hexadecimal, so it drops out here.
            guard let name = fields.next(), !name.isEmpty,
                  let destination = fields.next().flatMap({ parseWhole(text, $0, radix: 16) }), destination == 0,
                  fields.next() != nil, // gateway
                  let flags = fields.next().flatMap({ parseWhole(text, $0, radix: 16) }), flags & routeIsUp != 0,
                  fields.next() != nil, fields.next() != nil, // refcnt, use
                  let metric = fields.next().flatMap({ parseWhole(text, $0, radix: 10) })
            else { continue }
            if best == nil || metric < best!.metric {
                best = (name, metric)
            }
        }
        return best?.name
    }
}

/// The `\n`-separated lines of a text, each without its `\n`; a last line
/// without one counts.
private struct TextLines {
    let text: UnsafeBufferPointer<UInt8>
    var start = 0

    mutating func next() -> Range<Int>? {
        guard start < text.count else { return nil }
        let end = text[start...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
        defer { start = end + 1 }
        return start..<end
    }
}

/// The tab-separated fields of one line, blanks trimmed.
private struct TabFields {
    let text: UnsafeBufferPointer<UInt8>
    var range: Range<Int>
    var done = false

    mutating func next() -> Range<Int>? {
        guard !done else { return nil }
        let end = text[range].firstIndex(of: UInt8(ascii: "\t")) ?? range.upperBound
        let field = trimmingBlanks(text, range.lowerBound..<end)
        if end == range.upperBound {
            done = true
        } else {
            range = (end + 1)..<range.upperBound
        }
        return field
    }
}

/// `range` without the blanks at either end.
private func trimmingBlanks(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
    var start = range.lowerBound
    var end = range.upperBound
    while start < end, isBlank(text[start]) { start += 1 }
    while end > start, isBlank(text[end - 1]) { end -= 1 }
    return start..<end
}

/// Space, tab and `\r`: the kernel writes no `\r`, but a file copied
/// through Windows may carry one, and it should not hide the last number.
private func isBlank(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
}

/// Parses decimal digits at `cursor`, which must end at a blank or `end`;
/// nil when there are none, another byte follows, or the value overflows.
private func parseDecimal(_ text: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, end: Int) -> UInt64? {
    let start = cursor
    var value: UInt64 = 0
    while cursor < end, let digit = digitValue(text[cursor], radix: 10) {
        let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = shifted.addingReportingOverflow(digit)
        guard !o1, !o2 else { return nil }
        value = sum
        cursor += 1
    }
    guard cursor > start, cursor == end || isBlank(text[cursor]) else { return nil }
    return value
}

/// Parses all of `text[range]` as a number in `radix`; nil when empty, not
/// all digits, or too large.
private func parseWhole(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, radix: UInt64) -> UInt64? {
    guard !range.isEmpty else { return nil }
    var value: UInt64 = 0
    for index in range {
        guard let digit = digitValue(text[index], radix: radix) else { return nil }
        let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
        let (sum, o2) = shifted.addingReportingOverflow(digit)
        guard !o1, !o2 else { return nil }
        value = sum
    }
    return value
}

private func digitValue(_ byte: UInt8, radix: UInt64) -> UInt64? {
    let value: UInt64
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
    return value < radix ? value : nil
}
