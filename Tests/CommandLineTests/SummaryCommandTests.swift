import Foundation
import Testing

/// `sockstat-convert summary` end to end, its totals checked against sums
/// made here from the JSON lines themselves.
struct SummaryCommandTests {
    /// Per label [tx, rx, cellular tx, cellular rx] and the event count,
    /// read from canonical JSON lines by Foundation's parser.
    static func totals(ofLines data: Data) throws -> (labels: [String: [UInt64]], events: Int) {
        var labels: [String: [UInt64]] = [:]
        var events = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            events += 1
            let cellular = (object["c"] as? Int) == 1
            for (label, pair) in try #require(object["s"] as? [String: [UInt64]]) {
                var sums = labels[label, default: [0, 0, 0, 0]]
                sums[0] += pair[0]
                sums[1] += pair[1]
                if cellular { sums[2] += pair[0]; sums[3] += pair[1] }
                labels[label] = sums
            }
        }
        return (labels, events)
    }

    /// `labels` of a `summary --json` object as [tx, rx, cellular tx, cellular rx].
    static func totals(ofSummary labels: Any?) throws -> [String: [UInt64]] {
        let object = try #require(labels as? [String: [String: Any]])
        return try object.mapValues { member in
            try ["tx", "rx", "cellular_tx", "cellular_rx"].map { try #require(member[$0] as? UInt64) }
        }
    }

    static func summaryObject(_ run: ToolRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    }

    /// A directory of several segments of the reference workload; removed by the caller.
    static func workloadDirectory() throws -> (directory: URL, logs: URL, lines: Data) {
        let lines = try ConvertCommandTests.workloadLines()
        let directory = try Tool.temporaryDirectory()
        let logs = directory.appendingPathComponent("logs")
        let encode = try Tool.run(["encode", "-o", logs.path, "--max-segment-bytes", "8192"], stdin: lines)
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        return (directory, logs, lines)
    }

    @Test(arguments: ["total", "hour", "day", "week", "month"])
    func jsonTotalsEqualTheTotalsOfTheJSONLines(by: String) throws {
        let (directory, logs, lines) = try Self.workloadDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run(["summary", "--json", "--by", by, logs.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let object = try Self.summaryObject(run)
        let expected = try Self.totals(ofLines: lines)
        #expect(try Self.totals(ofSummary: object["labels"]) == expected.labels)
        #expect(object["events"] as? Int == expected.events)
        let buckets = try #require(object["buckets"] as? [[String: Any]])
        if by == "total" {
            #expect(buckets.isEmpty)
        } else {
            // The buckets add up to the whole, label by label.
            #expect(!buckets.isEmpty)
            var sums: [String: [UInt64]] = [:]
            for bucket in buckets {
                for (label, counts) in try Self.totals(ofSummary: bucket["labels"]) {
                    sums[label] = zip(sums[label, default: [0, 0, 0, 0]], counts).map { $0 + $1 }
                }
            }
            #expect(sums == expected.labels)
            #expect(buckets.map { $0["events"] as? Int ?? 0 }.reduce(0, +) == expected.events)
        }
    }

    @Test func damageIsSkippedReportedAndTheIntactBlocksStillCount() throws {
        let (directory, logs, lines) = try Self.workloadDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = try FileManager.default.contentsOfDirectory(atPath: logs.path).sorted()
        try #require(names.count >= 2)
        // A byte in the middle of the first segment: inside one block's stored bytes.
        let victim = logs.appendingPathComponent(names[0])
        var bytes = try Data(contentsOf: victim)
        bytes[bytes.count / 2] ^= 0x5A
        try bytes.write(to: victim)

        let run = try Tool.run(["summary", "--json", logs.path])
        #expect(run.exitCode == 1)
        #expect(run.stderrText.contains(names[0]) && run.stderrText.contains("offset"), "\(run.stderrText)")
        let object = try Self.summaryObject(run)
        #expect((object["damage_skipped"] as? Int ?? 0) >= 1)
        // What decode still reads from the damaged directory is what summary counted.
        let decode = try Tool.run([logs.path])
        #expect(decode.exitCode == 1)
        let intact = try Self.totals(ofLines: decode.stdout)
        #expect(try Self.totals(ofSummary: object["labels"]) == intact.labels)
        #expect(object["events"] as? Int == intact.events)
        #expect(intact.events < (try Self.totals(ofLines: lines)).events)

        let text = try Tool.run(["summary", logs.path])
        #expect(text.exitCode == 1)
        #expect(String(decoding: text.stdout, as: UTF8.self).contains("damage skipped  \(object["damage_skipped"] as? Int ?? -1) "))
        // --strict stops at the damage: exit 2, still a summary of what was read.
        let strict = try Tool.run(["summary", "--strict", logs.path])
        #expect(strict.exitCode == 2)
        #expect(!strict.stdout.isEmpty)
    }

    @Test(arguments: [
        (["--by", "fortnight"], "--by 'fortnight'"),
        (["--utc-offset", "+25:00"], "--utc-offset '+25:00'"),
        (["--utc-offset", "01:00"], "--utc-offset '01:00'"),
        (["--gap", "0"], "--gap 0"),
        (["--gap", "-5"], "--gap -5"),
        (["--label-names", "/nonexistent/names.tsv"], "/nonexistent/names.tsv"),
        (["--since", "yesterday"], "--since 'yesterday'"),
        (["--since", "2026-11-29", "--until", "2026-11-28"], "--since '2026-11-29' is after --until '2026-11-28'"),
    ])
    func badArgumentsExit64WithALineSayingWhy(arguments: [String], named: String) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Tool.run(["summary"] + arguments + [directory.path])
        #expect(run.exitCode == 64)
        let first = run.stderrText.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(named), "\(run.stderrText)")
        #expect(run.stdout.isEmpty)
    }

    @Test func aMalformedLabelNamesFileNamesTheFileAndLine() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("names.tsv")
        try Data("# names\n8\tMagicsock\nno tab here\n".utf8).write(to: file)
        let run = try Tool.run(["summary", "--label-names", file.path, directory.path])
        #expect(run.exitCode == 64)
        #expect(run.stderrText == "sockstat-convert: --label-names \(file.path): line 3: expected LABEL<TAB>NAME, found no TAB\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func anIdleHostSaysNoTrafficWasRecorded() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try Tool.run(["summary", directory.path])
        #expect(text.exitCode == 0)
        #expect(String(decoding: text.stdout, as: UTF8.self) == "no traffic was recorded in \(directory.path)\n")
        let json = try Tool.run(["summary", "--json", directory.path])
        #expect(json.exitCode == 0)
        let object = try Self.summaryObject(json)
        #expect((object["labels"] as? [String: Any])?.isEmpty == true)
        #expect(object["events"] as? Int == 0)
        #expect(object["no_traffic"] as? Bool == true)
        // Events of zero bytes only: still no traffic, but the footer says what was seen.
        let logs = directory.appendingPathComponent("logs")
        let lines = Data((#"{"t":1764288339865,"d":100,"s":{}}"# + "\n" + #"{"t":1764288339965,"d":100,"s":{"8":[0,0]}}"# + "\n").utf8)
        #expect(try Tool.run(["encode", "-o", logs.path], stdin: lines).exitCode == 0)
        let zero = try Tool.run(["summary", logs.path])
        #expect(zero.exitCode == 0)
        let output = String(decoding: zero.stdout, as: UTF8.self)
        #expect(output.hasPrefix("no traffic was recorded in \(logs.path) (2 events, all of 0 bytes)\n"), "\(output)")
        #expect(output.contains("events          2"))
        // A window with nothing in it names the window.
        let window = try Tool.run(["summary", "--since", "2026-01-01", logs.path])
        #expect(window.exitCode == 0)
        #expect(String(decoding: window.stdout, as: UTF8.self)
            == "no traffic was recorded in \(logs.path) since 2026-01-01T00:00:00Z\n")
    }

    @Test func namesChangeTheDisplayNeverTheKeysOrData() throws {
        let (directory, logs, _) = try Self.workloadDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = try Tool.run(["summary", "--json", "--by", "hour", logs.path])
        let namedRun = try Tool.run(["summary", "--json", "--by", "hour", "--label-names", "tailscale", logs.path])
        #expect(namedRun.exitCode == 0)
        let labels = try #require(try Self.summaryObject(namedRun)["labels"] as? [String: [String: Any]])
        #expect(labels["8"]?["name"] as? String == "MagicsockConnUDP4")
        // Without its "name" members, the object is the same, byte for byte.
        let named = String(decoding: namedRun.stdout, as: UTF8.self)
        let stripped = named.replacing(#/"name":"[A-Za-z0-9]+",/#, with: "")
        #expect(stripped != named)
        #expect(stripped == String(decoding: plain.stdout, as: UTF8.self))
        let text = String(decoding: try Tool.run(["summary", "--label-names", "tailscale", logs.path]).stdout, as: UTF8.self)
        #expect(text.contains("MagicsockConnUDP4"))
    }

    /// Counters near 2^64: the totals pass 2^64−1 and are printed exactly.
    @Test func totalsPast64BitsArePrintedExactly() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let big = UInt64.max
        let lines = (0..<3).map { #"{"t":\#(1764288339865 + $0 * 100),"d":100,"s":{"x":[\#(big),1]}}"# }.joined(separator: "\n") + "\n"
        #expect(try Tool.run(["encode", "-o", logs.path], stdin: Data(lines.utf8)).exitCode == 0)
        let expected = String(UInt128(big) * 3)
        let json = String(decoding: try Tool.run(["summary", "--json", logs.path]).stdout, as: UTF8.self)
        #expect(json.contains(#""x":{"tx":\#(expected),"rx":3,"#), "\(json)")
        let text = try Tool.run(["summary", "--bytes", logs.path])
        #expect(text.exitCode == 0)
        #expect(String(decoding: text.stdout, as: UTF8.self).contains(expected))
    }

    /// Control characters and invalid UTF-8 in labels are escaped, never printed raw.
    @Test func labelsArePrintedSafely() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let lines = #"{"t":1764288339865,"d":100,"s":{"\u001b[2J":[5,5],"ok":[1,1]}}"# + "\n"
        #expect(try Tool.run(["encode", "-o", logs.path], stdin: Data(lines.utf8)).exitCode == 0)
        let run = try Tool.run(["summary", logs.path])
        #expect(run.exitCode == 0)
        #expect(!run.stdout.contains(0x1B))
        #expect(String(decoding: run.stdout, as: UTF8.self).contains(#"\u{001B}[2J"#))
        // In JSON the key is the label as canonical JSON escapes it.
        let json = try Self.summaryObject(try Tool.run(["summary", "--json", logs.path]))
        #expect(Set(try Self.totals(ofSummary: json["labels"]).keys) == ["\u{1B}[2J", "ok"])
    }

    /// Many labels in one hour, then one label an hour: each bucket once
    /// held a slot for every label seen so far (20,000 labels × 51 hours
    /// took over 300 MB more than --by total); it holds only its own.
    @Test func bucketsHoldOnlyTheLabelsTheySaw() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        let start: Int64 = 1_764_288_000_000
        var lines = ""
        for event in 0..<20 {
            let counts = (0..<1000).map { #""L\#(event)-\#($0)":[1,1]"# }.joined(separator: ",")
            lines += #"{"t":\#(start + Int64(event) * 100),"d":100,"s":{\#(counts)}}"# + "\n"
        }
        for hour in 1...50 { lines += #"{"t":\#(start + Int64(hour) * 3_600_000),"d":100,"s":{"a":[1,1]}}"# + "\n" }
        #expect(try Tool.run(["encode", "-o", logs.path], stdin: Data(lines.utf8)).exitCode == 0)
        let total = try convertPeakMemory(["summary", logs.path])
        let hourly = try convertPeakMemory(["summary", "--by", "hour", logs.path])
        #expect(total.status == 0 && hourly.status == 0)
        #expect(hourly.peakKiB < total.peakKiB + 32 * 1024, "--by hour \(hourly.peakKiB) KiB, --by total \(total.peakKiB) KiB")
        let json = try Self.summaryObject(try Tool.run(["summary", "--json", "--by", "hour", logs.path]))
        let buckets = try #require(json["buckets"] as? [[String: Any]])
        #expect(buckets.count == 51)
        #expect(buckets.map { ($0["labels"] as? [String: Any])?.count } == [20_000] + Array(repeating: 1, count: 50))
    }

    /// Each label keeps three rate histograms; one that saw a single window
    /// took a dense group of 128 counters in each (20,000 such labels: over
    /// 60 MB). A few windows are kept sparse, so the summary costs little
    /// more than decoding the same segments.
    @Test func labelsSeenInFewWindowsCostLittleMemory() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs")
        var lines = ""
        for event in 0..<20 {
            let counts = (0..<1000).map { #""L\#(event)-\#($0)":[\#($0 + 1),\#($0 * 7)]"# }.joined(separator: ",")
            lines += #"{"t":\#(1_764_288_000_000 + Int64(event) * 1000),"d":100,"s":{\#(counts)}}"# + "\n"
        }
        #expect(try Tool.run(["encode", "-o", logs.path], stdin: Data(lines.utf8)).exitCode == 0)
        let decode = try convertPeakMemory([logs.path])
        let summary = try convertPeakMemory(["summary", logs.path])
        #expect(decode.status == 0 && summary.status == 0)
        // About 1.7 KiB a label (debug build); a dense histogram per label,
        // as before RateDistribution started compact, took about 3 KiB.
        #expect(summary.peakKiB < decode.peakKiB + 20_000 * 2, "summary \(summary.peakKiB) KiB, decode \(decode.peakKiB) KiB")
    }
}
