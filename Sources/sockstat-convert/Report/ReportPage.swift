import SockStatFormat

/// The report page: the template with its data, bounded in size.
///
/// The data is one JSON object in a `<script type="application/json">`
/// element. Zoom levels and chunks are varint columns, raw-DEFLATE
/// compressed (our `Deflater`; the page inflates them with the browser's
/// `DecompressionStream`) and base64'd. What always goes in: the totals,
/// bursts, cellular periods, gaps and the coarsest level. Then, while the
/// page stays within its budget: the finer levels, coarse to fine; each
/// chunk's 1 s sums, busiest chunk first; then each chunk's 100 ms events
/// in place of its sums, busiest first. The page shows where detail was
/// left out.
enum ReportPage {
    /// The bytes a page aims at: one day of the reference workload (a phone
    /// at 10 Hz) keeps its 100 ms events in most of its busy chunks within it.
    /// What always goes in is bounded (the coarsest level by
    /// `ReportData.coarsestBuckets`, intervals by `maximumIntervals`, the
    /// table by `TotalsTable.maximumRows`), so that no page passes 8 MB.
    static let budget = 4_000_000
    /// The most bytes a page may take, whatever the input and `--max-size`.
    static let ceiling = 8_000_000

    /// What the page kept, for the caller to say.
    struct Detail {
        var rawChunks = 0
        var secondChunks = 0
        var bareChunks = 0
        var levelWidths: [Int64] = []
        var droppedLevels = 0
        var pageBytes = 0
    }

    /// The whole page.
    ///
    /// - Parameters:
    ///   - data: levels, chunks, intervals and bursts.
    ///   - fields: further members of the data object, each `"name":value`
    ///     JSON text (totals, names, notes), already escaped.
    static func html(_ data: ReportData, fields: [String], budget: Int = budget) -> (page: [UInt8], detail: Detail) {
        let deflater = Deflater()
        func packed(_ bytes: [UInt8]) -> String {
            var out: [UInt8] = []
            bytes.withUnsafeBytes { deflater.compress($0, appendingTo: &out) }
            return PageText.base64(out)
        }
        var detail = Detail()
        var members = fields
        members.append("\"first\":\(data.first)")
        members.append("\"last\":\(data.last)")
        members.append("\"chunkWidth\":\(ReportCollector.chunkMilliseconds)")
        members.append("\"series\":[" + data.series.map { series in
            "{\"labels\":[" + series.labels.map(String.init).joined(separator: ",") + "],\"bytes\":\"\(series.bytes)\"}"
        }.joined(separator: ",") + "]")
        // Chunks number labels as first met: the page draws label n as series seriesOfLabel[n].
        var seriesOfLabel = ColumnWriter()
        seriesOfLabel.append(data.seriesOfLabel.count)
        for series in data.seriesOfLabel { seriesOfLabel.append(series) }
        members.append("\"seriesOfLabel\":\"" + packed(seriesOfLabel.bytes) + "\"")
        members.append("\"cellular\":\"" + packed(intervalColumns(data.cellular, from: data.first)) + "\"")
        members.append("\"cellularMerged\":\(data.cellularMerged)")
        members.append("\"gaps\":\"" + packed(intervalColumns(data.gaps, from: data.first)) + "\"")

        // Levels, coarsest first: it always goes in.
        func levelText(width: Int64, origin: Int64, columns: [UInt8]) -> (width: Int64, text: String) {
            (width, "{\"width\":\(width),\"origin\":\(origin),\"data\":\"" + packed(columns) + "\"}")
        }
        let levels = data.levels.reversed().map { level in
            levelText(width: level.width, origin: floorDivide(data.first, level.width), columns: level.encoded(from: floorDivide(data.first, level.width)))
        } + [levelText(width: data.finest.width, origin: data.finest.origin, columns: data.finest.encoded())]
        // Chunks come DEFLATE'd; only those kept are base64'd, into the page itself.
        let chunks = data.chunks
        let busiestFirst = chunks.indices.sorted { (chunks[$0].bytes, chunks[$1].chunk) > (chunks[$1].bytes, chunks[$0].chunk) }

        let (head, tail) = ReportTemplate.parts
        // What always goes in: the template, the members so far and those
        // added below (at most 256 bytes besides the levels and chunks), the
        // coarsest level. A chunk that keeps nothing is not listed: the page
        // draws the levels there.
        func bare(_ chunk: ReportData.ChunkDetail) -> String { "{\"chunk\":\(chunk.chunk)" }
        var used = head.utf8.count + tail.utf8.count + members.reduce(0) { $0 + $1.utf8.count + 1 } + 256
            + levels[0].text.utf8.count
        var keptLevels = [levels[0].text]
        detail.levelWidths = [levels[0].width]
        for level in levels.dropFirst() {
            guard used + level.text.utf8.count + 1 <= budget else { detail.droppedLevels += 1; continue }
            used += level.text.utf8.count + 1
            keptLevels.append(level.text)
            detail.levelWidths.append(level.width)
        }
        // Per chunk: 0 nothing, 1 its 1 s sums, 2 its events.
        var kept = Array(repeating: 0, count: chunks.count)
        // An entry, `{"chunk":N,"seconds":"…"}` or `…"raw":"…"}`, and a comma.
        let sumsCost = { (index: Int) in bare(chunks[index]).utf8.count + PageText.base64Count(chunks[index].seconds.count) + 15 }
        let rawCost = { (index: Int) in bare(chunks[index]).utf8.count + PageText.base64Count(chunks[index].raw.count) + 11 }
        for index in busiestFirst where used + sumsCost(index) <= budget {
            used += sumsCost(index)
            kept[index] = 1
        }
        for index in busiestFirst where kept[index] == 1 && used - sumsCost(index) + rawCost(index) <= budget {
            used += rawCost(index) - sumsCost(index)
            kept[index] = 2
        }
        members.append("\"levels\":[" + keptLevels.joined(separator: ",") + "]")
        for index in chunks.indices {
            switch kept[index] {
            case 2: detail.rawChunks += 1
            case 1: detail.secondChunks += 1
            default: detail.bareChunks += 1
            }
        }
        members.append("\"budget\":\(budget)")
        members.append("\"detail\":{\"rawChunks\":\(detail.rawChunks),\"secondChunks\":\(detail.secondChunks),\"bareChunks\":\(detail.bareChunks),\"droppedLevels\":\(detail.droppedLevels)}")

        var page: [UInt8] = []
        page.reserveCapacity(used + 1024)
        page.append(contentsOf: head.utf8)
        page.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { page.append(UInt8(ascii: ",")) }
            page.append(contentsOf: member.utf8)
        }
        // The chunks, last: written straight into the page.
        page.append(contentsOf: ",\"chunks\":[".utf8)
        var separator = ""
        for index in chunks.indices where kept[index] > 0 {
            page.append(contentsOf: (separator + bare(chunks[index]) + (kept[index] == 2 ? ",\"raw\":\"" : ",\"seconds\":\"")).utf8)
            PageText.appendBase64(kept[index] == 2 ? chunks[index].raw : chunks[index].seconds, to: &page)
            page.append(contentsOf: "\"}".utf8)
            separator = ","
        }
        page.append(contentsOf: "]}".utf8)
        page.append(contentsOf: tail.utf8)
        detail.pageBytes = page.count
        return (page, detail)
    }

    /// Columns: count; each interval's start as a delta from the end of the
    /// one before (the first from `origin`), zigzag; each length.
    static func intervalColumns(_ intervals: [(start: Int64, end: Int64)], from origin: Int64) -> [UInt8] {
        var starts = ColumnWriter(), lengths = ColumnWriter()
        var previous = origin
        for interval in intervals {
            starts.append(signed: Int128(interval.start) - Int128(previous))
            lengths.append(UInt128(Int128(interval.end) - Int128(interval.start)))
            previous = interval.end
        }
        var out = ColumnWriter()
        out.append(intervals.count)
        out.append(starts)
        out.append(lengths)
        return out.bytes
    }
}
