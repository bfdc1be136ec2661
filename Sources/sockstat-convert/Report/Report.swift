import ArgumentParser
import SockStatAnalysis
import SockStatFormat
import SockStatStore
import SystemPackage

/// `sockstat-convert report`: one self-contained HTML page to look through a log.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML report: rates over time per label, totals, largest bursts.",
        discussion: """
            The page is one file that opens offline (inline SVG and a small script of its own; \
            no network access). It charts sent and received bytes/s per label, stacked, with \
            cellular periods shaded and gaps (no events, a phone asleep) left empty; zoom with \
            the mouse wheel, +/- or the buttons, pan by dragging or with the arrow keys, from the \
            whole range down to 1 s sums anywhere and the recorded 100 ms events in windows of \
            up to ten minutes. Below: the totals per label (as summary gives them) and the ten \
            busiest seconds.

            Size: the page aims at 4 MB (--max-size), and never passes 8 MB. Always in: the \
            totals, bursts, cellular periods, gaps and the coarsest sums (at most 2,000 \
            buckets over the whole range). Then, while they fit: the finer sums (10 s, 1 min, \
            10 min, 1 h, …), coarse to fine; per 10-minute chunk its 1 s sums, busiest chunk \
            first; then its 100 ms events in place of the sums, busiest first. A rollup tier's events \
            (1 min, 1 h) are drawn over their windows, and the footer says which resolution each \
            period has. Where detail was \
            left out the page draws the finest sums it has and says so in the range readout \
            and the strip under the chart. One day of a phone at 10 Hz keeps its 1 s sums \
            everywhere and the 100 ms events of its busiest chunks.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the HTML page to FILE.", valueName: "FILE.html"))
    var output: String

    @Option(help: ArgumentHelp("Also write the overview chart alone to FILE, a standalone SVG.", valueName: "FILE"))
    var svg: String?

    @Option(help: ArgumentHelp("Bytes the page aims at, 100000 to 8000000.", valueName: "BYTES"))
    var maxSize = ReportPage.budget

    @Option(name: .customLong("label-names"), help: ArgumentHelp(
        "Show names beside labels, as summary does: the preset tailscale, or a FILE of LABEL<TAB>NAME lines.",
        valueName: "PRESET|FILE"))
    var labelNames: String?

    @Option(help: ArgumentHelp("A stretch with no events longer than this many seconds is a gap (as in summary).", valueName: "SECONDS"))
    var gap = 60

    @OptionGroup var input: InputOptions

    func validate() throws {
        guard gap > 0, gap <= Int(Int64.max / 1000) else { throw ValidationError("--gap \(gap): give a number of seconds above 0") }
        guard (100_000...ReportPage.ceiling).contains(maxSize) else {
            throw ValidationError("--max-size must be between 100000 and \(ReportPage.ceiling) bytes")
        }
    }

    func run() throws {
        let names = try Summary.names(labelNames)
        let inputs = try SegmentReading.inputs(for: input.paths)
        // Both outputs are created before reading, so a bad path costs no read.
        let page = try create(output)
        let overview = try svg.map(create)
        let options = SummaryOptions(gapThreshold: Int64(gap) * 1000, longestGapsKept: ReportData.maximumIntervals)
        var collector = SegmentCollector(writer: ReportCollector(summary: options), range: input.range,
                                         stopsAtFirstLoss: input.strict)
        // Counted as summary counts it: damaged regions, refused, unreadable and duplicate files.
        var damage = 0
        // The collector's writer keeps everything; nothing is streamed out.
        let unused = OutputBuffer(capacity: 0) { _ in }
        let finished = try SegmentReading.read(inputs, with: &collector, to: unused) { note in
            if note.losesEvents { damage += 1 }
        }

        let collected = collector.decoder.writer
        let figures = collected.summary.summary.figures
        let data = ReportData(from: collected, gaps: figures.gaps.longest.map { ($0.start, $0.end) })
        let members = Self.members(collected, data, figures: figures, names: names, damage: damage)
        try write(ReportPage.html(data, fields: members, budget: maxSize).page, to: page, named: output)
        if let overview, let svg {
            let legend = data.series.map { series in
                guard series.labels.count == 1 else { return "\(series.labels.count) other labels" }
                let label = collected.labels[series.labels[0]]
                let text = label.isEmpty ? "(empty label)" : PageText.displayText(label)
                return names?.name(for: Label(bytes: label)).map { "\($0) (\(text))" } ?? text
            }
            try write(Array(OverviewSVG.render(data, names: legend).utf8), to: overview, named: svg)
        }
        try SegmentReading.exit(after: collector, finished: finished)
    }

    /// The page's data members besides levels and chunks: the summary's
    /// totals and footer, damage, the series' labels and the bursts.
    private static func members(_ collected: ReportCollector, _ data: ReportData, figures: SummaryFigures,
                                names: LabelNames?, damage: Int) -> [String] {
        let shownLabels = data.series.flatMap { $0.labels.count == 1 ? [collected.labels[$0.labels[0]]] : [] }
            + data.bursts.flatMap { $0.labels.map { collected.labels[$0.label] } }
        return TotalsTable.members(figures, names: names, alsoNamed: shownLabels) + [
            "\"damage\":\(damage)",
            "\"labelCount\":\(collected.labels.count)",
            "\"seriesNames\":[" + data.series.map { series in
                series.labels.count == 1 ? PageText.jsonString(collected.labels[series.labels[0]])
                    : PageText.jsonString("\(series.labels.count) other labels")
            }.joined(separator: ",") + "]",
            "\"bursts\":[" + data.bursts.map { burst in
                "{\"t\":\(Int128(burst.second) * 1_000),\"tx\":\"\(burst.tx)\",\"rx\":\"\(burst.rx)\",\"labels\":["
                    + burst.labels.map { "{\"label\":" + PageText.jsonString(collected.labels[$0.label]) + ",\"tx\":\"\($0.tx)\",\"rx\":\"\($0.rx)\"}" }
                        .joined(separator: ",") + "]}"
            }.joined(separator: ",") + "]",
        ]
    }

    /// A new file at `path`, empty.
    ///
    /// - Throws: `Exit.cannotCreate` (73), after a line on stderr.
    private func create(_ path: String) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .truncate],
                                           permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            Diagnostics.report("\(path): cannot create: \(error)")
            throw Exit.cannotCreate
        }
    }

    /// Writes `bytes` to `file` and closes it.
    ///
    /// - Throws: `Exit.ioError` (74), after a line on stderr.
    private func write(_ bytes: [UInt8], to file: FileDescriptor, named path: String) throws {
        do {
            try file.closeAfter { _ = try file.writeAll(bytes) }
        } catch {
            Diagnostics.report("\(path): write failed: \(error)")
            throw Exit.ioError
        }
    }
}
