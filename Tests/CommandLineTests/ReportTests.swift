import Foundation
import SockStatFormat
import SockStatStore
import TestSupport
import Testing

/// Headless Chromium and Selenium, for the tests that open a report page.
enum Browser {
    /// In CI (`CI=true`) a missing browser fails the browser tests instead of skipping them.
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    static let isAvailable: Bool = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        func onPath(_ name: String) -> Bool {
            path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
        guard onPath("chromium") || onPath("chromium-browser"), onPath("chromedriver") else { return false }
        return (try? python(["-c", "import selenium"]))?.exitCode == 0
    }()

    /// Runs the `python3` on PATH (where pip put selenium).
    static func python(_ arguments: [String]) throws -> ToolRun {
        try Tool.run(["python3"] + arguments, executable: URL(fileURLWithPath: "/usr/bin/env"))
    }

    static let script = Tool.root.appendingPathComponent("Tests/Browser/check_report.py")

    /// Runs check_report.py on `page` against `expected` (a `summary --json` object).
    static func check(_ page: URL, expected: URL, screenshots: URL) throws -> ToolRun {
        try python([script.path, "--report", page.path, "--expected", expected.path, "--screenshots", screenshots.path])
    }
}

/// Logs for report tests, written through the recorder's own segment writer.
enum ReportLogs {
    /// A phone-like log: `hours` at 10 Hz, bursts on a few labels, keepalives,
    /// cellular switches and sleep gaps of minutes.
    @discardableResult
    static func phone(hours: Double, seed: UInt64, in directory: URL) throws -> [Event] {
        var events: [Event] = []
        let writer = try SegmentLogWriter(directory: directory.path, options: SegmentLogOptions())
        var random = TestRandom(seed: seed)
        func chance(_ probability: Double) -> Bool { Double(random.next() % 1_000_000) < probability * 1_000_000 }
        func below(_ bound: UInt64) -> UInt64 { random.next() % bound }
        var time: Int64 = 1_764_288_000_000 + Int64(below(1_000_000))
        var cellular = false
        var burstLeft = 0, burstRate: UInt64 = 0
        for tick in 0..<Int(hours * 36_000) {
            var counts: [String: (UInt64, UInt64)] = [:]
            func add(_ label: String, _ tx: UInt64, _ rx: UInt64) {
                counts[label, default: (0, 0)].0 += tx
                counts[label, default: (0, 0)].1 += rx
            }
            if chance(0.04) { add("8", 148, 148) }
            if chance(0.02) { add("9", 148, 148) }
            if burstLeft == 0, chance(0.002) { burstLeft = 50 + Int(below(2_000)); burstRate = [2_000, 20_000, 150_000, 900_000][Int(below(4))] }
            if burstLeft > 0 {
                burstLeft -= 1
                let rx = burstRate / 5 + below(burstRate * 8 / 5)
                add(chance(0.8) ? "8" : "9", rx / 10 + below(rx / 5 + 1), rx)
                if chance(0.1) { add("2", rx / 30, rx / 3) }
            }
            if tick % 600 == 17 { add("2", 5, 5) }
            if chance(1.0 / 80) { add(["4", "5", "12"][Int(below(3))], 40 + below(30), 60 + below(340)) }
            if tick % 250 == 3 { add("6", 60 + below(120), 32 + below(200)) }
            if chance(1.0 / 1_800) { add("3", 2_000 + below(38_000), 200 + below(400)) }
            if chance(1.0 / 4_000) { cellular.toggle() }
            let duration: Int64 = 100 + Int64(below(3)) - 1
            if !counts.isEmpty {
                let sorted = counts.map { LabelCounts(label: Label($0.key), tx: $0.value.0, rx: $0.value.1) }.sorted { $0.label < $1.label }
                events.append(Event(time: time, duration: duration, isCellular: cellular, counts: sorted))
                try writer.append(events[events.count - 1])
            }
            time += duration
            if chance(1.0 / 5_000) { time += 5_000 + Int64(below(600_000)) }
        }
        try writer.close()
        return events
    }

    /// Labels a page must not trust: markup, quotes, a line separator,
    /// invalid UTF-8, the empty label, one of the longest allowed; counters
    /// near 2^64 so that totals pass 2^64; 27 minutes, long enough for a
    /// 20-minute window of 1 s sums.
    static let hostileLabels: [[UInt8]] = [
        Array("</script><script>document.title='pwned'</script>".utf8),
        Array("a\"b'c&d<e>f\u{2028}g\\h\u{1}\u{FFFF}".utf8),
        [0x61, 0xFF, 0xFE, 0x62, 0xC0, 0x80],
        [],
        Array(repeating: UInt8(ascii: "x"), count: FormatLimits.maxLabelBytes - 3) + Array("]]>".utf8),
        Array("8".utf8),
    ]

    static func hostile(in directory: URL) throws {
        let writer = try SegmentLogWriter(directory: directory.path, options: SegmentLogOptions())
        var random = TestRandom(seed: 14)
        for index in 0..<4_000 {
            let counts = hostileLabels.enumerated().compactMap { position, bytes -> LabelCounts? in
                guard (index + position) % 3 != 0 else { return nil }
                let huge = position == 2 && index % 50 == 0
                return LabelCounts(label: Label(bytes: bytes), tx: huge ? UInt64.max - random.next() % 1000 : random.next() % 50_000,
                                   rx: random.next() % 200_000)
            }.sorted { $0.label < $1.label }
            try writer.append(Event(time: 1_764_288_000_000 + Int64(index) * 400, duration: 100, isCellular: index % 700 < 200, counts: counts))
        }
        try writer.close()
    }
}

@Suite struct ReportTests {
    /// The page's data object, read back from the HTML.
    static func pageData(_ page: URL) throws -> [String: Any] {
        let html = try String(decoding: Data(contentsOf: page), as: UTF8.self)
        let start = try #require(html.range(of: #"<script type="application/json" id="report-data">"#))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try #require(JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
    }

    @Test(.enabled(if: Browser.isAvailable || Browser.required, "needs chromium, chromedriver and selenium"))
    func pageOpensOfflineZoomsToEventsAndShowsTheSummarysTotals() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        try ReportLogs.phone(hours: 2, seed: 1, in: log)
        let page = directory.appendingPathComponent("report.html")
        let report = try Tool.run(["report", "-o", page.path, log.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        let summary = try Tool.run(["summary", "--json", log.path])
        #expect(summary.exitCode == 0, "\(summary.stderrText)")
        let expected = directory.appendingPathComponent("summary.json")
        try summary.stdout.write(to: expected)

        let check = try Browser.check(page, expected: expected, screenshots: directory.appendingPathComponent("shots"))
        #expect(check.exitCode == 0, "\(check.stderrText)")
        let measured = try #require(JSONSerialization.jsonObject(with: check.stdout) as? [String: Any])
        #expect(measured["labels_shown"] as? Int == (try Self.pageData(page)["labelCount"] as? Int))
    }

    @Test(.enabled(if: Browser.isAvailable || Browser.required, "needs chromium, chromedriver and selenium"))
    func hostileLabelsAreTextInThePageAndTheSVG() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        try ReportLogs.hostile(in: log)
        let page = directory.appendingPathComponent("report.html"), svg = directory.appendingPathComponent("overview.svg")
        let report = try Tool.run(["report", "-o", page.path, "--svg", svg.path, log.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        let html = try String(decoding: Data(contentsOf: page), as: UTF8.self)
        // Our two script elements only, and one closing tag each.
        #expect(html.components(separatedBy: "</script>").count == 3)
        let summary = try Tool.run(["summary", "--json", log.path])
        let expected = directory.appendingPathComponent("summary.json")
        try summary.stdout.write(to: expected)
        let check = try Browser.check(page, expected: expected, screenshots: directory.appendingPathComponent("shots"))
        #expect(check.exitCode == 0, "\(check.stderrText)")
        // The SVG is well-formed XML with the labels as text.
        let parse = try Browser.python(["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", svg.path])
        #expect(parse.exitCode == 0, "\(parse.stderrText)")
    }

    @Test func aWeekOfManyLabelsAndHugeCountersStaysUnderEightMegabytes() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        let writer = try SegmentLogWriter(directory: log.path, options: SegmentLogOptions())
        var random = TestRandom(seed: 7)
        // An event a minute for a week, each with 6 of 2,000 labels of up to
        // 200 bytes, counters near 2^64, the network switching every event.
        let labels = (0..<2_000).map { index in Label(bytes: Array("label-\(index)-".utf8) + (0..<(random.next() % 190)).map { _ in UInt8(0x41 + random.next() % 26) }) }
        for index in 0..<10_080 {
            var chosen: [Label: LabelCounts] = [:]
            for _ in 0..<6 {
                let label = labels[Int(random.next() % UInt64(labels.count))]
                chosen[label] = LabelCounts(label: label, tx: UInt64.max - random.next() % 1_000_000, rx: random.next())
            }
            try writer.append(Event(time: 1_764_288_000_000 + Int64(index) * 60_000, duration: 100 + Int64(random.next() % 900),
                                    isCellular: index % 2 == 0, counts: chosen.values.sorted { $0.label < $1.label }))
        }
        try writer.close()
        let page = directory.appendingPathComponent("report.html")
        let report = try Tool.run(["report", "-o", page.path, log.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        let size = try #require(FileManager.default.attributesOfItem(atPath: page.path)[.size] as? Int)
        #expect(size <= 8_000_000)
        #expect((try Self.pageData(page)["series"] as? [[String: Any]])?.count == 16)

        // A smaller page drops detail to fit, and says so.
        let small = try Tool.run(["report", "--max-size", "1000000", "-o", page.path, log.path])
        #expect(small.exitCode == 0, "\(small.stderrText)")
        let smallSize = try #require(FileManager.default.attributesOfItem(atPath: page.path)[.size] as? Int)
        #expect(smallSize <= 1_000_000)
        let detail = try #require(try Self.pageData(page)["detail"] as? [String: Int])
        #expect((detail["secondChunks"] ?? 0) + (detail["bareChunks"] ?? 0) > 0)
        #expect((detail["rawChunks"] ?? 0) > 0)
    }

    @Test func burstsAreTheBusiestSecondsAndTheColoursAddUpToEveryByte() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        let events = try ReportLogs.phone(hours: 0.5, seed: 5, in: log)
        let page = directory.appendingPathComponent("report.html")
        let report = try Tool.run(["report", "-o", page.path, log.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        let data = try Self.pageData(page)

        // Per second of t, from the events themselves.
        var seconds: [Int64: (tx: UInt64, rx: UInt64)] = [:]
        var all: UInt64 = 0
        for event in events {
            let second = event.time / 1_000 * 1_000
            for count in event.counts {
                seconds[second, default: (0, 0)].tx += count.tx
                seconds[second, default: (0, 0)].rx += count.rx
                all += count.tx + count.rx
            }
        }
        let busiest = seconds.sorted { ($0.value.tx + $0.value.rx, $1.key) > ($1.value.tx + $1.value.rx, $0.key) }.prefix(10)
        let bursts = try #require(data["bursts"] as? [[String: Any]])
        #expect(bursts.map { $0["t"] as? Int64 } == busiest.map(\.key))
        #expect(bursts.map { $0["tx"] as? String } == busiest.map { String($0.value.tx) })
        #expect(bursts.map { $0["rx"] as? String } == busiest.map { String($0.value.rx) })
        let series = try #require(data["series"] as? [[String: Any]])
        #expect(series.compactMap { ($0["bytes"] as? String).flatMap { UInt64($0) } }.reduce(0, +) == all)
    }

    /// Times and durations at the ends of Int64 (a hostile log): no trap, no
    /// endless axis, and with a browser the page still draws and zooms.
    @Test func timesAtTheEndsOfInt64NeitherTrapNorHang() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        let writer = try SegmentLogWriter(directory: log.path, options: SegmentLogOptions())
        let events = [
            Event(time: .min, duration: .max, counts: [LabelCounts(label: Label("a"), tx: .max, rx: 1)]),
            Event(time: .min + 1_000, duration: -5, isCellular: true, counts: [LabelCounts(label: Label("a"), tx: .max, rx: .max)]),
            Event(time: 0, duration: .min, counts: []),
            Event(time: .max, duration: .max, isCellular: true, counts: [LabelCounts(label: Label("b"), tx: 1, rx: 2)]),
        ]
        for event in events { try writer.append(event) }
        try writer.close()
        let page = directory.appendingPathComponent("report.html"), svg = directory.appendingPathComponent("overview.svg")
        let report = try Tool.run(["report", "-o", page.path, "--svg", svg.path, log.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        #expect(try Self.pageData(page)["events"] as? Int == events.count)
        let parse = try Browser.python(["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", svg.path])
        #expect(parse.exitCode == 0, "\(parse.stderrText)")
        guard Browser.isAvailable || Browser.required else { return }
        let summary = try Tool.run(["summary", "--json", log.path])
        let expected = directory.appendingPathComponent("summary.json")
        try summary.stdout.write(to: expected)
        let check = try Browser.check(page, expected: expected, screenshots: directory.appendingPathComponent("shots"))
        #expect(check.exitCode == 0, "\(check.stderrText)")
    }

    /// A chunk is finished as soon as the read moves past it; one met again
    /// (a second log with earlier times) is reopened, and the page holds what
    /// one log of all the events in time order gives.
    @Test func chunksMetAgainOutOfOrderGiveTheSamePage() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = TestRandom(seed: 11)
        // An hour at 2.5 Hz, every event with the same three labels (so that
        // labels are numbered alike however the events are split), cellular runs
        // that cross chunk boundaries.
        let start: Int64 = 1_764_288_000_000
        let events = (0..<9_000).map { index in
            Event(time: start + Int64(index) * 400, duration: 100, isCellular: index % 700 < 200,
                  counts: ["a", "b", "c"].map { LabelCounts(label: Label($0), tx: random.next() % 5_000, rx: random.next() % 90_000) })
        }
        // The first half of every ten-minute chunk in one log, the second half in another.
        let firstHalf = events.filter { ($0.time - start) % 600_000 < 300_000 }
        let secondHalf = events.filter { ($0.time - start) % 600_000 >= 300_000 }
        var logs: [URL] = []
        for (name, part) in [("all", events), ("first", firstHalf), ("second", secondHalf)] {
            let log = directory.appendingPathComponent(name)
            let writer = try SegmentLogWriter(directory: log.path, options: SegmentLogOptions())
            for event in part { try writer.append(event) }
            try writer.close()
            logs.append(log)
        }
        var pages: [[String: Any]] = []
        for paths in [[logs[0].path], [logs[1].path, logs[2].path]] {
            let page = directory.appendingPathComponent("report.html")
            let report = try Tool.run(["report", "--max-size", "8000000", "-o", page.path] + paths)
            #expect(report.exitCode == 0, "\(report.stderrText)")
            pages.append(try Self.pageData(page))
        }
        #expect(pages[1]["events"] as? Int == events.count)
        #expect((pages[0]["chunks"] as? [Any])?.count == 6)
        for key in ["first", "last", "chunks", "levels", "bursts", "series", "seriesOfLabel", "cellular"] {
            let (inOrder, split) = (pages[0][key], pages[1][key])
            #expect(inOrder != nil)
            #expect((inOrder as? NSObject)?.isEqual(split) == true, "\(key) differs")
        }
    }

    @Test func damageIsSkippedNamedAndCountedOnThePage() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        try ReportLogs.phone(hours: 0.2, seed: 3, in: log)
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: log.path).filter { $0.hasSuffix(".sslog") }.sorted().first)
        let path = log.appendingPathComponent(segment)
        var bytes = try Data(contentsOf: path)
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: path)
        let page = directory.appendingPathComponent("report.html")
        let report = try Tool.run(["report", "-o", page.path, log.path])
        #expect(report.exitCode == 1)
        #expect(report.stderrText.contains("\(segment): offset "))
        #expect(try Self.pageData(page)["damage"] as? Int == 1)
        let strict = try Tool.run(["report", "--strict", "-o", page.path, log.path])
        #expect(strict.exitCode == 2)
    }

    static let badArguments: [([String], Int32)] = [
        (["report", "/nonexistent-log"], 64),
        (["report", "-o", "/nonexistent-dir/report.html", "LOG"], 73),
        (["report", "-o", "OUT", "/nonexistent-log"], 66),
        (["report", "-o", "OUT", "--svg", "/nonexistent-dir/overview.svg", "LOG"], 73),
        (["report", "-o", "OUT", "--max-size", "9000000", "LOG"], 64),
    ]

    @Test(arguments: badArguments)
    func badArgumentsAndPathsGetTheirExitCodes(_ arguments: [String], _ code: Int32) throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        try ReportLogs.phone(hours: 0.05, seed: 2, in: log)
        let resolved = arguments.map { $0 == "LOG" ? log.path : $0 == "OUT" ? directory.appendingPathComponent("r.html").path : $0 }
        let run = try Tool.run(resolved)
        #expect(run.exitCode == code, "\(run.stderrText)")
        #expect(run.stderrText.split(separator: "\n").count >= 1)
    }
}
