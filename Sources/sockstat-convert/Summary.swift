import ArgumentParser
import SockStatAnalysis
import SockStatFormat
import SockStatStore
import SystemPackage

/// `sockstat-convert summary`: what each label sent and received, when and
/// on which network, as a table or one JSON object.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize segments: bytes per label, cellular part, rates, time covered, gaps.",
        discussion: """
            Per label: tx, rx and total bytes, share of the whole, the part on cellular, peak and \
            95th-percentile rate over 1 s windows (sent and received together; --json gives each \
            direction too) and seconds active, largest first; then the time covered, events, gaps \
            with no events, and damage skipped. Damage is handled as by decode (skipped and named on \
            standard error, exit 1; --strict stops at it, exit 2). An input with no events says \
            that no traffic was recorded in it. README.md "Summary" describes the JSON object.
            """
    )

    @Option(help: ArgumentHelp("Also per time bucket: total, hour, day, week (from Monday) or month.", valueName: "SIZE"))
    var by = "total"

    // Unconditional: "-05:30" is the value, not an option.
    @Option(name: .customLong("utc-offset"), parsing: .unconditional, help: ArgumentHelp(
        "Bucket boundaries at midnight of this fixed offset from UTC (+01:00, -05:30), not UTC midnight.",
        valueName: "±HH:MM"))
    var utcOffset = "+00:00"

    // Unconditional: "-5" is a bad value to name, not a missing one.
    @Option(parsing: .unconditional, help: ArgumentHelp("A stretch with no events longer than this many seconds is a gap.", valueName: "SECONDS"))
    var gap = 60

    @Option(name: .customLong("label-names"), help: ArgumentHelp(
        "Show names beside labels: the preset tailscale, or a FILE of LABEL<TAB>NAME lines (or one JSON object).",
        valueName: "PRESET|FILE"))
    var labelNames: String?

    @Flag(help: "Write one JSON object instead of a table.")
    var json = false

    @Flag(help: "Exact byte counts instead of KiB, MiB, GiB.")
    var bytes = false

    @OptionGroup var input: InputOptions

    func validate() throws {
        guard BucketSize(name: by) != nil else {
            throw ValidationError("--by '\(by)': not one of \(BucketSize.all.map(\.description).joined(separator: ", "))")
        }
        guard ISOTime.parseOffset(utcOffset) != nil else {
            throw ValidationError("--utc-offset '\(utcOffset)': not an offset from UTC of at most 18 hours (+01:00, -05:30, Z)")
        }
        guard gap > 0, gap <= Int(Int64.max / 1000) else { throw ValidationError("--gap \(gap): give a number of seconds above 0") }
    }

    /// The names `--label-names` gives: a preset, or a file read and parsed.
    ///
    /// - Throws: exit 64 after one line on standard error naming the file,
    ///   and the line of a malformed one.
    static func names(_ argument: String?) throws -> LabelNames? {
        guard let argument else { return nil }
        if let preset = LabelNames.presets[argument] { return preset }
        let bytes: [UInt8]
        do {
            bytes = try SegmentDirectory.read(argument)
        } catch {
            let presets = LabelNames.presets.keys.sorted().joined(separator: ", ")
            Diagnostics.report("--label-names \(argument): neither a preset (\(presets)) nor a readable file: \(error.reason)")
            throw ExitCode.validationFailure
        }
        do {
            return try LabelNames(parsing: bytes)
        } catch {
            Diagnostics.report("--label-names \(argument): \(error)")
            throw ExitCode.validationFailure
        }
    }

    func run() throws {
        let names = try Self.names(labelNames)
        let options = SummaryOptions(bucketSize: BucketSize(name: by) ?? .total, utcOffset: ISOTime.parseOffset(utcOffset) ?? 0,
                                     gapThreshold: Int64(gap) * 1000)
        let inputs = try SegmentReading.inputs(for: input.paths)
        var collector = SegmentCollector(writer: SummaryBlockWriter(options: options), range: input.range,
                                         stopsAtFirstLoss: input.strict)
        var damageSkipped = 0
        // The summary writes nothing while reading.
        let unused = OutputBuffer(capacity: 64) { _ in }
        let finished = try SegmentReading.read(inputs, with: &collector, to: unused, observe: { note in
            if note.losesEvents { damageSkipped += 1 }
        })

        let figures = collector.decoder.writer.summary.figures
        let source = input.paths.map { $0 == "-" ? "standard input" : $0 }.joined(separator: ", ")
        let context = SummaryContext(source: source, range: input.range, names: names, damageSkipped: damageSkipped)
        let output = json ? SummaryJSON.render(figures, context: context)
            : Array(SummaryText.render(figures, context: context, exactBytes: bytes).utf8)
        do {
            _ = try FileDescriptor.standardOutput.writeAll(output)
        } catch {
            Diagnostics.report("standard output: write failed: \(error)")
            throw Exit.ioError
        }
        try SegmentReading.exit(after: collector, finished: finished)
    }
}
