import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A segment file found in a directory.
public struct SegmentFile: Hashable, Sendable {
    /// Full path.
    public var path: String
    /// Sequence number from the file's header, or from its name when the
    /// header cannot be read.
    public var sequence: UInt64?
}

/// Finding and reading segments.
public enum SegmentDirectory {
    /// Whether `path` names a directory.
    public static func isDirectory(_ path: String) -> Bool {
        FileIO.isDirectory(path)
    }

    /// The segment files (`*.sslog`) in `directory`, in sequence order.
    ///
    /// Order (Spec 10.4): the sequence number of an intact header, else the
    /// number in a `sockstat-<20 digits>.sslog` name, else after all others;
    /// ties in bytewise name order. Other files are ignored.
    public static func segments(in directory: String) throws(StoreError) -> [SegmentFile] {
        let names = try FileIO.listDirectory(directory).filter { $0.hasSuffix(SegmentName.suffix) && !$0.hasPrefix(".") }
        var files: [SegmentFile] = []
        for name in names {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var sequence = SegmentName.sequence(fromFileName: name)
            if let prefix = try? FileIO.readPrefix(path, count: FormatLimits.maxHeaderBytes),
               let fromHeader = prefix.withUnsafeBytes({ SegmentHeader.intactSequence($0) }) {
                sequence = fromHeader
            }
            files.append(SegmentFile(path: path, sequence: sequence))
        }
        files.sort { lhs, rhs in
            switch (lhs.sequence, rhs.sequence) {
            case let (left?, right?) where left != right: return left < right
            case (nil, _?): return false
            case (_?, nil): return true
            default: return lhs.path.utf8.lexicographicallyPrecedes(rhs.path.utf8)
            }
        }
        return files
    }

    /// The names of every entry in `directory`.
    public static func fileNames(in directory: String) throws(StoreError) -> [String] {
        try FileIO.listDirectory(directory)
    }

    /// Reads a whole segment file (at most `FormatLimits.maxSegmentBytes`).
    public static func read(_ path: String) throws(StoreError) -> [UInt8] {
        try FileIO.readFile(path, limit: FormatLimits.maxSegmentBytes)
    }

    /// Takes a closed segment for collection: opens it and locks it, unless
    /// a writer holds it (the open segment). Returns nil when it is locked or
    /// gone. The caller reads it, deletes it, then releases it.
    public static func claim(_ path: String) -> ClaimedSegment? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
        guard flock(fd.rawValue, LOCK_EX | LOCK_NB) == 0 else {
            try? fd.close()
            return nil
        }
        // Another collector may have taken it (deleted or renamed it) between
        // our open and our lock: the locked file must still be the one named.
        var held = stat()
        var named = stat()
        guard fstat(fd.rawValue, &held) == 0, held.st_nlink > 0, stat(path, &named) == 0,
              held.st_dev == named.st_dev, held.st_ino == named.st_ino else {
            try? fd.close()
            return nil
        }
        return ClaimedSegment(path: path, descriptor: fd)
    }

    /// Reads one segment from standard input.
    public static func readStandardInput() throws(StoreError) -> [UInt8] {
        try FileIO.readAll(.standardInput, path: "-", limit: FormatLimits.maxSegmentBytes)
    }
}

/// A segment locked for collection (`SegmentDirectory.claim`).
public struct ClaimedSegment {
    /// Its path.
    public let path: String
    let descriptor: FileDescriptor

    /// Its bytes.
    public func read() throws(StoreError) -> [UInt8] {
        try FileIO.readAll(descriptor, path: path, limit: FormatLimits.maxSegmentBytes)
    }

    /// Deletes it (its output is safely written). Still held until `release()`.
    public func remove() throws(StoreError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StoreError(.write, path: path, "cannot delete", Errno(rawValue: errno))
        }
    }

    /// Renames it to `path` + `suffix` (kept for inspection, no longer a
    /// segment to readers). Still held until `release()`.
    public func set(aside suffix: String) throws(StoreError) {
        // Never over an earlier set-aside file: numbering restarts once a directory is emptied.
        var target = path + suffix
        var attempt = 1
        while link(path, target) != 0 {
            guard errno == EEXIST, attempt < 1000 else {
                throw StoreError(.write, path: path, "cannot set aside", Errno(rawValue: errno))
            }
            attempt += 1
            target = path + suffix + "." + String(attempt)
        }
        _ = unlink(path)
    }

    /// Releases it (closes the file and so drops the lock). Call once.
    public func release() {
        try? descriptor.close()
    }
}
