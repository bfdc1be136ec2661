import ArgumentParser
import SockStatFormat
import SockStatStore
import SystemPackage

/// `sockstat-convert decode`: segments to canonical JSON lines.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode segments to canonical JSON lines (the default subcommand).",
        discussion: """
            Each PATH is a segment file, a directory of segments (*.sslog, decoded in sequence \
            order) or - for one segment on standard input. Damaged regions are skipped and \
            reported on standard error with file and offset; intact events are all written.
            """
    )

    @Option(name: .shortAndLong, help: "Write JSON lines to FILE instead of standard output.")
    var output: String?

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
        if let since, TimeArgument.parse(since) == nil {
            throw ValidationError("--since '\(since)' is neither Unix milliseconds nor an ISO-8601 UTC time")
        }
        if let until, TimeArgument.parse(until) == nil {
            throw ValidationError("--until '\(until)' is neither Unix milliseconds nor an ISO-8601 UTC time")
        }
        if paths.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("- (standard input) may be given once")
        }
    }

    func run() throws {
        let range = TimeRange(since: since.flatMap(TimeArgument.parse), until: until.flatMap(TimeArgument.parse))

        // Resolve every path before writing anything, so a typo costs no output.
        var inputs: [String] = []
        for path in paths {
            if path == "-" {
                inputs.append(path)
            } else if SegmentDirectory.isDirectory(path) {
                do {
                    let segments = try SegmentDirectory.segments(in: path)
                    if segments.isEmpty { Diagnostics.report("\(path): no segments (*\(SegmentName.suffix)) in this directory") }
                    inputs.append(contentsOf: segments.map(\.path))
                } catch {
                    Diagnostics.report(error.description)
                    throw Exit.noInput
                }
            } else {
                guard (try? FileDescriptor.open(FilePath(path), .readOnly).close()) != nil else {
                    Diagnostics.report("\(path): cannot open")
                    throw Exit.noInput
                }
                inputs.append(path)
            }
        }

        let destination: FileDescriptor
        if let output {
            do {
                destination = try FileDescriptor.open(FilePath(output), .writeOnly, options: [.create, .truncate],
                                                      permissions: [.ownerReadWrite])
            } catch {
                Diagnostics.report("\(output): cannot create: \(error)")
                throw Exit.cannotCreate
            }
        } else {
            destination = .standardOutput
        }
        let outputName = output ?? "standard output"
        let buffer = OutputBuffer { bytes in _ = try destination.writeAll(bytes) }
        var session = DecodeSession(range: range, strict: strict, output: buffer)
        let outcome: DecodeSession.Outcome
        do {
            outcome = try session.decode(inputs)
            try buffer.flush()
            if output != nil { try destination.close() }
        } catch {
            Diagnostics.report("\(outputName): write failed: \(error)")
            throw Exit.ioError
        }
        switch outcome {
        case .complete: return
        case .incomplete: throw Exit.incomplete
        case .stopped: throw Exit.stoppedAtDamage
        }
    }
}

/// Decodes a list of segment files into one output, reporting damage.
struct DecodeSession {
    enum Outcome { case complete, incomplete, stopped }

    let range: TimeRange
    let strict: Bool
    let output: OutputBuffer
    private var decoder = BlockDecoder()
    private var block = DecodedBlock()
    private var writer = CanonicalJSONBlockWriter()
    private var seenSequences: [UInt64: String] = [:]
    private var damaged = false

    init(range: TimeRange, strict: Bool, output: OutputBuffer) {
        self.range = range
        self.strict = strict
        self.output = output
    }

    /// Decodes `inputs` in order. Throws only for output failures.
    mutating func decode(_ inputs: [String]) throws -> Outcome {
        for input in inputs {
            if try !decodeFile(input) { return .stopped }
        }
        return damaged ? .incomplete : .complete
    }

    /// Returns false when `--strict` says to stop.
    private mutating func decodeFile(_ path: String) throws -> Bool {
        let bytes: [UInt8]
        do {
            bytes = path == "-" ? try SegmentDirectory.readStandardInput() : try SegmentDirectory.read(path)
        } catch {
            return reportDamage(error.description)
        }
        var reader: SegmentReader
        do {
            reader = try SegmentReader(bytes: bytes)
        } catch {
            return reportDamage("\(path): \(error.description)")
        }
        if let header = reader.header {
            if let other = seenSequences[header.sequence] {
                return reportDamage("\(path): segment \(header.sequence) already read from \(other); skipped")
            }
            seenSequences[header.sequence] = path
        }
        while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block:
                try writer.write(block, to: output, range: range)
            case .damage(let damage):
                if !reportDamage("\(path): \(damage)") { return false }
            case .end(let tornTail):
                if tornTail > 0 {
                    let what = reader.zeroFilledTail ? "zero-filled tail" : "incomplete last block"
                    Diagnostics.report("\(path): offset \(bytes.count - tornTail): \(what) (torn write), \(tornTail) bytes ignored")
                }
                return true
            }
        }
    }

    /// Reports damage; returns whether to go on.
    private mutating func reportDamage(_ message: String) -> Bool {
        damaged = true
        Diagnostics.report(message)
        return !strict
    }
}
