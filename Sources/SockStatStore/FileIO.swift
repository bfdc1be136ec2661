import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the store, with the path it concerns: a file-system
/// operation that failed, or options it cannot write with.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A path could not be opened or read.
        public static let read = Code("read")
        /// A file or directory could not be created or written.
        public static let write = Code("write")
        /// A file is larger than a reader accepts.
        public static let tooLarge = Code("too large")
        /// Writer options out of range, or that could make segments readers refuse.
        public static let invalidOptions = Code("invalid options")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The path concerned.
    public var path: String
    /// A one-line explanation.
    public var reason: String

    package init(_ code: Code, path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    init(_ code: Code, path: String, _ what: String, _ errno: Errno) {
        self.init(code, path: path, "\(what): \(errno)")
    }

    public var description: String { "\(path): \(reason)" }
}

/// Whole-file reads with a size cap, and the few POSIX calls the store needs.
enum FileIO {
    /// Reads the whole file at `path`, refusing files over `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(StoreError) -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly)
        } catch {
            throw StoreError(.read, path: path, "cannot open", error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        return try readAll(fd, path: path, limit: limit)
    }

    /// Reads `fd` to its end, refusing more than `limit` bytes.
    static func readAll(_ fd: FileDescriptor, path: String, limit: Int) throws(StoreError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = 1 << 16
        while true {
            let start = bytes.count
            // Read at most one byte past the limit, to tell "at" from "over".
            let want = min(chunk, limit + 1 - start)
            if want <= 0 {
                throw StoreError(.tooLarge, path: path, "larger than \(limit) bytes")
            }
            bytes.append(contentsOf: repeatElement(0, count: want))
            let got: Int
            do {
                got = try bytes.withUnsafeMutableBytes { buffer in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), retryOnInterrupt: true)
                }
            } catch {
                throw StoreError(.read, path: path, "read failed", error as? Errno ?? .ioError)
            }
            bytes.removeLast(want - got)
            if got == 0 { return bytes }
            chunk = min(chunk * 2, 1 << 22)
        }
    }

    /// The first `count` bytes of the file at `path` (fewer if it is shorter).
    static func readPrefix(_ path: String, count: Int) throws(StoreError) -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly)
        } catch {
            throw StoreError(.read, path: path, "cannot open", error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got: Int
            do {
                got = try bytes.withUnsafeMutableBytes { buffer in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), retryOnInterrupt: true)
                }
            } catch {
                throw StoreError(.read, path: path, "read failed", error as? Errno ?? .ioError)
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(count - filled)
        return bytes
    }

    /// Appends the bytes of `fd` from `offset` up to `end` (fewer if the
    /// file is shorter now) to `bytes`, reading at those offsets.
    static func append(_ fd: FileDescriptor, from offset: Int, upTo end: Int, to bytes: inout [UInt8],
                       path: String) throws(StoreError) {
        var position = offset
        while position < end {
            let start = bytes.count
            let want = min(end - position, 1 << 22)
            bytes.append(contentsOf: repeatElement(0, count: want))
            let got: Int
            do {
                got = try bytes.withUnsafeMutableBytes { buffer in
                    try fd.read(fromAbsoluteOffset: Int64(position),
                                into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), retryOnInterrupt: true)
                }
            } catch {
                bytes.removeLast(want)
                throw StoreError(.read, path: path, "read failed", error as? Errno ?? .ioError)
            }
            bytes.removeLast(want - got)
            if got == 0 { return }
            position += got
        }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: FileDescriptor, _ bytes: [UInt8], path: String) throws(StoreError) {
        do {
            _ = try fd.writeAll(bytes)
        } catch {
            throw StoreError(.write, path: path, "write failed", error as? Errno ?? .ioError)
        }
    }

    /// Creates `path` as a directory (mode 0700: the data is private) and its
    /// missing parents; an existing directory is fine.
    static func makeDirectory(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw StoreError(.write, path: prefix, "cannot create directory", Errno(rawValue: errno))
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StoreError(.write, path: path, "not a directory")
        }
    }

    /// Names of the entries of directory `path` (no "." or "..").
    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let directory = opendir(path) else {
            throw StoreError(.read, path: path, "cannot open directory", Errno(rawValue: errno))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether anything (a dangling link too) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The size of the file at `path`, following a symbolic link.
    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Flushes a directory's entries (after a create or rename) to disk.
    static func syncDirectory(_ path: String) {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return }
        _ = durableSync(fd.rawValue)
        try? fd.close()
    }
}

/// Makes what was written to `descriptor` survive power loss: `fsync` on
/// Linux; on Apple platforms `fcntl(F_FULLFSYNC)`, because there `fsync` only
/// hands the data to the drive, whose cache may still lose it (fsync(2)),
/// falling back to `fsync` where the file system does not support it.
/// Returns what `fsync` returns (0, or -1 with `errno` set: EINVAL for a
/// descriptor that cannot be synced, such as a pipe).
package func durableSync(_ descriptor: CInt) -> CInt {
    #if canImport(Darwin)
    if fcntl(descriptor, F_FULLFSYNC) == 0 { return 0 }
    #endif
    return fsync(descriptor)
}
