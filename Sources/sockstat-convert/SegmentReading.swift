import ArgumentParser
import SockStatFormat
import SockStatStore

/// The inputs `decode`, `summary` and `report` share: PATHs, a time window
/// and `--strict`, parsed and checked once.
struct InputOptions: ParsableArguments {
    // Unconditional: a negative Unix time ("-5") is a value, not an option.
    @Option(parsing: .unconditional, help: ArgumentHelp("Keep events with t at or after T (Unix ms or ISO-8601 UTC).", valueName: "T"))
    var since: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Keep events with t before T (Unix ms or ISO-8601 UTC).", valueName: "T"))
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
        // An empty window (since == until) is a question with an empty answer;
        // one that ends before it starts is a typo, most likely swapped times.
        if let since = range.since, let until = range.until, since > until {
            throw ValidationError("--since '\(self.since!)' is after --until '\(self.until!)': no event can be in that window")
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
    /// Inputs are read one at a time; over more than `ProgressLine.threshold`
    /// bytes, with standard error a terminal, a progress line shows how far
    /// it got (erased at the end, and around each note).
    ///
    /// - Parameters:
    ///   - showsProgress: false when the output goes to the same terminal
    ///     (its lines would be glued to the progress line).
    ///   - observe: sees every note after it is reported (summary counts
    ///     the damage it skipped).
    /// - Returns: false when `--strict` stopped the read at damage.
    /// - Throws: what the output's sink throws.
    static func read<Writer>(_ inputs: [SegmentInput], with collector: inout SegmentCollector<Writer>,
                             to output: OutputBuffer, showsProgress: Bool = true,
                             observe: (CollectionNote) -> Void = { _ in }) throws -> Bool {
        // Read one at a time below: what rollups hold is known from all of them first.
        collector.noteHoldings(of: inputs)
        let finished = try forEach(inputs, showsProgress: showsProgress) { input, notes in
            try collector.read([input], to: output, notes: { note in
                notes(note)
                observe(note)
            })
        }
        try collector.finish(to: output)
        try output.flush()
        return finished
    }

    /// Calls `body` for each of `inputs` in turn with the notes function to
    /// use, keeping a progress line (`ProgressLine`) on standard error when
    /// it is a terminal and the inputs are larger than
    /// `ProgressLine.threshold`: the loop `decode`, `summary` and `report`
    /// share.
    ///
    /// - Parameter body: reads one input; returns false to stop (`--strict`).
    /// - Returns: false when `body` stopped the loop.
    static func forEach(_ inputs: [SegmentInput], showsProgress: Bool = true,
                        _ body: (SegmentInput, _ notes: (CollectionNote) -> Void) throws -> Bool) rethrows -> Bool {
        let sizes = inputs.map { input -> Int in
            switch input {
            case .file(let path): SegmentDirectory.fileSize(path) ?? 0
            case .prefix(_, let bytes): bytes
            case .standardInput: 0
            }
        }
        let progress = showsProgress ? ProgressLine.forStandardError(totalBytes: sizes.reduce(0, +),
                                                                     totalSegments: inputs.count) : nil
        defer { progress?.finish() }
        let notes: (CollectionNote) -> Void = { note in
            if let progress { progress.interrupt { report(note) } } else { report(note) }
        }
        for (input, size) in zip(inputs, sizes) {
            guard try body(input, notes) else { return false }
            progress?.advance(bytes: size)
        }
        return true
    }

    /// Throws the exit code for what the read met: 2 stopped at damage
    /// (`--strict`), 1 events lost to damage; nothing when all was read.
    static func exit<Writer>(after collector: SegmentCollector<Writer>, finished: Bool) throws {
        if !finished { throw Exit.stoppedAtDamage }
        if collector.lostEvents { throw Exit.incomplete }
    }
}
