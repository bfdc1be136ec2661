import Foundation
import SockStatFormat
import SockStatStore
import Synchronization
import Testing
import TestSupport

// Crashes of issue 5: `sockstat-record` replaying events is killed with
// SIGKILL at random moments while it writes blocks, rotates segments, deletes
// old ones for retention, or while a collector (`sockstat-convert decode
// --consume`) takes closed segments away. After each kill:
//   - what the directory holds, after what the collector delivered, is exactly
//     a prefix of the events given (with retention: a run of them that ends
//     where that prefix ends, oldest segments gone);
//   - every block that was complete on disk just before the kill is still
//     there (a completed flush survives);
//   - a new recorder continues in the same directory, and the whole log then
//     reads as the events given, in order, none twice.
// The replay runs at 100x real time, so a run lasts about a second and a kill
// lands anywhere in it.

enum CrashScenario: String, CaseIterable, Sendable {
    /// Small blocks (every 0.5 s of events): kills land between and during block writes.
    case midBlock
    /// 4 KiB segments: a rotation every few dozen blocks.
    case midRotation
    /// 4 KiB segments under an 8 KiB cap: retention deletes a segment at every rotation.
    case midRetention
    /// 4 KiB segments taken away by collectors running one after another.
    case midDrain

    var options: [String] {
        switch self {
        case .midBlock: ["--flush-interval", "0.5"]
        case .midRotation, .midDrain: ["--flush-interval", "0.5", "--max-segment-bytes", "4096"]
        case .midRetention: ["--flush-interval", "0.5", "--max-segment-bytes", "4096", "--max-total-bytes", "8192"]
        }
    }
}

struct CrashTests {
    /// 1 000 events of 100 ms, three labels, counts that do not compress away.
    static let lines: [[UInt8]] = {
        var random = TestRandom(seed: 2026)
        var time: Int64 = 1_764_288_000_000
        return (0..<1_000).map { index in
            var counts: [LabelCounts] = []
            for label in ["dns", "rmnet_data0", "wlan0"] where random.next() % 3 != 0 || counts.isEmpty {
                counts.append(LabelCounts(label: Label(label), tx: 1 + random.next() % 90_000, rx: random.next() % 900_000))
            }
            let event = Event(time: time, duration: 100, isCellular: index % 17 == 0, counts: counts)
            time += index % 50 == 49 ? 2_500 : 100
            return CanonicalJSON.line(for: event)
        }
    }()

    /// The lines of every segment of `directory`, in order, read as the
    /// converter reads them; segments that vanish meanwhile are skipped.
    static func decode(_ directory: String) -> (lines: [[UInt8]], damage: Int) {
        guard let segments = try? SegmentDirectory.segments(in: directory) else { return ([], 0) }
        var decoder = SegmentJSONDecoder()
        var bytes: [UInt8] = []
        let output = OutputBuffer { bytes.append(contentsOf: $0) }
        var damage = 0
        for segment in segments {
            // Foundation reads the file here: `SegmentDirectory.read` zero-fills
            // its buffer element by element, slow in a debug build.
            guard let contents = FileManager.default.contents(atPath: segment.path) else { continue }
            damage += (try? decoder.decode(Array(contents), to: output) { _ in true })?.damage ?? 1
        }
        try? output.flush()
        return (bytes.split(separator: UInt8(ascii: "\n")).map { Array($0) + [UInt8(ascii: "\n")] }, damage)
    }

    /// Where `run` starts in `lines` if it is a contiguous run of them.
    static func start(of run: [[UInt8]], in lines: [[UInt8]]) -> Int? {
        guard let first = run.first else { return 0 }
        return lines.indices.first { index in
            lines[index] == first && index + run.count <= lines.count && Array(lines[index..<(index + run.count)]) == run
        }
    }

    @Test(arguments: CrashScenario.allCases)
    func killedAtRandomMomentsTheLogIsAPrefixEveryFlushSurvivesAndARestartGoesOn(_ scenario: CrashScenario) throws {
        let lines = Self.lines
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<3 {
            let logs = directory.appendingPathComponent("logs-\(round)")
            let cut = Int.random(in: lines.count / 2...lines.count, using: &generator)
            let first = directory.appendingPathComponent("first-\(round).jsonl")
            let second = directory.appendingPathComponent("second-\(round).jsonl")
            try Data(lines[..<cut].joined()).write(to: first)
            try Data(lines[cut...].joined()).write(to: second)

            // Collectors, one after another, while the recorder runs (midDrain).
            let collecting = Atomic<Bool>(scenario == .midDrain)
            let collectorDone = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var collected: [[UInt8]] = []
            nonisolated(unsafe) var collectorExits: [Int32] = []
            Thread.detachNewThread {
                var runs = 0
                while collecting.load(ordering: .relaxed) {
                    defer { usleep(UInt32.random(in: 1_000...40_000)) }
                    guard FileManager.default.fileExists(atPath: logs.path) else { continue }
                    let output = directory.appendingPathComponent("collected-\(round)-\(runs).jsonl")
                    runs += 1
                    guard let run = try? Tool.run(["decode", "--consume", "-o", output.path, logs.path]) else { continue }
                    collectorExits.append(run.exitCode)
                    let data = (try? Data(contentsOf: output)) ?? Data()
                    collected += data.split(separator: UInt8(ascii: "\n")).map { Array($0) + [UInt8(ascii: "\n")] }
                }
                collectorDone.signal()
            }

            let process = Process()
            process.executableURL = Tool.record
            process.arguments = ["--dir", logs.path, "--replay", first.path, "--speed", "100"] + scenario.options
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 10_000...600_000, using: &generator))  // the replay sleeps 1 s in all
            // What is on disk, complete, just before the kill must survive it.
            let before: (lines: [[UInt8]], damage: Int) = scenario == .midDrain ? ([], 0) : Self.decode(logs.path)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "\(scenario) round \(round): the replay ended before the kill")
            collecting.store(false, ordering: .relaxed)
            collectorDone.wait()
            #expect(before.damage == 0, "\(scenario) round \(round): damage while recording")

            let after = Self.decode(logs.path)
            #expect(after.damage == 0, "\(scenario) round \(round): damage after the kill")
            #expect(collectorExits.allSatisfy { $0 == 0 }, "\(scenario) round \(round): collector exits \(collectorExits)")
            let held = collected + after.lines
            let kept: Range<Int>
            if scenario == .midRetention {
                // A run of the events that ends where the recorded prefix ends.
                let start = Self.start(of: held, in: lines)
                #expect(start != nil, "\(scenario) round \(round): not a run of the events given")
                kept = (start ?? 0)..<((start ?? 0) + held.count)
            } else {
                #expect(held == Array(lines.prefix(held.count)), "\(scenario) round \(round): not a prefix")
                kept = 0..<held.count
            }
            #expect(kept.upperBound <= cut)
            // Every block complete before the kill is still there.
            let beforeEnd = (Self.start(of: before.lines, in: lines) ?? 0) + before.lines.count
            #expect(kept.upperBound >= beforeEnd, "\(scenario) round \(round): a completed flush was lost")

            // A new recorder goes on in the same directory.
            let restart = try Tool.run(["--dir", logs.path, "--replay", second.path] + scenario.options, executable: Tool.record)
            #expect(restart.exitCode == 0, "\(scenario) round \(round): \(restart.stderrText)")
            let names = try FileManager.default.contentsOfDirectory(atPath: logs.path)
            #expect(!names.contains { $0.hasSuffix(".tmp") }, "a temporary file left by the kill is still there")
            let whole = try Tool.run([logs.path])
            #expect(whole.exitCode == 0, "\(scenario) round \(round): \(whole.stderrText)")
            let final = collected + whole.stdout.split(separator: UInt8(ascii: "\n")).map { Array($0) + [UInt8(ascii: "\n")] }
            if scenario == .midRetention {
                // Retention keeps the newest: what is left ends with the second run, whole if it fits.
                let start = Self.start(of: final, in: Array(lines[..<kept.upperBound]) + Array(lines[cut...]))
                #expect(start != nil, "\(scenario) round \(round): restart did not go on")
            } else {
                #expect(final == Array(lines[kept]) + Array(lines[cut...]), "\(scenario) round \(round): restart did not go on")
            }
        }
    }
}
