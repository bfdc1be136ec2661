import SockStatFormat

/// What a summary's output says besides the figures: where they came from,
/// the window asked for, the names to show, and damage met while reading.
public struct SummaryContext: Sendable {
    /// The inputs, as named on the command line (`logs`, `a.sslog, b.sslog`).
    public var source: String
    /// The window asked for (`--since`, `--until`).
    public var range: TimeRange
    /// Names to show beside labels; nil for none.
    public var names: LabelNames?
    /// Damaged regions, refused or unreadable files the read skipped.
    public var damageSkipped: Int

    /// Creates a context.
    public init(source: String, range: TimeRange = TimeRange(), names: LabelNames? = nil, damageSkipped: Int = 0) {
        self.source = source
        self.range = range
        self.names = names
        self.damageSkipped = damageSkipped
    }

    /// "no traffic was recorded in SOURCE[ between … and …]".
    var noTrafficLine: String {
        var line = "no traffic was recorded in \(source)"
        switch (range.since, range.until) {
        case (let since?, let until?): line += " from \(ISOTime.format(since)) to \(ISOTime.format(until))"
        case (let since?, nil): line += " since \(ISOTime.format(since))"
        case (nil, let until?): line += " before \(ISOTime.format(until))"
        case (nil, nil): break
        }
        return line
    }
}

/// A summary as a table for people (`sockstat-convert summary`).
public enum SummaryText: Sendable {
    /// The text: per label tx, rx, total, share, cellular part, peak and
    /// p95 rate (sent and received together) and seconds active, largest
    /// total first, a line for all labels, then a footer (time covered,
    /// resolution of each period, events, gaps, damage skipped). With
    /// buckets, such a table per bucket first. Bytes in binary units, or
    /// exact integers when `exactBytes`.
    /// A label or name longer than 40 characters is cut to 39 and `…`
    /// (`SummaryJSON` has it whole).
    public static func render(_ figures: SummaryFigures, context: SummaryContext, exactBytes: Bool = false) -> String {
        var text = ""
        if figures.hasNoTraffic {
            text += context.noTrafficLine + (figures.events > 0 ? " (\(figures.events) events, all of 0 bytes)" : "") + "\n"
        } else {
            let offset = figures.options.utcOffset
            for bucket in figures.buckets {
                text += "\(ISOTime.format(bucket.start, offset: offset)) to \(ISOTime.format(bucket.end, offset: offset)): "
                    + "\(bucket.events) events\n"
                text += table(bucket.labels, totals: bucket.totals, names: context.names, exactBytes: exactBytes)
                text += "\n"
            }
            if !figures.buckets.isEmpty { text += "All \(figures.buckets.count) \(figures.options.bucketSize)s:\n" }
            text += table(figures.labels, totals: figures.totals, names: context.names, exactBytes: exactBytes)
        }
        if figures.events > 0 || context.damageSkipped > 0 {
            text += footer(figures, context: context)
        }
        return text
    }

    private static func table(_ labels: [LabelFigures], totals: TrafficTotals, names: LabelNames?, exactBytes: Bool) -> String {
        func bytes(_ value: ByteTotal) -> String { exactBytes ? value.description : HumanUnits.bytes(value) }
        func rate(_ value: ByteTotal) -> String { exactBytes ? value.description : HumanUnits.rate(value) }
        func share(_ value: ByteTotal) -> String { HumanUnits.share(value, of: totals.total) }
        var header = ["label"]
        if names != nil { header.append("name") }
        header += ["tx", "rx", "total", "share", "cellular", exactBytes ? "peak B/s" : "peak", exactBytes ? "p95 B/s" : "p95", "active s"]
        var rows: [[String]] = [header]
        for figures in labels {
            var row = [shortened(LabelText.display(figures.label.bytes))]
            if let names { row.append(names.name(for: figures.label).map { shortened(LabelText.display(Array($0.utf8))) } ?? "") }
            row += [bytes(figures.totals.tx), bytes(figures.totals.rx), bytes(figures.totals.total),
                    share(figures.totals.total), bytes(figures.totals.cellular),
                    rate(figures.rate.peak), rate(ByteTotal(figures.rate.percentile95)), String(figures.secondsActive)]
            rows.append(row)
        }
        var all = ["all"]
        if names != nil { all.append("") }
        all += [bytes(totals.tx), bytes(totals.rx), bytes(totals.total), share(totals.total), bytes(totals.cellular), "", "", ""]
        rows.append(all)
        let leftAligned = names != nil ? 2 : 1
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        var text = ""
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if column > 0 { line += "  " }
                line += column < leftAligned ? cell + padding : padding + cell
            }
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    /// The most characters a label or name takes in the table: one long
    /// label would otherwise push every other column off the screen.
    public static let widestLabel = 40

    /// `text` cut to its first `widestLabel` − 1 characters and `…` when longer.
    static func shortened(_ text: String) -> String {
        text.count <= widestLabel ? text : String(text.prefix(widestLabel - 1)) + "…"
    }

    private static func footer(_ figures: SummaryFigures, context: SummaryContext) -> String {
        var lines: [(String, String)] = []
        if let first = figures.firstTime, let end = figures.endTime {
            let length = end >= first ? ByteTotal(UInt64(bitPattern: end &- first)) : ByteTotal()
            lines.append(("time covered", "\(ISOTime.format(first)) to \(ISOTime.format(end)) (\(HumanUnits.duration(length)))"))
        }
        // One period is the time covered: its resolution alone says it.
        if figures.resolutions.count == 1 {
            lines.append(("resolution", figures.resolutions[0].resolutionText))
        } else if !figures.resolutions.isEmpty {
            lines.append(("resolution", figures.resolutions.map {
                "\($0.resolutionText) from \(ISOTime.format($0.firstTime)) to \(ISOTime.format($0.endTime))"
            }.joined(separator: ", ")))
        }
        lines.append(("events", String(figures.events)))
        let gaps = figures.gaps
        var gapLine = "\(gaps.count) longer than \(HumanUnits.duration(ByteTotal(UInt64(max(gaps.threshold, 0)))))"
        if gaps.count > 0 {
            gapLine += ", \(HumanUnits.duration(gaps.totalLength)) in all; longest: "
                + gaps.longest.map { "\(HumanUnits.duration(ByteTotal(UInt64($0.length)))) from \(ISOTime.format($0.start))" }
                    .joined(separator: ", ")
        }
        lines.append(("gaps", gapLine))
        lines.append(("damage skipped", context.damageSkipped == 0 ? "none"
            : "\(context.damageSkipped) (damaged regions or files, named on standard error)"))
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 + "\n" }.joined()
    }
}

/// A summary as one JSON object for programs (`summary --json`), described
/// in README.md "Summary". Byte counts are exact integers, however large
/// (past 2^64−1 only for hostile logs).
public enum SummaryJSON: Sendable {
    /// The object, with a final newline.
    public static func render(_ figures: SummaryFigures, context: SummaryContext) -> [UInt8] {
        var out: [UInt8] = []
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        func string(_ text: String) { CanonicalJSON.appendString(Array(text.utf8), to: &out) }
        func time(_ value: Int64?) {
            if let value { CanonicalJSON.appendDecimal(value, to: &out) } else { raw("null") }
        }
        raw(#"{"source":"#); string(context.source)
        raw(#","since":"#); time(context.range.since)
        raw(#","until":"#); time(context.range.until)
        raw(#","by":"#); string(figures.options.bucketSize.description)
        raw(#","utc_offset":"#); string(ISOTime.offsetSuffix(figures.options.utcOffset))
        raw(#","first_t":"#); time(figures.firstTime)
        raw(#","end_t":"#); time(figures.endTime)
        raw(#","events":\#(figures.events)"#)
        raw(#","no_traffic":\#(figures.hasNoTraffic)"#)
        raw(#","damage_skipped":\#(context.damageSkipped)"#)
        let gaps = figures.gaps
        raw(#","gaps":{"threshold_ms":\#(gaps.threshold),"count":\#(gaps.count),"total_ms":\#(gaps.totalLength),"longest":["#)
        for (index, gap) in gaps.longest.enumerated() {
            raw((index > 0 ? "," : "") + #"{"start":\#(gap.start),"end":\#(gap.end),"length_ms":\#(gap.length)}"#)
        }
        raw("]}")
        raw(#","resolutions":["#)
        for (index, period) in figures.resolutions.enumerated() {
            raw((index > 0 ? "," : "") + #"{"window_ms":\#(period.window),"first_t":\#(period.firstTime),"end_t":\#(period.endTime)"#)
            raw(#","events":\#(period.events),"shortest_d":"#); time(period.shortestDuration)
            raw(#","longest_d":"#); time(period.longestDuration)
            raw("}")
        }
        raw("]")
        raw(#","totals":"#); totals(figures.totals, to: &out)
        raw(#","labels":"#); labels(figures.labels, names: context.names, to: &out)
        raw(#","buckets":["#)
        for (index, bucket) in figures.buckets.enumerated() {
            raw((index > 0 ? "," : "") + #"{"start":\#(bucket.start),"end":\#(bucket.end),"start_local":"#)
            string(ISOTime.format(bucket.start, offset: figures.options.utcOffset))
            raw(#","events":\#(bucket.events),"totals":"#)
            totals(bucket.totals, to: &out)
            raw(#","labels":"#)
            labels(bucket.labels, names: context.names, to: &out)
            raw("}")
        }
        raw("]}\n")
        return out
    }

    private static func totals(_ totals: TrafficTotals, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"tx":\#(totals.tx),"rx":\#(totals.rx),"cellular_tx":\#(totals.cellularTX),"cellular_rx":\#(totals.cellularRX)}"#.utf8)
    }

    /// Members in bytewise label order (as canonical JSON orders `s`).
    private static func labels(_ labels: [LabelFigures], names: LabelNames?, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, figures) in labels.sorted(by: { $0.label < $1.label }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(figures.label.bytes, to: &out)
            out.append(UInt8(ascii: ":"))
            var member = "{"
            if let name = names?.name(for: figures.label) {
                var quoted: [UInt8] = []
                CanonicalJSON.appendString(Array(name.utf8), to: &quoted)
                member += #""name":\#(String(decoding: quoted, as: UTF8.self)),"#
            }
            if String(validating: figures.label.bytes, as: UTF8.self) == nil {
                // The key shows invalid bytes as U+FFFD, as canonical JSON does; the hex tells such labels apart.
                member += #""label_hex":"\#(figures.label.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())","#
            }
            let totals = figures.totals
            member += #""tx":\#(totals.tx),"rx":\#(totals.rx),"cellular_tx":\#(totals.cellularTX),"cellular_rx":\#(totals.cellularRX)"#
            member += #","seconds_active":\#(figures.secondsActive)"#
            member += #","rate":\#(rate(figures.rate)),"tx_rate":\#(rate(figures.txRate)),"rx_rate":\#(rate(figures.rxRate))}"#
            out.append(contentsOf: member.utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func rate(_ distribution: RateDistribution) -> String {
        #"{"peak":\#(distribution.peak),"p95":\#(distribution.percentile95)}"#
    }
}
