import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import Testing
import TestSupport

/// A phone-like log: 10 Hz events over a few labels, cellular periods,
/// sleep gaps (the next event after one has a long `d`), as JSON lines.
func phoneLikeLog(seconds: Int, seed: UInt64, labels: Int = 4, interval: Int64 = 100) -> [UInt8] {
    var random = TestRandom(seed: seed)
    var lines: [UInt8] = []
    var time: Int64 = 1_700_000_000_000
    var cellular = false
    for tick in 0..<(Int64(seconds) * 1000 / interval) {
        if tick % 600 == 0 { cellular = random.oneIn(3) }
        var duration = interval
        if random.oneIn(900) { duration = Int64(random.below(600_000)) + 60_000 }  // asleep
        var counts: [LabelCounts] = []
        for label in 0..<labels where random.oneIn(2) || label == 0 {
            counts.append(LabelCounts(label: Label("\(label)"), tx: UInt64(random.below(5_000) + 1),
                                      rx: UInt64(random.below(50_000))))
        }
        let event = Event(time: time, duration: duration, isCellular: cellular, counts: counts)
        lines.append(contentsOf: CanonicalJSON.line(for: event))
        time += duration
    }
    return lines
}

/// What `sockstat-convert decode DIR` gives, through the store's one read path.
func decodedLines(_ directory: String) throws -> [UInt8] {
    var collector = SegmentCollector(writer: CanonicalJSONBlockWriter())
    var bytes: [UInt8] = []
    let output = OutputBuffer(capacity: 1 << 16) { bytes.append(contentsOf: $0) }
    var lost: [CollectionNote] = []
    let inputs = try SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: [directory]) { lost.append($0) }
    _ = try collector.read(inputs, to: output) { note in if note.losesEvents { lost.append(note) } }
    try collector.finish(to: output)
    try output.flush()
    #expect(lost.isEmpty, "\(lost)")
    return bytes
}

/// The events of `lines`, in order (t, d).
func times(_ lines: [UInt8]) throws -> [(t: Int64, d: Int64)] {
    try lines.split(separator: UInt8(ascii: "\n")).map { line in
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        return (try #require(object["t"] as? Int64), try #require(object["d"] as? Int64))
    }
}

/// Checks that `directory` holds exactly the input's totals over the time
/// it keeps: everything, when no segment was deleted without being rolled
/// up; else from the end of the first window kept (the window the last
/// tier's deleted segment may share with the first one kept) on.
func expectExactTotals(_ directory: String, input: [UInt8], metrics: RecorderMetrics,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let decoded = try decodedLines(directory)
    var from = Int64.min
    if metrics.segmentsDeleted > metrics.segmentsRolledUp, let first = try times(decoded).min(by: { $0.t < $1.t }) {
        from = first.t + first.d
    }
    let kept = try NetworkTotals(jsonLines: decoded, from: from)
    let recorded = try NetworkTotals(jsonLines: input, from: from)
    #expect(!kept.byLabel.isEmpty, sourceLocation: sourceLocation)
    #expect(kept == recorded, "kept \(kept)\nrecorded \(recorded)", sourceLocation: sourceLocation)
}

/// Records `input` through a recorder on a replay clock, checking the cap
/// after every poll and whenever a rollup's temporary file exists.
@discardableResult
func replay(_ input: [UInt8], into options: RecorderOptions, pollsBetweenChecks: Int = 1,
            sourceLocation: SourceLocation = #_sourceLocation) throws -> RecorderMetrics {
    let source = ReplaySource(bytes: input)
    let clock = ManualClock()
    let recorder = try Recorder(source: source, options: options, clock: clock)
    let largest = Mutex(0)
    let directory = options.directory
    recorder.onRollupTemporaryFile { temporary in
        #expect(FileManager.default.fileExists(atPath: temporary))
        let bytes = directoryBytes(directory)
        largest.withLock { $0 = max($0, bytes) }
    }
    var polls = 0
    while let reading = try source.advance() {
        clock.set(reading)
        recorder.poll(at: reading)
        polls += 1
        if polls % pollsBetweenChecks == 0 {
            let bytes = directoryBytes(directory)
            #expect(bytes <= options.maxTotalBytes, "poll \(polls): \(bytes) bytes", sourceLocation: sourceLocation)
        }
    }
    #expect(recorder.shutdown())
    #expect(directoryBytes(directory) <= options.maxTotalBytes, sourceLocation: sourceLocation)
    #expect(largest.withLock { $0 } <= options.maxTotalBytes, "with a temporary file", sourceLocation: sourceLocation)
    return recorder.metrics
}

func tieredOptions(_ directory: String, cap: Int, tiers: String) throws -> RecorderOptions {
    var options = RecorderOptions(directory: directory)
    options.maxTotalBytes = cap
    options.flushIntervalMilliseconds = 1_000
    options.syncEachBlock = false
    options.tiers = try RollupTierShare.parse(tiers).get()
    return options
}

struct TierTests {
    /// Every label's tx and rx, cellular and not, over the kept history,
    /// equal the input's over the same time; the cap holds at every poll
    /// and while a rollup's temporary file exists; rollups reach the last
    /// tier, which deletes its oldest.
    @Test(arguments: [
        (64 << 10, "1s:30%,1m:25%", 3_600),
        (100_000, "10s:30%,5m:25%", 7_200),
        (64 << 10, "1s:20%,10s:20%,1m:20%", 3_600),
    ])
    func totalsOverTheKeptHistoryAreExactAndTheCapHolds(cap: Int, tiers: String, seconds: Int) throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: seconds, seed: UInt64(cap) &+ UInt64(seconds))
        let options = try tieredOptions(directory.path, cap: cap, tiers: tiers)
        let metrics = try replay(input, into: options)
        #expect(metrics.segmentsRolledUp > 0)
        #expect(metrics.rollupPasses > 0 && metrics.rollupPasses <= metrics.segmentsRolledUp)
        #expect(metrics.rollupBytes > 0)
        #expect(metrics.eventsDropped == 0)
        try expectExactTotals(directory.path, input: input, metrics: metrics)
    }

    /// A window gathering more than 1,024 labels (one event's most) is
    /// written as several events with the same t, d and c: nothing is lost.
    @Test func aWindowOfMoreThan1024LabelsIsSplitNotLost() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 400, seed: 23, labels: 1_500, interval: 1_000)
        let options = try tieredOptions(directory.path, cap: 1 << 20, tiers: "10s:30%,1m:25%")
        let metrics = try replay(input, into: options, pollsBetweenChecks: 10)
        #expect(metrics.segmentsRolledUp > 0)
        let decoded = try decodedLines(directory.path)
        let tierEvents = try times(decoded).filter { $0.d == 10_000 || $0.d == 60_000 }
        #expect(Set(tierEvents.map(\.t)).count < tierEvents.count, "some window was split into several events")
        try expectExactTotals(directory.path, input: input, metrics: metrics)
    }

    /// Coarse tiers first, the recorded events last; within each tier, time
    /// order; a tier's events are its windows (t a multiple of the window,
    /// d the window) unless coarser already (a sleep gap's one long event).
    @Test func decodeGivesCoarseTiersFirstEachInTimeOrder() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 3_600, seed: 11)
        let options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "1s:30%,1m:25%")
        try replay(input, into: options, pollsBetweenChecks: 100)
        let files = try SegmentDirectory.segments(in: directory.path)
        let windows = files.map { $0.window ?? -1 }
        #expect(windows == windows.sorted(by: >), "\(windows)")
        #expect(Set(windows) == [60_000, 1_000, 0], "every tier has segments: \(windows)")
        var previousEnd = Int64.min
        for window in [Int64(60_000), 1_000] {
            var lastTime = Int64.min
            for file in files where file.window == window {
                #expect(file.rollup?.window == window)
                let lines = try decodedLines(file.path)
                for event in try times(lines) {
                    #expect(event.t >= lastTime, "\(file.path): \(event.t) after \(lastTime)")
                    lastTime = event.t
                    if event.d <= window {
                        #expect(event.t % window == 0 && event.d == window, "\(file.path): \(event)")
                    }
                }
            }
            // Coarse tiers hold older windows: each tier starts where the coarser ends, give or take the seam window.
            let first = try files.filter { $0.window == window }.flatMap { try times(decodedLines($0.path)) }.map(\.t).min() ?? 0
            #expect(first + 60_000 >= previousEnd, "tier \(window) starts at \(first), before \(previousEnd)")
            previousEnd = lastTime
        }
    }

    /// Killed after a rollup's file is in place but before its source is
    /// deleted: readers skip the held source (its events are in the rollup,
    /// read once), and a restart deletes it. Killed before the rename: the
    /// temporary file is removed, nothing is held, nothing lost.
    @Test func aSourceLeftAfterTheRenameIsHeldNotReadTwiceAndDeletedOnRestart() throws {
        let directory = TemporaryDirectory()
        let snapshot = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 1_800, seed: 5)
        let options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "1s:30%,1m:25%")
        let source = ReplaySource(bytes: input)
        let clock = ManualClock()
        let recorder = try Recorder(source: source, options: options, clock: clock)
        let taken = Mutex<[String: Data]?>(nil)
        let consumed = Mutex(0)
        recorder.onRollupTemporaryFile { temporary in
            // The fifth rollup: copy the directory as a kill would leave it.
            guard consumed.withLock({ $0 += 1; return $0 }) == 5 else { return }
            var files: [String: Data] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                files[name] = FileManager.default.contents(atPath: directory.path + "/" + name)
            }
            files["temporary"] = Data(temporary.utf8)
            taken.withLock { $0 = files }
        }
        while let reading = try source.advance() {
            clock.set(reading)
            recorder.poll(at: reading)
            if taken.withLock({ $0 }) != nil { break }
        }
        #expect(recorder.shutdown())
        let files = try #require(taken.withLock { $0 })
        let temporary = String(decoding: try #require(files["temporary"]), as: UTF8.self)
        let temporaryName = String(temporary.split(separator: "/").last!)
        let finalName = String(temporaryName.dropFirst().dropLast(4))
        // Killed before the rename: the temporary file and the sources.
        try FileManager.default.createDirectory(atPath: snapshot.path, withIntermediateDirectories: true)
        for (name, bytes) in files where name != "temporary" {
            try bytes.write(to: URL(fileURLWithPath: snapshot.path + "/" + name))
        }
        let before = try NetworkTotals(jsonLines: decodedLines(snapshot.path))
        // Killed after it: the rollup in place, its source still there.
        if FileManager.default.fileExists(atPath: snapshot.path + "/" + finalName) {
            try FileManager.default.removeItem(atPath: snapshot.path + "/" + finalName)
        }
        try FileManager.default.moveItem(atPath: snapshot.path + "/" + temporaryName, toPath: snapshot.path + "/" + finalName)
        let held = try SegmentDirectory.segments(in: snapshot.path).filter { $0.heldBy != nil }
        #expect(held.count == 1, "\(held.map(\.path))")
        var notes: [CollectionNote] = []
        var collector = SegmentCollector(writer: CanonicalJSONBlockWriter())
        var bytes: [UInt8] = []
        let output = OutputBuffer(capacity: 1 << 16) { bytes.append(contentsOf: $0) }
        _ = try collector.read(SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: [snapshot.path]) { _ in }, to: output) {
            notes.append($0)
        }
        try output.flush()
        #expect(notes.map(\.kind) == [.held], "\(notes)")
        #expect(try NetworkTotals(jsonLines: bytes) == before, "the held source is read once, in its rollup")
        // A restart deletes the held source and goes on.
        var restartOptions = options
        restartOptions.directory = snapshot.path
        let restarted = try Recorder(source: ReplaySource(bytes: []), options: restartOptions, clock: ManualClock())
        #expect(try SegmentDirectory.segments(in: snapshot.path).allSatisfy { $0.heldBy == nil })
        #expect(!FileManager.default.fileExists(atPath: held[0].path))
        #expect(try NetworkTotals(jsonLines: decodedLines(snapshot.path)) == before)
        #expect(restarted.shutdown())
    }

    /// A recorder stopped and started again continues each tier's tail (the
    /// same file takes the next sources) and the totals stay exact.
    @Test func aRestartContinuesTheTails() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 3_600, seed: 21)
        let lines = input.split(separator: UInt8(ascii: "\n"))
        let half = lines.count / 2
        let first = Array(lines[..<half].joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")]
        let second = Array(lines[half...].joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")]
        let options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "1s:30%,1m:25%")
        let firstMetrics = try replay(first, into: options)
        let tail = try #require(try SegmentDirectory.segments(in: directory.path).filter { $0.window == 1_000 }.last)
        let tailSources = try #require(tail.rollup?.sources)
        let secondMetrics = try replay(second, into: options)
        #expect(firstMetrics.segmentsRolledUp > 0 && secondMetrics.segmentsRolledUp > 0)
        // The tail of the first run, if it was not rolled on, holds more sources now, under the same name.
        if let after = try SegmentDirectory.segments(in: directory.path).first(where: { $0.path == tail.path }) {
            let sources = try #require(after.rollup?.sources)
            #expect(sources.lowerBound == tailSources.lowerBound && sources.upperBound > tailSources.upperBound,
                    "\(tailSources) then \(sources)")
        }
        var metrics = secondMetrics
        metrics.segmentsDeleted += firstMetrics.segmentsDeleted
        metrics.segmentsRolledUp += firstMetrics.segmentsRolledUp
        try expectExactTotals(directory.path, input: input, metrics: metrics)
    }

    /// 100 kB with the default tiers (1 min, 1 h): segments shrink to fit,
    /// the defaults apply, the cap holds and the totals are exact.
    @Test func aSmallCapStillGetsTheDefaultTiers() throws {
        let directory = TemporaryDirectory()
        var options = RecorderOptions(directory: directory.path)
        options.maxTotalBytes = 100_000
        options.flushIntervalMilliseconds = 1_000
        options.syncEachBlock = false
        #expect(options.tiers == RollupTierShare.defaults)
        #expect(options.problem == nil)
        let input = phoneLikeLog(seconds: 3 * 3_600, seed: 3)
        let metrics = try replay(input, into: options, pollsBetweenChecks: 10)
        #expect(metrics.segmentsRolledUp > 0)
        #expect(try SegmentDirectory.segments(in: directory.path).contains { $0.window == 60_000 })
        try expectExactTotals(directory.path, input: input, metrics: metrics)
    }

    /// `tiers = []`: no rollup tier file ever, the oldest recorded segment
    /// deleted, the newest events kept as before.
    @Test func noTiersDeletesTheOldestAsBefore() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 1_800, seed: 8)
        var options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "none")
        options.tiers = []
        let metrics = try replay(input, into: options)
        #expect(metrics.segmentsDeleted > 0)
        #expect(metrics.segmentsRolledUp == 0 && metrics.rollupBytes == 0)
        let files = try SegmentDirectory.segments(in: directory.path)
        #expect(files.allSatisfy { $0.window == 0 && $0.rollup == nil })
        // What is kept is the newest events exactly as recorded.
        let decoded = try decodedLines(directory.path)
        #expect(input.suffix(decoded.count).elementsEqual(decoded))
    }

    /// Drains while recording with tiers, and one after shutdown, deliver
    /// every event's bytes exactly once: their totals are the input's.
    @Test func drainsDeliverEveryTierExactlyOnce() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 3_600, seed: 13)
        let options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "1s:30%,1m:25%")
        let source = ReplaySource(bytes: input)
        let clock = ManualClock()
        let recorder = try Recorder(source: source, options: options, clock: clock)
        var delivered: [UInt8] = []
        var polls = 0
        var drainedTiers = false
        while let reading = try source.advance() {
            clock.set(reading)
            recorder.poll(at: reading)
            polls += 1
            if polls % 9_000 == 0 {
                var chunks: [[UInt8]] = []
                try recorder.drain { chunks.append(Array($0)) }
                delivered.append(contentsOf: chunks.joined())
                let drained = try times(Array(chunks.joined()))
                if drained.contains(where: { $0.d == 1_000 || $0.d == 60_000 }) { drainedTiers = true }
            }
        }
        #expect(recorder.shutdown())
        try recorder.drain { delivered.append(contentsOf: $0) }
        let metrics = recorder.metrics
        #expect(metrics.segmentsRolledUp > 0)
        #expect(metrics.segmentsDeleted == metrics.segmentsRolledUp, "nothing deleted without a rollup")
        #expect(drainedTiers, "a drain while recording delivered rollup tiers")
        #expect(try SegmentDirectory.segments(in: directory.path).isEmpty)
        #expect(try NetworkTotals(jsonLines: delivered) == NetworkTotals(jsonLines: input))
    }

    /// An export while recording ships every tier's segments (coarse first)
    /// and the stream they make decodes to the input's totals with what
    /// later exports ship.
    @Test func exportsShipEveryTierOnce() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 2_400, seed: 19)
        let options = try tieredOptions(directory.path, cap: 64 << 10, tiers: "1s:30%,1m:25%")
        let source = ReplaySource(bytes: input)
        let clock = ManualClock()
        let recorder = try Recorder(source: source, options: options, clock: clock)
        var stream: [UInt8] = []
        var windows: Set<Int64> = []
        var polls = 0
        func export() throws {
            try recorder.export { segment in
                stream.append(contentsOf: segment.bytes)
                if let parsed = SegmentName.parse(segment.name) { windows.insert(parsed.window) }
            }
        }
        while let reading = try source.advance() {
            clock.set(reading)
            recorder.poll(at: reading)
            polls += 1
            if polls % 12_000 == 0 { try export() }
        }
        #expect(recorder.shutdown())
        try export()
        #expect(recorder.metrics.segmentsDeleted == recorder.metrics.segmentsRolledUp)
        #expect(windows == [0, 1_000, 60_000], "\(windows)")
        let file = directory.path + "/../" + "export-\(UUID().uuidString).stream"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(stream).write(to: URL(fileURLWithPath: file))
        #expect(try NetworkTotals(jsonLines: decodedLines(file)) == NetworkTotals(jsonLines: input))
    }

    /// A read while recording gives every tier, each event once, the
    /// directory's totals at that moment.
    @Test func aReadGivesEveryTierOnce() throws {
        let directory = TemporaryDirectory()
        let input = phoneLikeLog(seconds: 3_600, seed: 17)
        let options = try tieredOptions(directory.path, cap: 256 << 10, tiers: "1s:30%,1m:20%")
        let source = ReplaySource(bytes: input)
        let clock = ManualClock()
        let recorder = try Recorder(source: source, options: options, clock: clock)
        while let reading = try source.advance() {
            clock.set(reading)
            recorder.poll(at: reading)
        }
        #expect(recorder.metrics.segmentsRolledUp > 0)
        var read: [UInt8] = []
        try recorder.read { read.append(contentsOf: $0) }
        #expect(try NetworkTotals(jsonLines: read) == NetworkTotals(jsonLines: decodedLines(directory.path)))
        #expect(recorder.shutdown())
    }
}

/// `RecorderOptions.tiers` and `RollupTierShare.parse`.
struct TierOptionsTests {
    @Test(arguments: [
        ("1m:30%,1h:25%", [RollupTierShare(windowMilliseconds: 60_000, fractionOfCap: 0.30),
                           RollupTierShare(windowMilliseconds: 3_600_000, fractionOfCap: 0.25)]),
        ("none", []),
        ("60s:10%", [RollupTierShare(windowMilliseconds: 60_000, fractionOfCap: 0.10)]),
        ("1500ms:12.5%,3s:10%", [RollupTierShare(windowMilliseconds: 1_500, fractionOfCap: 0.125),
                                 RollupTierShare(windowMilliseconds: 3_000, fractionOfCap: 0.10)]),
    ])
    func tierListsAreRead(text: String, tiers: [RollupTierShare]) throws {
        #expect(try RollupTierShare.parse(text).get() == tiers)
        #expect(try RollupTierShare.parse(RollupTierShare.text(of: tiers)).get() == tiers)
    }

    @Test(arguments: [
        ("1m", "not WINDOW:SHARE"),
        ("1x:30%", "not a window"),
        ("1m:30", "not a share"),
        ("1h:30%,1m:25%", "each a whole multiple"),
        ("1m:30%,90s:25%", "each a whole multiple"),
        ("1m:60%,1h:40%", "under 100%"),
        ("1m:0%", "more than 0%"),
        ("400d:10%", "not a window"),
        ("", "not WINDOW:SHARE"),
    ])
    func badTierListsAreRefusedWithAReason(text: String, reason: String) {
        guard case .failure(let error) = RollupTierShare.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(error.description.contains(reason), "\(error)")
    }

    @Test func theDefaultsAreTheIssuesAndScaleWithTheCap() {
        var options = RecorderOptions(directory: "/nonexistent")
        #expect(options.tiers == RollupTierShare.defaults)
        let retention = options.tieredRetentionOptions
        #expect(retention.rollupTiers.map(\.maxBytes) == [Int(Double(5 << 20) * 0.29), Int(Double(5 << 20) * 0.26)])
        #expect(retention.recordedMaxBytes == (5 << 20) - retention.rollupTiers.map(\.maxBytes).reduce(0, +))
        options.maxTotalBytes = 50 << 20
        #expect(options.tieredRetentionOptions.rollupTiers.map(\.maxBytes) == [Int(Double(50 << 20) * 0.29), Int(Double(50 << 20) * 0.26)])
        // Too small a cap for the defaults: none, as before tiers.
        options.maxTotalBytes = 16 << 10
        #expect(options.tiers.isEmpty)
        #expect(options.problem == nil)
    }

    /// The defaults need 31,508 bytes: their smallest share, 26%, must hold
    /// two 4 KiB segments (8,192 bytes).
    @Test(arguments: [(31_508, true), (31_507, false), (16 << 10, false), (1 << 20, true)])
    func theDefaultTiersNeedAbout31KiB(cap: Int, tiered: Bool) {
        var options = RecorderOptions(directory: "/nonexistent")
        options.maxTotalBytes = cap
        #expect(options.tiers == (tiered ? RollupTierShare.defaults : []))
        #expect(options.problem == nil)
    }

    @Test func chosenTiersTheCapCannotHoldAreRefused() {
        var options = RecorderOptions(directory: "/nonexistent")
        options.maxTotalBytes = 16 << 10
        options.tiers = RollupTierShare.defaults
        #expect(options.problem?.contains("must hold two of its segments") == true, "\(options.problem ?? "")")
        options.tiers = [RollupTierShare(windowMilliseconds: 60_000, fractionOfCap: 0.9)]
        #expect(options.problem?.contains("recorded events' share") == true, "\(options.problem ?? "")")
    }
}
