import ArgumentParser
import SockStatFormat
import SockStatStore
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `sockstat-convert decode`: segments to canonical JSON lines, CSV or TSV.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode segments to canonical JSON lines, CSV or TSV (the default subcommand).",
        discussion: """
            Each PATH is a segment file, a directory of segments (*.sslog, decoded in sequence \
            order) or - for one segment or an export stream (segments back to back) on standard input. Damaged regions are skipped and \
            reported on standard error with file and offset; intact events are all written. \
            --format and --resolution choose the output (Spec/OUTPUT.md); --since and --until \
            pick events by their own t before they are merged into windows.
            """
    )

    @Option(name: .shortAndLong, help: "Write the output to FILE instead of standard output.")
    var output: String?

    @Flag(help: ArgumentHelp(
        "Collect: delete each closed segment of the DIRs once its events are written (the open one is left to the recorder).",
        discussion: "A segment with damage is renamed *.sslog.damaged instead of deleted."))
    var consume = false

    @Flag(help: ArgumentHelp(
        "Follow one DIR as the recorder writes it: print each block's events as it is written, until SIGINT or SIGTERM.",
        discussion: """
            Starts with the newest block already written (with --since T, with every event from T on \
            already in DIR), then reads the open segment as blocks are appended and moves on when it \
            rotates. A block still being written is read once it is complete; segments deleted by \
            retention are not an error. Reads only: locks and deletes nothing. Exits 0 on SIGINT or \
            SIGTERM after writing and flushing what it read (1 if damage was skipped on the way; with \
            --strict it stops at the first damage, exit 2).
            """))
    var follow = false

    @OptionGroup var input: InputOptions

    @OptionGroup var outputOptions: OutputOptions

    private var paths: [String] { input.paths }

    func validate() throws {
        if follow {
            guard !consume else {
                throw ValidationError("--follow reads without deleting: it cannot be combined with --consume")
            }
            guard input.until == nil else {
                throw ValidationError("--follow has no end: it cannot be combined with --until")
            }
            guard paths.count == 1 else {
                throw ValidationError("--follow takes one directory, not \(paths.count) paths")
            }
            // A directory that does not exist yet is a missing input (66), found in run.
            guard paths[0] != "-", !SegmentDirectory.exists(paths[0]) || SegmentDirectory.isDirectory(paths[0]) else {
                throw ValidationError("--follow takes a directory of segments; '\(paths[0])' is not one")
            }
        }
        if consume {
            guard !input.strict else {
                throw ValidationError("--consume cannot stop at damage (--strict): the rest of the segment would be lost")
            }
            guard input.since == nil, input.until == nil else {
                throw ValidationError("--consume deletes what it reads: it cannot be combined with --since or --until")
            }
            guard outputOptions.resolution == nil else {
                // A window still open when a segment is delivered and deleted
                // would be lost if the run stopped there.
                throw ValidationError("--consume cannot hold windows (--resolution) open across the segments it deletes")
            }
            for path in paths where !SegmentDirectory.isDirectory(path) {
                throw ValidationError("--consume takes directories; '\(path)' is not one")
            }
        }
    }

    func run() throws {
        let report: (CollectionNote) -> Void = SegmentReading.report
        // Resolve every path before writing anything, so a typo costs no output.
        let inputs = consume || follow ? [] : try SegmentReading.inputs(for: paths)
        if follow, !SegmentDirectory.isDirectory(paths[0]) {
            Diagnostics.report("\(paths[0]): cannot follow: no such directory")
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
        var collector = SegmentCollector(writer: outputOptions.makeWriter(), range: input.range, stopsAtFirstLoss: input.strict)
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
            if follow {
                let followed = try Follow.run(paths[0], collector: collector, fromOldest: input.since != nil, to: buffer)
                collector = followed.collector
                stopped = !followed.finished
            } else if consume {
                var synced = false
                for directory in paths {
                    _ = try collector.collect(from: directory, to: buffer, deliver: { _ in
                        try buffer.flush()
                        // A file is synced before a segment goes (its directory entry once);
                        // a pipe or terminal has taken the bytes once write returns.
                        guard outputIsFile else { return }
                        guard durableSync(destination.rawValue) == 0 else { throw Errno(rawValue: errno) }
                        delivered = outputEnd()
                        if !synced, let output {
                            synced = true
                            let parent = output.contains("/") ? String(output[..<output.lastIndex(of: "/")!]) : "."
                            if let directory = try? FileDescriptor.open(FilePath(parent.isEmpty ? "/" : parent), .readOnly) {
                                _ = durableSync(directory.rawValue)
                                try? directory.close()
                            }
                        }
                    }, notes: report)
                }
                try collector.finish(to: buffer)
                try buffer.flush()
            } else {
                // Lines on the terminal would be glued to a progress line there.
                stopped = try !SegmentReading.read(inputs, with: &collector, to: buffer,
                                                   showsProgress: isatty(destination.rawValue) == 0)
            }
            if output != nil { try destination.close() }
        } catch let exit as ExitCode {
            throw exit
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
        try SegmentReading.exit(after: collector, finished: !stopped)
    }
}
