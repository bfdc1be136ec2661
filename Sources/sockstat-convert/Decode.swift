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
        let report: (CollectionNote) -> Void = { Diagnostics.report($0.description) }

        // Resolve every path before writing anything, so a typo costs no output.
        let inputs: [SegmentInput]
        do {
            inputs = consume ? [] : try SegmentCollector<CanonicalJSONBlockWriter>.inputs(for: paths, notes: report)
        } catch {
            Diagnostics.report(error.description)
            throw Exit.noInput
        }

        // A collector that could not delete what it delivered would deliver
        // it again: a directory that cannot be written is refused before any
        // output is made.
        if consume {
            for directory in paths where access(directory, W_OK | X_OK) != 0 {
                Diagnostics.report("\(directory): cannot consume: \(Errno(rawValue: errno)) (segments could not be deleted)")
                throw Exit.noInput
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
        var collector = SegmentCollector(range: range, stopsAtFirstLoss: strict)
        var stopped = false
        // Where the output of the segments delivered so far ends, in a file:
        // a segment whose output could not be made safe is cut back off, so
        // the file holds whole segments only (it is delivered again next time).
        var info = stat()
        let outputIsFile = fstat(destination.rawValue, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        // Appending (>>), writes go to the end whatever the offset says.
        let appends = fcntl(destination.rawValue, F_GETFL) & O_APPEND != 0
        func outputEnd() -> off_t {
            guard appends else { return lseek(destination.rawValue, 0, SEEK_CUR) }
            var now = stat()
            return fstat(destination.rawValue, &now) == 0 ? now.st_size : -1
        }
        var delivered: off_t = outputIsFile ? outputEnd() : -1
        // A file size limit makes a write fail (EFBIG), which is handled,
        // rather than kill the process with a partial segment written.
        signal(SIGXFSZ, SIG_IGN)
        do {
            if consume {
                var synced = false
                for directory in paths {
                    _ = try collector.collect(from: directory, to: buffer, deliver: { _ in
                        try buffer.flush()
                        // A file is synced before a segment goes (its directory entry once);
                        // a pipe or terminal has taken the bytes once write returns.
                        guard outputIsFile else { return }
                        guard fsync(destination.rawValue) == 0 else { throw Errno(rawValue: errno) }
                        delivered = outputEnd()
                        if !synced, let output {
                            synced = true
                            let parent = output.contains("/") ? String(output[..<output.lastIndex(of: "/")!]) : "."
                            if let directory = try? FileDescriptor.open(FilePath(parent.isEmpty ? "/" : parent), .readOnly) {
                                _ = fsync(directory.rawValue)
                                try? directory.close()
                            }
                        }
                    }, notes: report)
                }
            } else {
                stopped = try !collector.read(inputs, to: buffer, notes: report)
            }
            try collector.finish(to: buffer)
            try buffer.flush()
            if output != nil { try destination.close() }
        } catch let error as StoreError {
            // Collecting could not go on: a directory that cannot be
            // written, or a delivered segment that could not be deleted.
            try? buffer.flush()
            Diagnostics.report(error.description)
            throw Exit.incomplete
        } catch {
            Diagnostics.report("\(outputName): write failed: \(error)")
            if consume, outputIsFile, delivered >= 0 {
                buffer.discard()
                if ftruncate(destination.rawValue, delivered) == 0 {
                    Diagnostics.report("\(outputName): cut back to the \(delivered) bytes of the segments delivered whole; the rest stay in place")
                }
            }
            throw Exit.ioError
        }
        if stopped { throw Exit.stoppedAtDamage }
        if collector.lostEvents { throw Exit.incomplete }
    }
}
