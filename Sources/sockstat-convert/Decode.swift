import ArgumentParser
import SockStatFormat
import SockStatStore
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

    @Flag(help: ArgumentHelp(
        "Collect: delete each closed segment of the DIRs once its events are written (the open one is left to the recorder).",
        discussion: "A segment with damage is renamed *.sslog.damaged instead of deleted."))
    var consume = false

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
        if consume {
            guard !strict else {
                throw ValidationError("--consume cannot stop at damage (--strict): the rest of the segment would be lost")
            }
            guard since == nil, until == nil else {
                throw ValidationError("--consume deletes what it reads: it cannot be combined with --since or --until")
            }
            for path in paths where !SegmentDirectory.isDirectory(path) {
                throw ValidationError("--consume takes directories; '\(path)' is not one")
            }
        }
    }

    func run() throws {
        let range = TimeRange(since: since.flatMap { try? TimeArgument.parse($0).get() },
                              until: until.flatMap { try? TimeArgument.parse($0).get() })

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
            if consume {
                var synced = false
                outcome = try session.consume(inputs) {
                    try buffer.flush()
                    // A file is synced before a segment goes (its directory entry once);
                    // a pipe or terminal has taken the bytes once write returns.
                    var info = stat()
                    guard fstat(destination.rawValue, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
                    guard fsync(destination.rawValue) == 0 else { throw Errno(rawValue: errno) }
                    if !synced, let output {
                        synced = true
                        let parent = output.contains("/") ? String(output[..<output.lastIndex(of: "/")!]) : "."
                        if let directory = try? FileDescriptor.open(FilePath(parent.isEmpty ? "/" : parent), .readOnly) {
                            _ = fsync(directory.rawValue)
                            try? directory.close()
                        }
                    }
                }
            } else {
                outcome = try session.decode(inputs)
            }
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
    private var segments = SegmentJSONDecoder()
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

    /// Decodes closed segments of `inputs` in order, deleting each once
    /// `commit` has made its output safe; skips segments a writer holds.
    mutating func consume(_ inputs: [String], commit: () throws -> Void) throws -> Outcome {
        for input in inputs {
            guard let claimed = SegmentDirectory.claim(input) else { continue }
            let bytes: [UInt8]
            do {
                bytes = try claimed.read()
            } catch {
                claimed.release()
                if !reportDamage(error.description) { return .stopped }
                continue
            }
            let damagedBefore = damaged
            damaged = false
            let goOn = try decodeBytes(bytes, path: input)
            let thisDamaged = damaged
            damaged = damaged || damagedBefore
            defer { claimed.release() }
            try commit()
            do {
                if thisDamaged {
                    try claimed.set(aside: ".damaged")
                    Diagnostics.report("\(input): kept as \(input).damaged")
                } else {
                    try claimed.remove()
                }
            } catch {
                Diagnostics.report(error.description)
                damaged = true
            }
            if !goOn { return .stopped }
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
        return try decodeBytes(bytes, path: path)
    }

    /// Returns false when `--strict` says to stop.
    private mutating func decodeBytes(_ bytes: [UInt8], path: String) throws -> Bool {
        let strict = self.strict
        let outcome: SegmentJSONDecoder.Outcome
        do {
            // A header already seen elsewhere in this run means a copied segment.
            if let sequence = bytes.withUnsafeBytes({ SegmentHeader.intactSequence($0) }),
               let other = seenSequences[sequence] {
                return reportDamage("\(path): segment \(sequence) already read from \(other); skipped")
            }
            outcome = try segments.decode(bytes, range: range, to: output) { damage in
                Diagnostics.report("\(path): \(damage)")
                return !strict
            }
        } catch let error as SegmentError {
            return reportDamage("\(path): \(error.description)")
        }
        if let header = outcome.header { seenSequences[header.sequence] = path }
        if outcome.damage > 0 {
            damaged = true
            if strict { return false }
        }
        if outcome.tornTail > 0 {
            let what = outcome.zeroFilledTail ? "zero-filled tail" : "incomplete last block"
            Diagnostics.report("\(path): offset \(bytes.count - outcome.tornTail): \(what) (torn write), \(outcome.tornTail) bytes ignored")
        }
        return true
    }

    /// Reports damage; returns whether to go on.
    private mutating func reportDamage(_ message: String) -> Bool {
        damaged = true
        Diagnostics.report(message)
        return !strict
    }
}
