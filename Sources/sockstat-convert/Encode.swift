import ArgumentParser
import SockStatFormat
import SockStatStore
import SystemPackage

/// `sockstat-convert encode`: JSON lines to segments.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compact JSON lines into segments, laid out as the recorder writes them.",
        discussion: """
            Reads canonical JSON lines or tolerant variants (any member order and whitespace, \
            "c":0, member names in any case as Go matches them, logtail metadata, unknown \
            members). Blocks are cut by event time at the flush \
            interval and segments rotate by size, as when recording. Numbering continues after \
            the segments already in DIR. With --max-total-bytes, DIR is kept as the recorder keeps \
            it (replayed on the events' own clock): the oldest segments are rolled up into the \
            tiers of --tiers, and the last tier deletes its oldest, so a long log is compacted \
            into the same tiered layout within the cap.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("JSON-lines file to read; - for standard input.", valueName: "FILE"))
    var input: String = "-"

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory to write segments into (created 0700).", valueName: "DIR"))
    var output: String

    // Seconds, as `sockstat-record --flush-interval` takes it.
    @Option(help: ArgumentHelp("Seconds of event time one block spans.", valueName: "SECONDS"))
    var flushInterval: Double = Double(SegmentLogOptions().flushIntervalMilliseconds) / 1000

    @Option(help: ArgumentHelp("Rotate segments before they pass this many bytes (default: 262144, or with --max-total-bytes "
                               + "under 1 MiB a quarter of it, at least 4096).", valueName: "N"))
    var maxSegmentBytes: Int?

    @Option(help: ArgumentHelp("Keep DIR at or under this many bytes as the recorder does: roll the oldest segments up "
                               + "into --tiers, the last tier deleting its oldest (default: no limit, nothing deleted).",
                               valueName: "N"))
    var maxTotalBytes: Int?

    @Option(help: ArgumentHelp("With --max-total-bytes: rollup tiers as WINDOW:SHARE of it, finest first "
                               + "(e.g. 1m:29%,1h:26%; the recorded events get the rest), or none. Default as sockstat-record's.",
                               valueName: "SPEC"))
    var tiers: String?

    @Flag(help: "Report invalid lines and go on (exit 1) instead of stopping at the first (exit 65).")
    var skipInvalid = false

    func validate() throws {
        guard flushInterval >= 0.001, flushInterval <= 1e6 else {
            throw ValidationError("--flush-interval must be between 0.001 and 1e6 seconds")
        }
        guard segmentBytes >= 4096, segmentBytes <= FormatLimits.maxSegmentBytes / 2 else {
            throw ValidationError("--max-segment-bytes must be between 4096 and \(FormatLimits.maxSegmentBytes / 2)")
        }
        if let problem = segmentLogOptions.problem { throw ValidationError(problem) }
        if let tiers {
            guard maxTotalBytes != nil else { throw ValidationError("--tiers needs --max-total-bytes (the cap the tiers share)") }
            if case .failure(let error) = RollupTierShare.parse(tiers) { throw ValidationError("--tiers: \(error)") }
        }
        if let maxTotalBytes {
            guard maxTotalBytes >= segmentBytes else {
                throw ValidationError("--max-total-bytes (\(maxTotalBytes)) must be at least the segment size (\(segmentBytes))")
            }
            if let retention = retentionOptions, let problem = retention.problem(recordedSegmentBytes: segmentBytes) {
                throw ValidationError(problem)
            }
        }
    }

    /// The segment size: chosen, or the recorder's default for the cap.
    private var segmentBytes: Int {
        maxSegmentBytes ?? maxTotalBytes.map(SegmentLogOptions.segmentBytes(forCap:)) ?? SegmentLogOptions().maxSegmentBytes
    }

    private var segmentLogOptions: SegmentLogOptions {
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = Int64((flushInterval * 1000).rounded())
        options.maxSegmentBytes = segmentBytes
        return options
    }

    /// How DIR is kept, with --max-total-bytes: as `RecorderOptions` shares the cap.
    private var retentionOptions: TieredRetentionOptions? {
        guard let maxTotalBytes else { return nil }
        let shares: [RollupTierShare]
        if let tiers, case .success(let parsed) = RollupTierShare.parse(tiers) {
            shares = parsed
        } else {
            shares = RollupTierShare.defaults(forCap: maxTotalBytes, recordedSegmentBytes: segmentBytes)
        }
        return TieredRetentionOptions(maxTotalBytes: maxTotalBytes, tiers: shares)
    }

    func run() throws {
        let source: FileDescriptor
        if input == "-" {
            source = .standardInput
        } else {
            do {
                source = try FileDescriptor.open(FilePath(input), .readOnly)
            } catch {
                Diagnostics.report("\(input): cannot open: \(error)")
                throw Exit.noInput
            }
        }
        let inputName = input == "-" ? "standard input" : input
        let writer: SegmentLogWriter
        var retention: TieredRetention?
        do {
            // The recorder's order: retention recovers the directory first,
            // and new segments are numbered above what its rollups hold.
            retention = try retentionOptions.map { options throws(StoreError) in
                try TieredRetention(directory: output, options: options)
            }
            writer = try SegmentLogWriter(directory: output, options: segmentLogOptions,
                                          firstSequence: retention?.firstFreeRecordedSequence ?? 1)
        } catch {
            Diagnostics.report(error.description)
            throw Exit.cannotCreate
        }
        // The events' own clock, as a replayed recorder's: the time of the
        // last event taken.
        var clock: Int64 = 0
        var deleted = 0
        if let retention {
            writer.willWrite = { bytes, open, openBytes in
                deleted += retention.makeRoom(for: bytes, openSegment: open, openBytes: openBytes, now: clock)
            }
        }

        // One reader, one parser and one event for every line: plain lines
        // then parse on the fast path and without allocating.
        var reader = JSONLinesReader(fileDescriptor: source, closes: input != "-")
        defer { reader.close() }
        var parser = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        var skipped = 0
        var failure: ExitCode?
        reading: while true {
            let found: Bool
            do throws(JSONLinesReadError) {
                guard let parsed = try reader.next(parsingWith: &parser, into: &event) else { break reading }
                found = parsed
            } catch {
                Diagnostics.report("\(inputName): \(error)")
                guard error.code == .invalidLine else {
                    failure = error.code == .cannotRead ? Exit.noInput : Exit.dataError
                    break reading
                }
                guard skipInvalid else { failure = Exit.dataError; break reading }
                skipped += 1
                continue
            }
            guard found else { continue }
            clock = event.time
            do throws(AppendError) {
                try writer.append(event)
            } catch where error.code == .refused {
                Diagnostics.report("\(inputName): line \(reader.lineNumber): \(error)")
                guard skipInvalid else { failure = Exit.dataError; break reading }
                skipped += 1
            } catch {
                Diagnostics.report(error.description)
                failure = Exit.ioError
                break reading
            }
        }
        // Whatever was read before a failure is kept: close writes the last block.
        do {
            try writer.close()
        } catch {
            Diagnostics.report(error.description)
            throw Exit.ioError
        }
        let metrics = writer.metrics
        let perEvent = metrics.events > 0 ? Double(metrics.bytes) / Double(metrics.events) : 0
        let hundredths = Int((perEvent * 100).rounded())
        let figure = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        Diagnostics.report("encoded \(plural(metrics.events, "event")): \(plural(metrics.segments, "segment")), \(plural(metrics.blocks, "block")), \(metrics.bytes) bytes, \(figure) B/event")
        if let retention {
            let rollups = retention.metrics
            Diagnostics.report("kept within \(retention.options.maxTotalBytes) bytes: \(deleted) deleted by retention "
                + "(\(rollups.segmentsRolledUp) rolled up first), \(rollups.bytesWritten) bytes of rollups written")
        }
        if let failure { throw failure }
        if skipped > 0 {
            Diagnostics.report("\(skipped) invalid lines skipped")
            throw Exit.incomplete
        }
    }
}

private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
