import ArgumentParser
import SockStatFormat
import SockStatStore

/// The inputs `decode`, `summary` and `report` share: PATHs, a time window
/// and `--strict`, parsed and checked once.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep events with t at or after T (Unix ms or ISO-8601 UTC).", valueName: "T"))
    var since: String?

    @Option(help: ArgumentHelp("Keep events with t before T (Unix ms or ISO-8601 UTC).", valueName: "T"))
    var until: String?

    @Flag(help: "Stop at the first damage (exit 2) instead of skipping it (exit 1).")
    var strict = false

    @Argument(help: ArgumentHelp("Segment files, directories of segments, or - for standard input.", valueName: "PATH"))
    var paths: [String]

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one PATH") }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, case .failure(let invalid) = TimeArgument.parse(value) {
                throw ValidationError("\(name) '\(value)': \(invalid.reason)")
            }
        }
        if paths.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("- (standard input) may be given once")
        }
    }

    /// The window `--since` and `--until` name (checked by `validate`).
    var range: TimeRange {
        TimeRange(since: since.flatMap { try? TimeArgument.parse($0).get() },
                  until: until.flatMap { try? TimeArgument.parse($0).get() })
    }
}

/// Reading segments for a subcommand: the one place that turns PATHs into
/// inputs, notes into lines on standard error, and what a read met into the
/// documented exit codes.
enum SegmentReading {
    /// Notes go to standard error, one line each.
    static func report(_ note: CollectionNote) { Diagnostics.report(note.description) }

    /// The inputs `paths` name, resolved before anything is written so that
    /// a typo costs no output.
    ///
    /// - Throws: `Exit.noInput` (66) when a path cannot be opened or listed.
    static func inputs(for paths: [String]) throws -> [SegmentInput] {
        do {
            return try SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: paths, notes: report)
        } catch {
            Diagnostics.report(error.description)
            throw Exit.noInput
        }
    }

    /// Reads `inputs` through `collector` into `output`, then finishes the
    /// writer and flushes.
    ///
    /// - Parameter observe: sees every note after it is reported (summary
    ///   counts the damage it skipped).
    /// - Returns: false when `--strict` stopped the read at damage.
    /// - Throws: what the output's sink throws.
    static func read<Writer>(_ inputs: [SegmentInput], with collector: inout SegmentCollector<Writer>,
                             to output: OutputBuffer, observe: (CollectionNote) -> Void = { _ in }) throws -> Bool {
        let finished = try collector.read(inputs, to: output, notes: { note in
            report(note)
            observe(note)
        })
        try collector.finish(to: output)
        try output.flush()
        return finished
    }

    /// Throws the exit code for what the read met: 2 stopped at damage
    /// (`--strict`), 1 events lost to damage; nothing when all was read.
    static func exit<Writer>(after collector: SegmentCollector<Writer>, finished: Bool) throws {
        if !finished { throw Exit.stoppedAtDamage }
        if collector.lostEvents { throw Exit.incomplete }
    }
}
