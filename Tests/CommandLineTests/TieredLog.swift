import Foundation
import SockStatFormat
import SockStatStore
import Testing

/// A directory as a recorder's rollups leave it (`Spec/FORMAT.md` 4.1,
/// 10.4), made from JSON lines the way a rollup makes a tier segment: the
/// oldest recorded segments (written by `encode`) decoded with `decode
/// --resolution 1m`, those events written into a segment with the store's
/// `BlockEncoder`, its header a rollup header holding exactly those
/// sources; the oldest 1 min segments the same way into a 1 h tier; the
/// sources deleted.
struct TieredLog {
    /// The directory.
    let directory: URL
    /// Its files, by name.
    let files: [String]

    /// Builds it in `directory` (created) from `jsonLines`.
    ///
    /// - Parameters:
    ///   - segmentBytes: the recorded segments' size (`encode --max-segment-bytes`).
    ///   - minutesPerSegment: recorded segments rolled up into each 1 min segment.
    ///   - keptRecorded: the newest recorded segments left as they are.
    ///   - hourSegments: how many 1 h segments, each from two 1 min segments.
    ///   - keepSources: leave the sources of the newest rollup of each tier
    ///     (a recorder stopped before deleting them: held segments).
    init(jsonLines: Data, in directory: URL, segmentBytes: Int = 8192, minutesPerSegment: Int = 6, keptRecorded: Int = 2,
         hourSegments: Int = 1, keepSources: Bool = false) throws {
        self.directory = directory
        let work = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("source.jsonl")
        try jsonLines.write(to: source)
        let encoded = try Tool.run(["encode", "-i", source.path, "-o", directory.path, "--max-segment-bytes", String(segmentBytes)])
        try #require(encoded.exitCode == 0, "\(encoded.stderrText)")
        let recorded = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        try #require(recorded.count >= keptRecorded + 2 * hourSegments * minutesPerSegment + 1, "too few segments: \(recorded.count)")

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var minuteSegments: [(name: String, sources: [String])] = []
        let rolled = Array(recorded.dropLast(keptRecorded))
        for (index, start) in stride(from: 0, to: rolled.count, by: minutesPerSegment).enumerated() {
            let sources = Array(rolled[start..<min(start + minutesPerSegment, rolled.count)])
            let name = try Self.rollUp(sources.map(path), sourceWindow: 0, window: 60_000, sequence: UInt64(index + 1), in: directory)
            minuteSegments.append((name, sources))
        }
        var hourSources: [[String]] = []
        for index in 0..<hourSegments {
            let sources = minuteSegments[(2 * index)..<(2 * index + 2)].map(\.name)
            _ = try Self.rollUp(sources.map(path), sourceWindow: 60_000, window: 3_600_000, sequence: UInt64(index + 1), in: directory)
            hourSources.append(sources)
        }
        // The sources are deleted once their rollup is written; with
        // keepSources, the newest rollup of each tier is cut before that.
        var deleted = minuteSegments.flatMap(\.sources) + hourSources.flatMap { $0 }
        if keepSources {
            let keptRecorded = minuteSegments.last!.sources.last!, keptMinute = hourSources.last!.last!
            deleted.removeAll { $0 == keptRecorded || $0 == keptMinute }
        }
        for name in deleted { try FileManager.default.removeItem(atPath: path(name)) }
        files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    /// Writes segment `sequence` of the tier with `window`, holding the
    /// rollups of `sources` (segments of the tier with `sourceWindow`);
    /// returns its name.
    static func rollUp(_ sources: [String], sourceWindow: Int64, window: Int64, sequence: UInt64, in directory: URL) throws -> String {
        let windows = try Tool.run(["decode", "--resolution", "\(window)ms"] + sources)
        try #require(windows.exitCode == 0, "\(windows.stderrText)")
        let numbers = try sources.map { source in
            let header = try SegmentDirectory.read(source, prefix: FormatLimits.maxHeaderBytes)
            return try #require(header.withUnsafeBytes { SegmentHeader.intactKey($0) }).sequence
        }
        let parser = JSONLinesParser()
        var events: [Event] = []
        for (number, line) in windows.stdout.split(separator: UInt8(ascii: "\n")).enumerated() {
            if let event = try parser.parse(Array(line), lineNumber: number + 1) { events.append(event) }
        }
        let tier = try #require(RollupTier(window: window, sourceWindow: sourceWindow, sources: numbers.min()!...numbers.max()!))
        var bytes = SegmentHeader(sequence: sequence, creationTime: events.first?.time ?? 0, rollup: tier).encoded()
        var encoder = BlockEncoder(segmentSequence: sequence)
        let deflater = Deflater()
        // Blocks of up to 1,440 windows, as a recorder's tier writes them.
        for (index, event) in events.enumerated() {
            if index > 0, index % 1_440 == 0 { encoder.finishBlock(using: deflater, appendingTo: &bytes) }
            try encoder.append(event)
        }
        if encoder.eventCount > 0 { encoder.finishBlock(using: deflater, appendingTo: &bytes) }
        let name = SegmentName.fileName(sequence: sequence, window: window)
        try Data(bytes).write(to: directory.appendingPathComponent(name))
        return name
    }
}
