import SockStatAnalysis
import SockStatFormat

/// The page's totals table and footer figures, from the summary's own
/// figures (so that they equal `summary --json`), as members of the page's
/// data object. Byte counts are decimal strings: exact in the page's
/// `data-value` attributes however large.
enum TotalsTable {
    /// Rows shown, largest total first; the rest are counted under the table.
    static let maximumRows = 200
    /// Characters of a `--label-names` name the page shows.
    static let maximumNameLength = 200

    /// The members: `totals` (rows, the line for all labels, what was left
    /// out), `labelNames`, and the footer's time covered, resolution of
    /// each period, events and gaps.
    ///
    /// - Parameter alsoNamed: further labels whose names the page shows
    ///   (the chart's series, the bursts').
    static func members(_ figures: SummaryFigures, names: LabelNames?, alsoNamed: [[UInt8]]) -> [String] {
        // Largest total first, as summary lists them (SummaryFigures.labels).
        let rows = figures.labels
        let shown = rows.prefix(maximumRows)
        func share(_ value: ByteTotal) -> String { HumanUnits.share(value, of: figures.totals.total) }
        func totals(_ totals: TrafficTotals) -> String {
            "\"tx\":\"\(totals.tx)\",\"rx\":\"\(totals.rx)\",\"total\":\"\(totals.total)\","
                + "\"cellular_tx\":\"\(totals.cellularTX)\",\"cellular_rx\":\"\(totals.cellularRX)\""
        }
        let rowText = shown.map { row in
            "{\"label\":" + PageText.jsonString(row.label.bytes) + "," + totals(row.totals)
                + ",\"share\":" + PageText.jsonString(share(row.totals.total))
                + ",\"peak\":\"\(row.rate.peak)\",\"p95\":\"\(row.rate.percentile95)\",\"seconds_active\":\"\(row.secondsActive)\"}"
        }
        var omitted = TrafficTotals()
        for row in rows.dropFirst(maximumRows) { omitted.add(row.totals) }
        var members = [
            "\"totals\":{\"labels\":[" + rowText.joined(separator: ",") + "],\"all\":{" + totals(figures.totals) + "},"
                + "\"omitted\":\(rows.count - shown.count),\"omittedTotals\":{" + totals(omitted) + "}}",
            "\"events\":\(figures.events)",
            "\"coveredFrom\":\(figures.firstTime.map(String.init) ?? "null")",
            "\"coveredTo\":\(figures.endTime.map(String.init) ?? "null")",
            "\"gapMilliseconds\":\(figures.gaps.threshold)",
            "\"gapCount\":\(figures.gaps.count)",
            "\"gapTotal\":\"\(figures.gaps.totalLength)\"",
            "\"resolutions\":[" + figures.resolutions.map { period in
                "{\"text\":" + PageText.jsonString(period.resolutionText) + ",\"from\":\(period.firstTime),\"to\":\(period.endTime)}"
            }.joined(separator: ",") + "]",
        ]
        // Names only for the labels the page shows.
        var named: [String] = []
        if let names {
            var seen = Set<[UInt8]>()
            for bytes in shown.map(\.label.bytes) + alsoNamed where seen.insert(bytes).inserted {
                // A name file's names have no length limit; the page's size has.
                if let name = names.name(for: Label(bytes: bytes)) {
                    named.append(PageText.jsonString(bytes) + ":" + PageText.jsonString(String(name.prefix(maximumNameLength))))
                }
            }
        }
        members.append("\"labelNames\":{" + named.joined(separator: ",") + "}")
        return members
    }
}
