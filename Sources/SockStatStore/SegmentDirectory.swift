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
    /// The window of its rollup tier, 0 for recorded events, from where
    /// `sequence` came from (header, else name); nil when `sequence` is.
    public var window: Int64?
    /// Its rollup tier, when its header is intact and says it is one.
    public var rollup: RollupTier?
    /// The rollup segment of the same directory that already holds its
    /// events (`Spec/FORMAT.md` 10.4): a reader skips it, a collector
    /// leaves it for the recorder, which deletes it.
    public var heldBy: String?
    /// Whether a collector may take it: named like a segment
    /// (`sockstat-<20 digits>.sslog`, or a rollup tier's name) and owned by
    /// this user. Drains, `decode --consume` and retention touch no other file.
    public var isCollectable: Bool
}

/// Which segments the rollup segments of a run hold (`Spec/FORMAT.md`
/// 10.4): each intact rollup header holds its source tier's segments
/// `firstSource ... lastSource` of its own directory.
struct RollupHoldings {
    private struct Tier: Hashable {
        var directory: String
        var window: Int64
    }
    private var holders: [Tier: [(sources: ClosedRange<UInt64>, path: String)]] = [:]

    var isEmpty: Bool { holders.isEmpty }

    /// Notes that the segment at `path` (in the directory of `keyPath`) holds what `rollup` says.
    mutating func add(_ rollup: RollupTier, path: String, keyPath: String) {
        let tier = Tier(directory: SegmentKey.directory(of: keyPath), window: rollup.sourceWindow)
        // Noted once however often its header is looked at; a tail
        // rewritten in between holds what it held and more.
        if let index = holders[tier]?.firstIndex(where: { $0.path == path }), let known = holders[tier]?[index].sources {
            holders[tier]?[index].sources = min(known.lowerBound, rollup.sources.lowerBound)...max(known.upperBound, rollup.sources.upperBound)
            return
        }
        holders[tier, default: []].append((rollup.sources, path))
    }

    /// The rollup segment holding segment `sequence` of tier `window` in
    /// the directory of `keyPath`, other than `path` itself; nil when none does.
    func holder(window: Int64, sequence: UInt64, keyPath: String, path: String) -> String? {
        let tier = Tier(directory: SegmentKey.directory(of: keyPath), window: window)
        return holders[tier]?.first(where: { $0.sources.contains(sequence) && $0.path != path })?.path
    }
}

/// Finding and reading segments.
public enum SegmentDirectory: Sendable {
    /// Whether `path` names a directory.
    public static func isDirectory(_ path: String) -> Bool {
        FileIO.isDirectory(path)
    }

    /// The segment files (`*.sslog`, regular files not starting with `.`) in
    /// `directory`, in `Spec/FORMAT.md` 10.4 order, each with the rollup
    /// segment that holds it, if one does.
    ///
    /// Order: by key, the window and sequence number of an intact header,
    /// else those of a segment's name, else after all others: coarse tiers
    /// first (longer windows before shorter), the recorded events last,
    /// each by sequence number; ties in bytewise name order. Other files are ignored.
    public static func segments(in directory: String) throws(StoreError) -> [SegmentFile] {
        let names = try FileIO.listDirectory(directory).filter { $0.hasSuffix(SegmentName.suffix) && !$0.hasPrefix(".") }
        let me = geteuid()
        var files: [SegmentFile] = []
        var holdings = RollupHoldings()
        for name in names {
            let path = Self.path(of: name, in: directory)
            // Files only (a symbolic link to one counts); a directory named
            // like a segment is not one.
            var target = stat()
            guard stat(path, &target) == 0, (target.st_mode & S_IFMT) == S_IFREG else { continue }
            let named = SegmentName.parse(name)
            var file = SegmentFile(path: path, sequence: named?.sequence, window: named?.window, rollup: nil, heldBy: nil,
                                   isCollectable: false)
            if let prefix = try? FileIO.readPrefix(path, count: FormatLimits.maxHeaderBytes),
               let key = prefix.withUnsafeBytes({ SegmentHeader.intactKey($0) }) {
                file.sequence = key.sequence
                file.window = key.rollup?.window ?? 0
                file.rollup = key.rollup
                if let rollup = key.rollup { holdings.add(rollup, path: path, keyPath: path) }
            }
            var info = stat()
            let ours = lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_uid == me
            file.isCollectable = ours && named != nil
            files.append(file)
        }
        if !holdings.isEmpty {
            for index in files.indices {
                guard let window = files[index].window, let sequence = files[index].sequence else { continue }
                files[index].heldBy = holdings.holder(window: window, sequence: sequence, keyPath: files[index].path,
                                                      path: files[index].path)
            }
        }
        files.sort(by: readsBefore)
        return files
    }

    /// The rollup segment of `directory` that holds segment `sequence` of
    /// the tier with `window` now, other than `path`; nil when none does.
    /// Only rollup tier names of longer windows are looked at (a recorder
    /// writes no other holder). A collector asks this again once it has
    /// claimed a segment: a rollup renames its holder into place before it
    /// lets go of its source, so a holder written since the listing (a
    /// recorder killed before deleting the source) is found here.
    public static func currentHolder(window: Int64, sequence: UInt64, in directory: String, path: String) -> String? {
        var holdings = RollupHoldings()
        for name in (try? FileIO.listDirectory(directory)) ?? [] where !name.hasPrefix(".") {
            guard let parsed = SegmentName.parse(name), parsed.window > window else { continue }
            let candidate = Self.path(of: name, in: directory)
            if let prefix = try? FileIO.readPrefix(candidate, count: FormatLimits.maxHeaderBytes),
               let rollup = prefix.withUnsafeBytes({ SegmentHeader.intactKey($0) })?.rollup {
                holdings.add(rollup, path: candidate, keyPath: candidate)
            }
        }
        return holdings.holder(window: window, sequence: sequence, keyPath: path, path: path)
    }

    /// `Spec/FORMAT.md` 10.4 order.
    static func readsBefore(_ lhs: SegmentFile, _ rhs: SegmentFile) -> Bool {
        func key(_ file: SegmentFile) -> (window: Int64, sequence: UInt64)? {
            guard let window = file.window, let sequence = file.sequence else { return nil }
            return (window, sequence)
        }
        switch (key(lhs), key(rhs)) {
        case let (left?, right?) where left != right:
            return left.window != right.window ? left.window > right.window : left.sequence < right.sequence
        case (nil, _?): return false
        case (_?, nil): return true
        default: return lhs.path.utf8.lexicographicallyPrecedes(rhs.path.utf8)
        }
    }

    /// The size in bytes of the file at `path` (following a symbolic
    /// link), or nil when it cannot be looked at.
    public static func fileSize(_ path: String) -> Int? {
        FileIO.fileSize(path)
    }

    /// Whether anything exists at `path`.
    public static func exists(_ path: String) -> Bool {
        FileIO.exists(path)
    }

    /// `directory` + "/" + `name`, without doubling a trailing slash: the one
    /// way paths of segments are made, so the writer's and a listing's agree.
    public static func path(of name: String, in directory: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The names of every entry in `directory`.
    public static func fileNames(in directory: String) throws(StoreError) -> [String] {
        try FileIO.listDirectory(directory)
    }

    /// Reads a whole segment file (at most `FormatLimits.maxSegmentBytes`).
    public static func read(_ path: String) throws(StoreError) -> [UInt8] {
        try FileIO.readFile(path, limit: FormatLimits.maxSegmentBytes)
    }

    /// Reads the first `count` bytes of a segment file (the complete blocks
    /// of one being written, whose size the writer gave).
    public static func read(_ path: String, prefix count: Int) throws(StoreError) -> [UInt8] {
        try FileIO.readPrefix(path, count: min(count, FormatLimits.maxSegmentBytes))
    }

    /// Reads standard input whole: one segment or an export stream (FORMAT.md 16).
    public static func readStandardInput() throws(StoreError) -> [UInt8] {
        try FileIO.readAll(.standardInput, path: "-", limit: FormatLimits.maxSegmentBytes)
    }

    /// Takes a closed segment for collection: opens it and locks it, unless
    /// a writer holds it (the open segment). Returns nil when it is locked or
    /// gone. The caller reads it, removes it or sets it aside, then releases it.
    public static func claim(_ path: String) -> ClaimedSegment? {
        claim(path, unlinking: { unlink($0) })
    }

    /// `claim(_:)`, removing names with `unlinkFile` (a test seam for a
    /// file system that refuses).
    static func claim(_ path: String, unlinking unlinkFile: @escaping (String) -> CInt) -> ClaimedSegment? {
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
        return ClaimedSegment(path: path, descriptor: fd, unlinkFile: unlinkFile)
    }

    /// What a collector renames a segment it took but did not delete.
    public enum SetAside: String, CaseIterable, Sendable {
        /// It had damage: its intact events were delivered, its bytes are
        /// kept for inspection.
        case damaged
        /// It was delivered but could not be deleted.
        case delivered
        /// Its header holds a sequence number already delivered from
        /// another file in the same collection (a copy).
        case duplicate
    }

    /// The sequence number of a set-aside file's name
    /// (`sockstat-<20 digits>.sslog.<kind>`, or a rollup tier's name, then
    /// optionally `.<n>`), nil for other names.
    public static func setAsideSequence(fromFileName name: String) -> UInt64? {
        setAsideSegment(fromFileName: name)?.sequence
    }

    /// The segment name a set-aside file's name starts with, parsed
    /// (`SegmentName.parse`); nil for names that are not a set-aside segment's.
    public static func setAsideSegment(fromFileName name: String) -> SegmentName.Parsed? {
        let bytes = Array(name.utf8)
        let suffix = Array(SegmentName.suffix.utf8)
        // The segment name ends at the first ".sslog" followed by ".".
        var start = 0
        while start + suffix.count < bytes.count,
              !(bytes[start..<(start + suffix.count)].elementsEqual(suffix) && bytes[start + suffix.count] == UInt8(ascii: ".")) {
            start += 1
        }
        let end = start + suffix.count
        guard end < bytes.count, let segment = SegmentName.parse(String(decoding: bytes[..<end], as: UTF8.self)) else { return nil }
        let rest = bytes[end...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        // "", kind, and optionally a number: ".damaged", ".damaged.2".
        guard rest.count == 2 || rest.count == 3, rest[0].isEmpty,
              SetAside(rawValue: String(decoding: rest[1], as: UTF8.self)) != nil else { return nil }
        if rest.count == 3 {
            guard !rest[2].isEmpty, rest[2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        }
        return segment
    }
}

/// A segment locked for collection (`SegmentDirectory.claim`).
public struct ClaimedSegment {
    /// Its path.
    public let path: String
    let descriptor: FileDescriptor
    let unlinkFile: (String) -> CInt

    /// Its bytes.
    public func read() throws(StoreError) -> [UInt8] {
        try FileIO.readAll(descriptor, path: path, limit: FormatLimits.maxSegmentBytes)
    }

    /// Deletes it (its output is safely written). Still held until `release()`.
    public func remove() throws(StoreError) {
        guard unlinkFile(path) == 0 || errno == ENOENT else {
            throw StoreError(.write, path: path, "cannot delete", Errno(rawValue: errno))
        }
    }

    /// Renames it `path.sslog.<kind>` (`.<kind>.2`, … when taken), so that
    /// no reader or collector takes it as a segment again. Still held until
    /// `release()`.
    ///
    /// - Returns: the new path, or nil when the file was already gone
    ///   (retention deleted it meanwhile: it will not be taken again either).
    /// - Throws: `StoreError` when it cannot be renamed; it then keeps its
    ///   name (never two names), and the caller must say so: a collector
    ///   will take it again.
    public func set(aside kind: SegmentDirectory.SetAside) throws(StoreError) -> String? {
        // link, unlike rename, never replaces an earlier set-aside file
        // (numbering restarts once a directory is emptied). On a file system
        // without hard links, rename to a name that was free a moment ago.
        var target = path + "." + kind.rawValue
        var attempt = 1
        while link(path, target) != 0 {
            let failure = errno
            if failure == ENOENT { return nil }
            if failure == EPERM || failure == ENOTSUP || failure == EOPNOTSUPP || failure == EMLINK {
                var existing = stat()
                if lstat(target, &existing) != 0, errno == ENOENT {
                    guard rename(path, target) == 0 else {
                        if errno == ENOENT { return nil }
                        throw StoreError(.write, path: path, "cannot set aside as \(target)", Errno(rawValue: errno))
                    }
                    return target
                }
            } else if failure != EEXIST {
                throw StoreError(.write, path: path, "cannot set aside as \(target)", Errno(rawValue: failure))
            }
            guard attempt < 1000 else {
                throw StoreError(.write, path: path, "cannot set aside: \(target) and 999 others are taken")
            }
            attempt += 1
            target = path + "." + kind.rawValue + "." + String(attempt)
        }
        guard unlinkFile(path) == 0 || errno == ENOENT else {
            let failure = Errno(rawValue: errno)
            // Not two names for one segment: undo the link.
            _ = unlinkFile(target)
            throw StoreError(.write, path: path, "cannot set aside (cannot remove its name)", failure)
        }
        return target
    }

    /// Releases it (closes the file and so drops the lock). Call once.
    public func release() {
        try? descriptor.close()
    }
}

// Not Sendable: it holds the lock of the file it claimed, for the thread collecting it.
@available(*, unavailable)
extension ClaimedSegment: Sendable {}

extension SegmentDirectory {
    /// Opens a segment to read later: what it holds now, even if it is
    /// renamed over or deleted meanwhile (a rollup rewriting a tier's tail,
    /// retention deleting a source it rolled up), so that a reader that
    /// opens every file of a listing at one moment reads that moment's log.
    /// Nil when it cannot be opened (gone already).
    public static func open(_ path: String) -> OpenedSegment? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
        return OpenedSegment(path: path, descriptor: fd)
    }
}

/// A segment opened to be read later (`SegmentDirectory.open(_:)`). A
/// class: it closes its file when released.
public final class OpenedSegment {
    /// Its path when it was opened.
    public let path: String
    private let descriptor: FileDescriptor

    init(path: String, descriptor: FileDescriptor) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { try? descriptor.close() }

    /// Its bytes, from the start: all of them (at most
    /// `FormatLimits.maxSegmentBytes`), or the first `prefix` (the complete
    /// blocks of a segment being written, whose size the writer gave).
    public func read(prefix: Int? = nil) throws(StoreError) -> [UInt8] {
        guard lseek(descriptor.rawValue, 0, SEEK_SET) == 0 else {
            throw StoreError(.read, path: path, "cannot seek", Errno(rawValue: errno))
        }
        var bytes = try FileIO.readAll(descriptor, path: path, limit: FormatLimits.maxSegmentBytes)
        if let prefix, bytes.count > prefix { bytes.removeLast(bytes.count - prefix) }
        return bytes
    }
}

// Not Sendable: it owns an open file, for the thread reading it.
@available(*, unavailable)
extension OpenedSegment: Sendable {}
