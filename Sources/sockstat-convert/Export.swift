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

/// `sockstat-convert export`: closed segments moved out of a live directory
/// as their bytes, for shipping (convert them where they are collected).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move the closed segments of DIRs out as they are: into a directory, or as one stream on standard output.",
        discussion: """
            The compact way to ship logs: segments are about seven times smaller than their JSON \
            lines. Each closed segment of each DIR (oldest first; the open one is left to the \
            recorder) is locked, checked, written out whole, and only then deleted, by the same \
            rules as decode --consume: a segment with damage is shipped as it is and kept as \
            *.sslog.damaged; a copy of one already shipped is set aside as *.sslog.duplicate. \
            With --to DIR each goes in under its own name, atomically (a temporary name, synced, \
            renamed); a file already there with the same bytes (an export that stopped before \
            deleting) counts as shipped. With -o - the segments go back to back on standard \
            output (Spec/FORMAT.md 16), which decode - reads back: \
            ssh router sockstat-convert export logs -o - > logs.bin; sockstat-convert decode logs.bin. \
            A failed write stops the export: that segment and the later ones stay, nothing is \
            lost and nothing is shipped twice. Exit codes as for decode --consume.
            """
    )

    @Argument(help: "Directories of segments (a recorder's, live or not).")
    var directories: [String]

    @Option(name: .customLong("to"), help: ArgumentHelp("Move the segments into DIR (it must exist).", valueName: "DIR"))
    var destination: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("- : write the segments as one stream to standard output.", valueName: "-"))
    var output: String?

    func validate() throws {
        guard !directories.isEmpty else { throw ValidationError("export takes at least one DIR") }
        switch (destination, output) {
        case (nil, nil): throw ValidationError("say where the segments go: --to DIR or -o -")
        case (_?, _?): throw ValidationError("--to and -o cannot be combined")
        case (nil, let output?) where output != "-":
            throw ValidationError("-o takes - (standard output); redirect it to a file, or use --to DIR")
        default: break
        }
        for path in directories where !SegmentDirectory.isDirectory(path) {
            throw ValidationError("export takes directories; '\(path)' is not one")
        }
        // Into itself, each segment would find its own bytes there, count as
        // shipped, and be deleted.
        if let destination, let target = Self.identity(of: destination) {
            for path in directories where Self.identity(of: path) == target {
                throw ValidationError("--to \(destination) is '\(path)' itself: export into another directory")
            }
        }
    }

    /// The device and inode of `path`, nil when it cannot be looked at.
    private static func identity(of path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    func run() throws {
        // A segment shipped and then not deletable would be shipped again:
        // a directory that cannot be written is refused before anything goes.
        for directory in directories where access(directory, W_OK | X_OK) != 0 {
            Diagnostics.report("\(directory): cannot export: \(Errno(rawValue: errno)) (segments could not be deleted)")
            throw Exit.noInput
        }
        let sink: any ExportSink
        if let destination {
            guard SegmentDirectory.isDirectory(destination), access(destination, W_OK | X_OK) == 0 else {
                Diagnostics.report("\(destination): cannot create segments here: not a writable directory")
                throw Exit.cannotCreate
            }
            sink = DirectorySink(directory: destination)
        } else {
            sink = StreamSink(destination: .standardOutput)
        }
        // A file size limit makes a write fail (EFBIG), which is handled.
        signal(SIGXFSZ, SIG_IGN)
        var collector = SegmentCollector(writer: EventCountingBlockWriter())
        let nowhere = OutputBuffer(capacity: 1) { _ in }
        do {
            for directory in directories {
                _ = try collector.collect(from: directory, to: nowhere, deliverBytes: { segment, bytes in
                    try sink.accept(name: String(segment.path.split(separator: "/").last ?? ""), bytes: bytes)
                }, notes: SegmentReading.report)
            }
        } catch let error as ExportFailure {
            sink.abandon()
            Diagnostics.report(error.message)
            throw error.exit
        } catch let error as StoreError {
            // A shipped segment that could be neither deleted nor set aside.
            Diagnostics.report(error.description)
            throw Exit.incomplete
        }
        try SegmentReading.exit(after: collector, finished: true)
    }
}

/// Why a sink refused a segment, and the exit code that says it.
struct ExportFailure: Error {
    var message: String
    var exit: ExitCode
}

/// Where exported segments go. `accept` returns once the segment is safe
/// there (its source is deleted next); when it throws, nothing of that
/// segment counts as shipped.
protocol ExportSink {
    func accept(name: String, bytes: [UInt8]) throws(ExportFailure)
    /// Undoes a partial write of the segment that failed, where it can.
    func abandon()
}

/// Segments back to back on a descriptor (FORMAT.md 16).
final class StreamSink: ExportSink {
    private let destination: FileDescriptor
    private let isFile: Bool
    /// Where the segments written whole end, in a regular file.
    private var end: off_t

    init(destination: FileDescriptor) {
        self.destination = destination
        var info = stat()
        isFile = fstat(destination.rawValue, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        end = isFile ? StreamSink.size(of: destination) : -1
    }

    private static func size(of file: FileDescriptor) -> off_t {
        var info = stat()
        // With >> writes go to the end; with > the offset is the end of what was written.
        if fcntl(file.rawValue, F_GETFL) & O_APPEND != 0 { return fstat(file.rawValue, &info) == 0 ? info.st_size : -1 }
        return lseek(file.rawValue, 0, SEEK_CUR)
    }

    func accept(name: String, bytes: [UInt8]) throws(ExportFailure) {
        do {
            _ = try destination.writeAll(bytes)
        } catch {
            throw ExportFailure(message: "standard output: write failed: \(error) (\(name) and later segments stay)", exit: Exit.ioError)
        }
        // A pipe has taken the bytes once write returns; a file is synced first.
        guard isFile else { return }
        guard durableSync(destination.rawValue) == 0 else {
            throw ExportFailure(message: "standard output: sync failed: \(Errno(rawValue: errno)) (\(name) and later segments stay)",
                                exit: Exit.ioError)
        }
        end = StreamSink.size(of: destination)
    }

    func abandon() {
        // A file holds whole segments only: the one that failed is cut off.
        if isFile, end >= 0, ftruncate(destination.rawValue, end) == 0 {
            Diagnostics.report("standard output: cut back to the \(end) bytes of the segments shipped whole")
        }
    }
}

/// Segments into a directory under their own names, each atomically.
struct DirectorySink: ExportSink {
    var directory: String

    func accept(name: String, bytes: [UInt8]) throws(ExportFailure) {
        let target = directory + "/" + name
        if SegmentDirectory.exists(target) {
            // An earlier export that stopped between the rename and the
            // delete: the same bytes are already there.
            if let there = try? SegmentDirectory.read(target), there == bytes { return }
            throw ExportFailure(message: "\(target): exists with other bytes; not replaced (\(name) and later segments stay)",
                                exit: Exit.cannotCreate)
        }
        // Readers skip names starting with "." (a writer's temporary files).
        let temporary = directory + "/." + name + ".export-\(getpid())"
        func fail(_ what: String, _ error: any Error) -> ExportFailure {
            unlink(temporary)
            return ExportFailure(message: "\(temporary): \(what): \(error) (\(name) and later segments stay)", exit: Exit.ioError)
        }
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate],
                                           permissions: [.ownerReadWrite])
        } catch {
            throw ExportFailure(message: "\(temporary): cannot create: \(error)", exit: Exit.cannotCreate)
        }
        do {
            _ = try file.writeAll(bytes)
        } catch {
            try? file.close()
            throw fail("write failed", error)
        }
        guard durableSync(file.rawValue) == 0 else {
            let error = Errno(rawValue: errno)
            try? file.close()
            throw fail("sync failed", error)
        }
        try? file.close()
        guard rename(temporary, target) == 0 else { throw fail("rename failed", Errno(rawValue: errno)) }
        // The new name is made durable before the source goes.
        guard let parent = try? FileDescriptor.open(FilePath(directory), .readOnly) else {
            throw ExportFailure(message: "\(directory): cannot open to sync", exit: Exit.ioError)
        }
        defer { try? parent.close() }
        guard durableSync(parent.rawValue) == 0 else {
            throw ExportFailure(message: "\(directory): sync failed: \(Errno(rawValue: errno))", exit: Exit.ioError)
        }
    }

    func abandon() {}
}
