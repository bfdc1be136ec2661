import Foundation
import Testing
import TestSupport

/// The generator's other workloads (Tests/Workload/workload.py `--profile
/// busy`, `--labels N`): canonical JSON lines that `sockstat-convert` keeps
/// byte for byte, with the properties the budget figures rely on.
struct WorkloadProfileTests {
    struct Profile: Sendable, CustomTestStringConvertible {
        var profile: String
        var labels: Int?
        var hours: Double

        var testDescription: String { "--profile \(profile)" + (labels.map { " --labels \($0)" } ?? "") }

        func lines() throws -> Data {
            try Workload.lines(hours: hours, seed: 5, profile: profile, labels: labels)
        }
    }

    static let busy = Profile(profile: "busy", labels: nil, hours: 0.05)
    static let manyLabelPhone = Profile(profile: "phone", labels: 1000, hours: 0.1)
    static let manyLabelBusy = Profile(profile: "busy", labels: 1000, hours: 0.02)

    /// Decode writes canonical JSON lines, so getting the input back byte for
    /// byte means the input was canonical and nothing in it was lost.
    @Test(arguments: [busy, manyLabelPhone, manyLabelBusy])
    func encodeThenDecodeGivesBackTheWorkloadByteForByte(_ workload: Profile) throws {
        let input = try workload.lines()
        #expect(try workload.lines() == input, "the same arguments give the same bytes")
        let directory = TemporaryDirectory()
        let encode = try Tool.run(["encode", "--output", directory.path], stdin: input)
        #expect(encode.exitCode == 0, "\(encode.stderrText)")
        let decode = try Tool.run(["decode", directory.path])
        #expect(decode.exitCode == 0, "\(decode.stderrText)")
        #expect(decode.stdout == input)
    }

    /// A busy router never sleeps: an event every tick or two (10 Hz), with
    /// tens of labels changing in each.
    @Test func busyHasNoGapsAndManyLabelsATick() throws {
        let events = try Self.events(Self.busy.lines())
        let ticks = Int(Self.busy.hours * 36_000)
        #expect(events.count >= ticks * 99 / 100, "\(events.count) events in \(ticks) ticks")
        let longestGap = zip(events, events.dropFirst()).map { $1.time - $0.time }.max() ?? 0
        #expect(longestGap <= 400, "longest gap \(longestGap) ms")
        let labelsPerEvent = events.map(\.labels.count).sorted()
        #expect(labelsPerEvent[labelsPerEvent.count / 2] >= 25, "median \(labelsPerEvent[labelsPerEvent.count / 2]) labels an event")
        #expect(Set(events.flatMap(\.labels)).count <= 64)
    }

    /// With 1,000 labels a few hundred are open at a time and the open set
    /// drifts: ten seconds see well under all of them, six minutes nearly all.
    @Test func aThousandLabelsAreAllSeenButNotAllAtOnce() throws {
        let lines = try Self.manyLabelPhone.lines()
        let seen = try RecordedTotals(jsonLines: lines).byLabel.keys
        #expect(seen.count >= 900, "\(seen.count) distinct labels")
        #expect(seen.count <= 1000)
        let events = try Self.events(lines)
        let firstSeconds = events.prefix { $0.time - events[0].time < 10_000 }
        let seenInFirstSeconds = Set(firstSeconds.flatMap(\.labels)).count
        #expect(seenInFirstSeconds < 600, "\(seenInFirstSeconds) labels in the first 10 s")
    }

    // MARK: Helpers

    struct Event {
        var time: Int64
        var labels: [String]
    }

    /// Each line's `t` and labels, read with Foundation's JSON parser.
    static func events(_ lines: Data) throws -> [Event] {
        try lines.split(separator: UInt8(ascii: "\n")).map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let time = try #require(object["t"] as? Int64)
            let counts = try #require(object["s"] as? [String: Any])
            return Event(time: time, labels: Array(counts.keys))
        }
    }
}
