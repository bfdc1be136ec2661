import Foundation
import TestSupport
import Testing

/// Reading a directory with rollup tiers (`Spec/FORMAT.md` 4.1, 10.4):
/// `decode` gives the whole history in time order, coarse tiers first;
/// `--since`/`--until` and `--resolution` work across tiers; `summary`
/// and `report` say which resolution each period has.
struct TierReadingTests {
    /// An hour of the reference workload, tiered: a 1 h segment (from two 1
    /// min segments), the newer 1 min segments, the two newest recorded ones.
    static func tieredLog(keepSources: Bool = false) throws -> (log: TieredLog, lines: Data, work: URL) {
        let work = try Tool.temporaryDirectory()
        let lines = try Workload.lines(hours: 1, seed: 4)
        let log = try TieredLog(jsonLines: lines, in: work.appendingPathComponent("log"), keepSources: keepSources)
        return (log, lines, work)
    }

    struct Line {
        var t: Int64
        var d: Int64
        var text: Substring
    }

    static func lines(_ output: Data) throws -> [Line] {
        try String(decoding: output, as: UTF8.self).split(separator: "\n").map { text in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return Line(t: try #require(object["t"] as? Int64), d: try #require(object["d"] as? Int64), text: text)
        }
    }

    @Test func decodeGivesTheWholeHistoryInTimeOrderCoarseTiersFirst() throws {
        let (log, workload, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        #expect(log.files.contains { $0.hasPrefix("sockstat-1h-") } && log.files.contains { $0.hasPrefix("sockstat-1m-") })
        let run = try Tool.run(["decode", log.directory.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        #expect(run.stderr.isEmpty)
        let lines = try Self.lines(run.stdout)
        // Time order, and the tiers one after the other: 1 h, then 1 min, then as recorded.
        #expect(zip(lines, lines.dropFirst()).allSatisfy { $0.t <= $1.t })
        let tiers = lines.map { $0.d == 3_600_000 ? 2 : $0.d == 60_000 ? 1 : 0 }
        #expect(tiers.first == 2 && tiers.last == 0 && zip(tiers, tiers.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(tiers.contains(1))
        // Nothing lost but resolution: every label's totals are the workload's.
        #expect(try RecordedTotals(jsonLines: run.stdout).byLabel == RecordedTotals(jsonLines: workload).byLabel)
        // The independent decoder written from the Spec gives the same.
        if let python = FixtureTests.python3 {
            let independent = try Tool.run([Tool.root.appendingPathComponent("Spec/conformance/sslog_decode.py").path, log.directory.path],
                                           executable: URL(fileURLWithPath: python))
            #expect(independent.exitCode == 0)
            #expect(independent.stdout == run.stdout)
        }
    }

    /// Cut mid-rollup: the sources of the newest rollup of each tier are
    /// still there. Each is skipped with a note; no event twice, exit 0.
    @Test func heldSegmentsAreSkippedWithANoteAndNoEventTwice() throws {
        let (complete, _, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        let (cut, _, cutWork) = try Self.tieredLog(keepSources: true)
        defer { try? FileManager.default.removeItem(at: cutWork) }
        #expect(cut.files.count == complete.files.count + 2)
        let whole = try Tool.run(["decode", complete.directory.path])
        let run = try Tool.run(["decode", cut.directory.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        #expect(run.stdout == whole.stdout)
        let notes = run.stderrText.split(separator: "\n")
        #expect(notes.count == 2)
        #expect(notes.allSatisfy { $0.contains("is already rolled up into") && $0.hasSuffix("; skipped") })
        #expect(notes.contains { $0.contains(": 1m segment 2 is already rolled up into \(cut.directory.path)/sockstat-1h-00000000000000000001.sslog") })
        // Given file by file, recorded segments first: still skipped, the holders being known before reading.
        let files = cut.files.reversed().map { cut.directory.appendingPathComponent($0).path }
        let byFile = try Tool.run(["decode"] + files)
        #expect(byFile.exitCode == 0, "\(byFile.stderrText)")
        #expect(try RecordedTotals(jsonLines: byFile.stdout).byLabel == RecordedTotals(jsonLines: whole.stdout).byLabel)
        #expect(byFile.stderrText.components(separatedBy: "is already rolled up into").count == 3)
    }

    /// `--since`/`--until` select by `t` (a tier event's window start), whole events.
    @Test func sinceAndUntilSelectByTheWindowStartAcrossTiers() throws {
        let (log, _, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        let all = try Self.lines(Tool.run(["decode", log.directory.path]).stdout)
        let minutes = all.filter { $0.d == 60_000 }
        let recorded = all.filter { $0.d < 60_000 }
        // From inside the hour tier's last window to inside the recorded events.
        let since = all.first { $0.d == 3_600_000 }!.t + 1, until = recorded[recorded.count / 2].t
        #expect(minutes.contains { $0.t >= since })
        let run = try Tool.run(["decode", "--since", String(since), "--until", String(until), log.directory.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let expected = all.filter { $0.t >= since && $0.t < until }.map { $0.text + "\n" }.joined()
        #expect(String(decoding: run.stdout, as: UTF8.self) == expected)
    }

    /// A resolution finer than a tier's is given at the tier's: the tiers'
    /// events come out unchanged, the recorded ones merged.
    @Test(arguments: ["1s", "10s", "1m"])
    func aFinerResolutionLeavesTheTiersAsTheyAre(_ resolution: String) throws {
        let (log, _, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        let all = try Self.lines(Tool.run(["decode", log.directory.path]).stdout)
        let run = try Tool.run(["decode", "--resolution", resolution, log.directory.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let merged = try Self.lines(run.stdout)
        let window: Int64 = ["1s": 1_000, "10s": 10_000, "1m": 60_000][resolution]!
        let coarser = all.filter { $0.d > window }
        #expect(!coarser.isEmpty)
        #expect(merged.prefix(coarser.count).map(\.text) == coarser.map(\.text))
        #expect(merged.dropFirst(coarser.count).allSatisfy { $0.d == window && $0.t % window == 0 })
        #expect(try RecordedTotals(jsonLines: run.stdout).byLabel == RecordedTotals(jsonLines: Tool.run(["decode", log.directory.path]).stdout).byLabel)
    }

    /// `summary` says which resolution each period has: 1 h, 1 min, then as
    /// recorded, each from its first `t` to its last end, and its totals are the workload's.
    @Test func summarySaysWhichResolutionEachPeriodHas() throws {
        let (log, workload, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        let all = try Self.lines(Tool.run(["decode", log.directory.path]).stdout)
        let run = try Tool.run(["summary", "--json", log.directory.path])
        #expect(run.exitCode == 0, "\(run.stderrText)")
        let object = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let periods = try #require(object["resolutions"] as? [[String: Any]])
        #expect(periods.compactMap { $0["window_ms"] as? Int64 } == [3_600_000, 60_000, 0])
        for (period, window) in zip(periods, [3_600_000, 60_000, 0] as [Int64]) {
            let tier = all.filter { window == 0 ? $0.d < 60_000 : $0.d == window }
            #expect(period["events"] as? Int == tier.count)
            #expect(period["first_t"] as? Int64 == tier.map(\.t).min())
            #expect(period["end_t"] as? Int64 == tier.map { $0.t + $0.d }.max())
            #expect(period["shortest_d"] as? Int64 == tier.map(\.d).min())
            #expect(period["longest_d"] as? Int64 == tier.map(\.d).max())
        }
        let labels = try #require(object["labels"] as? [String: [String: Any]])
        let expected = try RecordedTotals(jsonLines: workload).byLabel
        #expect(Set(labels.keys) == Set(expected.keys))
        for (label, totals) in expected {
            #expect(labels[label]?["tx"] as? UInt64 == totals.sent && labels[label]?["rx"] as? UInt64 == totals.received, "\(label)")
        }

        let text = try Tool.run(["summary", log.directory.path])
        #expect(text.exitCode == 0 && text.stderr.isEmpty)
        let line = try #require(String(decoding: text.stdout, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("resolution") })
        let recorded = all.filter { $0.d < 60_000 }
        let shortest = recorded.map(\.d).min()!, longest = recorded.map(\.d).max()!
        let recordedText = shortest == longest ? "as recorded (\(shortest) ms)" : "as recorded (\(shortest) ms to \(longest) ms)"
        #expect(line.contains(" 1 h from ") && line.contains(", 1 min from ") && line.contains(", \(recordedText) from "), "\(line)")
    }

    /// The report says it too, and a real browser shows it: the footer's
    /// resolution of each period; the totals table equals summary's.
    @Test(.enabled(if: Browser.isAvailable || Browser.required, "needs chromium, chromedriver and selenium"))
    func reportShowsWhichResolutionEachPeriodHas() throws {
        let (log, _, work) = try Self.tieredLog()
        defer { try? FileManager.default.removeItem(at: work) }
        let page = work.appendingPathComponent("report.html")
        let report = try Tool.run(["report", "-o", page.path, log.directory.path])
        #expect(report.exitCode == 0, "\(report.stderrText)")
        let periods = try #require(try ReportTests.pageData(page)["resolutions"] as? [[String: Any]])
        #expect(periods.compactMap { $0["text"] as? String }.prefix(2) == ["1 h", "1 min"])
        #expect((periods.last?["text"] as? String)?.hasPrefix("as recorded (") == true)
        let summary = try Tool.run(["summary", "--json", log.directory.path])
        let expected = work.appendingPathComponent("summary.json")
        try summary.stdout.write(to: expected)
        let check = try Tool.run(["python3", Browser.script.path, "--report", page.path, "--expected", expected.path,
                                  "--screenshots", work.appendingPathComponent("shots").path,
                                  "--footer-contains", "Resolution\n1 h from ", "--footer-contains", ", 1 min from ",
                                  "--footer-contains", ", as recorded ("],
                                 executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(check.exitCode == 0, "\(check.stderrText)")
    }

    /// A recorded log alone has one period: its resolution, without the times (the time covered says them).
    @Test func aRecordedLogSaysAsRecorded() throws {
        let run = try Tool.run(["summary", Tool.fixtures.appendingPathComponent("several-segments/input").path])
        #expect(run.exitCode == 0)
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("\nresolution      as recorded ("))
    }
}
