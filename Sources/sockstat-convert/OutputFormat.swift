import ArgumentParser
import SockStatFormat

/// What `decode` writes: `--format`, `--resolution` and `--no-header`, parsed
/// and checked once, and the writer they choose (`makeWriter()`), so any
/// reading mode (`decode`, `--consume`, a follower) can offer them.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Output format: jsonl (canonical JSON lines), csv or tsv (one row per event and label: t,d,c,label,tx,rx).",
        discussion: "Spec/OUTPUT.md defines the CSV and TSV quoting and escapes.",
        valueName: "FORMAT"))
    var format: OutputFormat = .jsonl

    // Unconditional: "-1s" is a bad value to name, not a missing one.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Merge events into windows of DURATION (100ms, 1s, 10s, 1m, 1h, 1d; at most 366d) aligned to the Unix epoch, tx/rx summed per label.",
        discussion: "Cellular and other traffic of a window stay separate events; Spec/OUTPUT.md has the rules.",
        valueName: "DURATION"))
    var resolution: String?

    @Flag(help: "CSV and TSV: leave out the header row (to append to an earlier run's output).")
    var noHeader = false

    func validate() throws {
        if let resolution, case .failure(let reason) = Self.parseDuration(resolution) {
            throw ValidationError("--resolution '\(resolution)': \(reason.text)")
        }
        if noHeader && format == .jsonl {
            throw ValidationError("--no-header is for --format csv or tsv; JSON lines have no header")
        }
    }

    /// The window length `--resolution` gives, in milliseconds (checked by `validate`).
    var resolutionMilliseconds: Int64? {
        resolution.flatMap { try? Self.parseDuration($0).get() }
    }

    /// The longest window: a leap year.
    static let longestResolution: Int64 = 366 * 86_400_000

    struct Invalid: Error {
        var text: String
    }

    /// `<positive integer><unit>`, the unit one of ms, s, m, h, d.
    static func parseDuration(_ text: String) -> Result<Int64, Invalid> {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) && text.utf8.count > $0.suffix.utf8.count }) else {
            return .failure(Invalid(text: "not a duration: give a whole number and a unit (ms, s, m, h or d), as 100ms, 10s or 1h"))
        }
        let digits = text.dropLast(unit.suffix.count)
        guard digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(Invalid(text: "not a duration: give a whole number and a unit (ms, s, m, h or d), as 100ms, 10s or 1h"))
        }
        guard let count = Int64(digits), count > 0 else {
            if digits.utf8.allSatisfy({ $0 == UInt8(ascii: "0") }) {
                return .failure(Invalid(text: "a window must be longer than 0"))
            }
            return .failure(Invalid(text: "longer than the longest window, 366d"))
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
        guard !overflow, milliseconds <= longestResolution else {
            return .failure(Invalid(text: "longer than the longest window, 366d"))
        }
        return .success(milliseconds)
    }

    /// The writer these options choose.
    func makeWriter() -> OutputWriter {
        let dialect: DelimitedTextBlockWriter.Dialect? = switch format {
        case .jsonl: nil
        case .csv: .csv
        case .tsv: .tsv
        }
        switch (dialect, resolutionMilliseconds) {
        case (nil, nil):
            return .jsonl(CanonicalJSONBlockWriter())
        case (let dialect?, nil):
            return .table(DelimitedTextBlockWriter(dialect: dialect, writesHeader: !noHeader))
        case (nil, let resolution?):
            return .windowedJSONL(WindowingBlockWriter(inner: CanonicalJSONBlockWriter(), resolution: resolution))
        case (let dialect?, let resolution?):
            return .windowedTable(WindowingBlockWriter(inner: DelimitedTextBlockWriter(dialect: dialect, writesHeader: !noHeader),
                                                       resolution: resolution))
        }
    }
}

/// `--format`'s values.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, csv, tsv
}

/// The writer chosen at run time: one `switch` per block, then the chosen
/// writer's specialized code for the block's events (no existential). Each
/// writer sits in a box of its own, so it is used in place, never moved.
enum OutputWriter: DecodedBlockWriter {
    case jsonl(Box<CanonicalJSONBlockWriter>)
    case table(Box<DelimitedTextBlockWriter>)
    case windowedJSONL(Box<WindowingBlockWriter<CanonicalJSONBlockWriter>>)
    case windowedTable(Box<WindowingBlockWriter<DelimitedTextBlockWriter>>)

    /// A writer, held by reference.
    final class Box<Writer: DecodedBlockWriter> {
        var writer: Writer
        init(_ writer: Writer) { self.writer = writer }
    }

    static func jsonl(_ writer: CanonicalJSONBlockWriter) -> Self { .jsonl(Box(writer)) }
    static func table(_ writer: DelimitedTextBlockWriter) -> Self { .table(Box(writer)) }
    static func windowedJSONL(_ writer: WindowingBlockWriter<CanonicalJSONBlockWriter>) -> Self { .windowedJSONL(Box(writer)) }
    static func windowedTable(_ writer: WindowingBlockWriter<DelimitedTextBlockWriter>) -> Self { .windowedTable(Box(writer)) }

    mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
        switch self {
        case .jsonl(let box): try box.writer.write(block, to: output, range: range)
        case .table(let box): try box.writer.write(block, to: output, range: range)
        case .windowedJSONL(let box): try box.writer.write(block, to: output, range: range)
        case .windowedTable(let box): try box.writer.write(block, to: output, range: range)
        }
    }

    mutating func finish(to output: OutputBuffer) throws {
        switch self {
        case .jsonl(let box): try box.writer.finish(to: output)
        case .table(let box): try box.writer.finish(to: output)
        case .windowedJSONL(let box): try box.writer.finish(to: output)
        case .windowedTable(let box): try box.writer.finish(to: output)
        }
    }
}
