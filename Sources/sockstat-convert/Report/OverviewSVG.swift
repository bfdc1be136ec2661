/// The overview chart alone, as a standalone SVG file (`report --svg`): the
/// whole range at the finest sums that give each bucket at least a pixel,
/// sent above the time axis and received below, stacked per label, with
/// cellular periods shaded, gaps hatched and a legend.
///
/// The page draws the same chart with its own script (so that it can zoom);
/// the two follow one layout, this one for a ticket or a wiki.
enum OverviewSVG {
    static let width = 1200.0
    static let height = 560.0
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                          "#9c755f", "#2f4b7c", "#a0cbe8", "#8cd17d", "#d37295", "#499894", "#86bcb6", "#bab0ac"]
    static let otherColour = "#9aa0a8"

    /// The colour of series `index` of `count` (the "other" series, when
    /// there is one, last and grey).
    static func colour(_ index: Int, of data: ReportData) -> String {
        data.series[index].labels.count > 1 && index == data.series.count - 1 ? otherColour : palette[index % palette.count]
    }

    /// The SVG document.
    ///
    /// - Parameter names: the legend's text per series, plain (escaped here).
    static func render(_ data: ReportData, names: [String]) -> String {
        let left = 78.0, right = 18.0, top = 30.0, axisGap = 22.0
        let legendRows = (names.count + 4) / 5
        let bottom = 44.0 + Double(legendRows) * 18 + 6
        let plotWidth = width - left - right
        let pane = (height - top - bottom - axisGap) / 2
        let txBase = top + pane, rxTop = txBase + axisGap, paneBottom = rxTop + pane
        let start = Double(data.first), end = Double(max(data.last, data.first + 1_000))
        let pad = max((end - start) * 0.01, 500)
        let viewStart = start - pad, span = end - start + 2 * pad
        func x(_ t: Double) -> Double { left + (t - viewStart) / span * plotWidth }
        func number(_ value: Double) -> String {
            let rounded = (value * 10).rounded() / 10
            return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        }

        // The finest level with at most one bucket per pixel (the page's
        // levels stop at one of 2,000 buckets: coarser still when needed).
        var level = span / Double(data.finest.width) <= plotWidth || data.levels.isEmpty ? data.finest.whole()
            : data.levels.first { span / Double($0.width) <= plotWidth } ?? data.levels[data.levels.count - 1]
        while span / Double(level.width) > plotWidth, level.width <= Int64.max / 10 { level = level.coarsened(by: 10) }
        let seriesCount = data.series.count
        var rows: [(start: Double, end: Double, tx: [Double], rx: [Double])] = []
        var maxTx = 0.0, maxRx = 0.0
        let seconds = Double(level.width) / 1_000
        for (row, bucket) in level.buckets.enumerated() {
            var tx = [Double](repeating: 0, count: seriesCount), rx = tx
            for series in 0..<seriesCount {
                tx[series] = Double(level.sums[row * 2 * seriesCount + 2 * series]) / seconds
                rx[series] = Double(level.sums[row * 2 * seriesCount + 2 * series + 1]) / seconds
            }
            maxTx = max(maxTx, tx.reduce(0, +))
            maxRx = max(maxRx, rx.reduce(0, +))
            let bucketStart = Double(bucket) * Double(level.width)
            rows.append((bucketStart, bucketStart + Double(level.width), tx, rx))
        }
        let txStep = byteStep(maxTx * 1.05), rxStep = byteStep(maxRx * 1.05)
        let txMax = max(txStep, (maxTx * 1.05 / txStep).rounded(.up) * txStep)
        let rxMax = max(rxStep, (maxRx * 1.05 / rxStep).rounded(.up) * rxStep)

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" viewBox="0 0 \(number(width)) \(number(height))" font-family="system-ui, sans-serif" font-size="11">
            <title>SockStatLog: sent and received bytes/s per label, \(PageText.markup(utcText(data.first))) – \(PageText.markup(utcText(data.last))) UTC</title>
            <defs><pattern id="gap" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#f1f2f4"/><line x1="0" y1="0" x2="0" y2="8" stroke="#c9ccd2" stroke-width="3"/></pattern>
            <clipPath id="plot"><rect x="\(number(left))" y="\(number(top - 4))" width="\(number(plotWidth))" height="\(number(paneBottom - top + 4))"/></clipPath></defs>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <g clip-path="url(#plot)">

            """
        for period in data.cellular {
            let x0 = x(Double(period.start)), x1 = max(x(Double(period.end)), x0 + 1)
            svg += "<rect x=\"\(number(x0))\" y=\"\(number(top))\" width=\"\(number(x1 - x0))\" height=\"\(number(paneBottom - top))\" fill=\"#fdebd9\"/>\n"
        }
        for gap in data.gaps {
            let x0 = x(Double(gap.start)), x1 = max(x(Double(gap.end)), x0 + 1)
            svg += "<rect x=\"\(number(x0))\" y=\"\(number(top))\" width=\"\(number(x1 - x0))\" height=\"\(number(paneBottom - top))\" fill=\"url(#gap)\"/>\n"
        }
        // Gridlines behind the bars, their values on the left.
        svg += "</g>\n<g stroke=\"#e6e8ec\">\n"
        var values = ""
        for (step, maximum, y) in [(txStep, txMax, { (v: Double) in txBase - v / txMax * pane }),
                                   (rxStep, rxMax, { (v: Double) in rxTop + v / rxMax * pane })] {
            var value = step
            while value <= maximum + step / 2 {
                svg += "<line x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(y(value)))\" y2=\"\(number(y(value)))\"/>"
                values += "<text x=\"\(number(left - 6))\" y=\"\(number(y(value) + 4))\" text-anchor=\"end\">\(humanRate(value))</text>\n"
                value += step
            }
        }
        svg += "</g>\n<g clip-path=\"url(#plot)\">\n"
        var txPaths = [String](repeating: "", count: seriesCount), rxPaths = txPaths
        for row in rows {
            let x0 = x(row.start), x1 = max(x(row.end), x0 + 0.8)
            var upTx = 0.0, upRx = 0.0
            for series in 0..<seriesCount {
                if row.tx[series] > 0 {
                    let y0 = txBase - upTx / txMax * pane
                    upTx += row.tx[series]
                    let y1 = min(txBase - upTx / txMax * pane, y0 - 0.6)
                    txPaths[series] += "M\(number(x0)) \(number(y0))H\(number(x1))V\(number(y1))H\(number(x0))Z"
                }
                if row.rx[series] > 0 {
                    let y0 = rxTop + upRx / rxMax * pane
                    upRx += row.rx[series]
                    let y1 = max(rxTop + upRx / rxMax * pane, y0 + 0.6)
                    rxPaths[series] += "M\(number(x0)) \(number(y0))H\(number(x1))V\(number(y1))H\(number(x0))Z"
                }
            }
        }
        for series in 0..<seriesCount {
            for path in [txPaths[series], rxPaths[series]] where !path.isEmpty {
                svg += "<path fill=\"\(colour(series, of: data))\" d=\"\(path)\"/>\n"
            }
        }
        svg += "</g>\n<g fill=\"#5d6677\">\n" + values
        svg += "<text x=\"\(number(left + 4))\" y=\"\(number(top - 10))\" font-weight=\"600\" fill=\"#1d2330\" font-size=\"12\">▲ Sent (tx)</text>\n"
        svg += "<text x=\"\(number(left + plotWidth))\" y=\"\(number(top - 10))\" text-anchor=\"end\" fill=\"#1d2330\" font-size=\"12\">"
            + "SockStatLog · \(utcText(data.first)) – \(utcText(data.last)) UTC · bytes/s per \(level.width / 1_000 >= 60 ? "\(level.width / 60_000) min" : "\(level.width / 1_000) s")</text>\n"
        svg += "<text x=\"\(number(left + 4))\" y=\"\(number(paneBottom - 4))\" font-weight=\"600\" fill=\"#1d2330\" font-size=\"12\">▼ Received (rx)</text>\n"
        svg += "<line x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(txBase + 0.5))\" y2=\"\(number(txBase + 0.5))\" stroke=\"#8d939e\"/>"
        svg += "<line x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(rxTop - 0.5))\" y2=\"\(number(rxTop - 0.5))\" stroke=\"#8d939e\"/>\n"
        let steps: [Double] = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 2592e6, 31536e6]
        // Past years, tenfold steps: a hostile range of 10^11 years gets a dozen ticks too.
        var step = steps.first { $0 / span * plotWidth >= 110 } ?? steps[steps.count - 1]
        while step / span * plotWidth < 110 { step *= 10 }
        var tick = (viewStart / step).rounded(.up) * step
        var previousDay = ""
        while tick <= viewStart + span {
            defer { tick += step }
            guard let milliseconds = Int64(exactly: tick.rounded()) else { continue }
            let text = utcText(milliseconds)
            let day = String(text.prefix(10))
            svg += "<line x1=\"\(number(x(tick)))\" x2=\"\(number(x(tick)))\" y1=\"\(number(txBase))\" y2=\"\(number(txBase + 4))\" stroke=\"#8d939e\"/>"
            let clock = step < 60_000 ? String(text.dropFirst(11)) : String(text.dropFirst(11).prefix(5))
            svg += "<text x=\"\(number(x(tick)))\" y=\"\(number(paneBottom + 16))\" text-anchor=\"middle\">\(step >= 86_400_000 ? day : clock)</text>"
            if day != previousDay, step < 86_400_000 {
                svg += "<text x=\"\(number(x(tick)))\" y=\"\(number(paneBottom + 30))\" text-anchor=\"middle\">\(day) UTC</text>"
                previousDay = day
            }
            svg += "\n"
        }
        svg += "<rect x=\"\(number(left - 0.5))\" y=\"\(number(top - 0.5))\" width=\"\(number(plotWidth + 1))\" height=\"\(number(paneBottom - top + 1))\" fill=\"none\" stroke=\"#d9dde5\"/>\n"
        // Legend: five keys a row, then cellular and gaps.
        let keys = names.enumerated().map { (colour($0.offset, of: data), $0.element) } + [("#fdebd9", "cellular"), ("url(#gap)", "gap (no events)")]
        let columnWidth = plotWidth / 5
        for (index, key) in keys.enumerated() {
            let kx = left + Double(index % 5) * columnWidth, ky = paneBottom + 46 + Double(index / 5) * 18
            svg += "<rect x=\"\(number(kx))\" y=\"\(number(ky - 9))\" width=\"11\" height=\"11\" rx=\"2\" fill=\"\(key.0)\"/>"
            // Cut to what a legend column holds; the full text in a tooltip.
            let text = key.1.count > 28 ? String(key.1.prefix(27)) + "…" : key.1
            svg += "<text x=\"\(number(kx + 16))\" y=\"\(number(ky))\" fill=\"#1d2330\" font-size=\"12\"><title>\(PageText.markup(key.1))</title>\(PageText.markup(text))</text>\n"
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    /// A step for about four gridlines below `maximum`: 1, 2, 2.5 or 5 times a
    /// power of ten of a binary unit.
    static func byteStep(_ maximum: Double) -> Double {
        guard maximum > 0 else { return 1 }
        var unit = 1.0
        while maximum / unit >= 1024, unit < 1_180_591_620_717_411_303_424 { unit *= 1024 }
        let raw = maximum / unit / 4
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let mantissa = raw / power
        // Whole bytes at least: no "0 B/s" gridlines.
        return max(1, (mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 2.5 ? 2.5 : mantissa <= 5 ? 5 : 10) * power * unit)
    }

    /// "12.5 KiB/s".
    static func humanRate(_ bytesPerSecond: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
        var value = bytesPerSecond, unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        let tenths = (value * 10).rounded() / 10
        let text = unit == 0 || tenths >= 100 ? String(Int(value.rounded())) : tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
        return text + " " + units[unit] + "/s"
    }

    /// "2025-11-28 00:02:21" (UTC) for Unix milliseconds.
    static func utcText(_ milliseconds: Int64) -> String {
        let seconds = floorDivide(milliseconds, 1_000)
        let days = floorDivide(seconds, 86_400), inDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))"
    }
}
