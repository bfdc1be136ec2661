#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import SystemPackage

/// Why this host's interface counters could not be read, and from where.
public struct InterfaceCountersError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it was.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The file could not be opened (missing, no permission).
        public static let cannotOpen = Code("cannotOpen")
        /// Reading the open file failed.
        public static let cannotRead = Code("cannotRead")
        /// The file is larger than the reader accepts.
        public static let tooLarge = Code("tooLarge")

        /// The code's name.
        public var description: String { name }
    }

    /// The file that could not be read.
    public let path: String
    /// What kind of problem it was.
    public let code: Code
    /// A one-line lowercase explanation.
    public let reason: String

    init(path: String, code: Code, reason: String) {
        self.path = path
        self.code = code
        self.reason = reason
    }

    /// "PATH: reason".
    public var description: String {
        "\(path): \(reason)"
    }
}

/// This Linux host's network interfaces as counters: label = interface name,
/// tx = bytes transmitted, rx = bytes received, from `/proc/net/dev`.
///
/// The snapshot is cellular when the interface of the default IPv4 route
/// (`/proc/net/route`: destination 0, flag RTF_UP, lowest metric, first on a
/// tie) matches one of `Options.cellularPatterns`.
///
/// Reads are meant for one poller at a time, but `Sendable` requires safety
/// anyway, so the reusable state sits behind a mutex. Once the buffers have
/// grown and the interfaces are known, a read allocates nothing: the files
/// are read into kept buffers, parsed as bytes (`ProcNetDev`,
/// `ProcNetRoute`), and an interface's `Label` from the previous read is
/// reused when its name bytes are unchanged.
public final class InterfaceCounters: CounterSource {
    /// Where to read and how to classify interfaces.
    public struct Options: Sendable, Hashable {
        /// The interface statistics file.
        public var devicesPath: String = "/proc/net/dev"
        /// The IPv4 routing table; missing or unreadable means not cellular.
        public var routesPath: String = "/proc/net/route"
        /// Default-route interfaces matching one of these are cellular:
        /// `wwan*` (Linux WWAN), `rmnet*` (Qualcomm), `ccmni*` (MediaTek),
        /// `pdp_ip*` (Apple).
        public var cellularPatterns: [InterfacePattern] = ["wwan*", "rmnet*", "ccmni*", "pdp_ip*"]
        /// Interfaces matching one of these are not recorded (default:
        /// loopback `lo`).
        public var excludedPatterns: [InterfacePattern] = ["lo"]
        /// The largest file accepted, in bytes (default 64 MiB, hundreds of
        /// thousands of interfaces); a larger devices file is an error, a
        /// larger routes file means not cellular.
        public var maxFileBytes: Int = 64 << 20

        /// Creates the default options.
        public init() {}
    }

    /// The options this source was created with.
    public let options: Options
    private let state: Lock<InterfaceReaderState>

    /// Creates a source reading the files named in `options`.
    ///
    /// Nothing is read until the first `read(into:)`.
    ///
    /// - Parameter options: paths and patterns.
    public init(options: Options = Options()) {
        self.options = options
        state = Lock(InterfaceReaderState(options: options))
    }

    /// Replaces `snapshot` with the current counters of every interface not
    /// excluded, in the order of the devices file, and whether the default
    /// route is cellular.
    ///
    /// Lines of the devices file that cannot be parsed (no colon, an empty
    /// name, fewer than 9 numbers, a number over UInt64.max) are skipped, as
    /// is a name seen earlier in the same file (possible when an interface
    /// appears while the kernel pages the file out). A name longer than
    /// `FormatLimits.maxLabelBytes` (Linux allows 15 bytes, but the path is
    /// an option and the file may be anything) is left out too, and counted
    /// once in `CounterSnapshot.refusedLabels`.
    ///
    /// - Parameter snapshot: the snapshot to refill; on error it is left empty.
    /// - Throws: `InterfaceCountersError` when the devices file cannot be
    ///   opened or read, or is larger than `Options.maxFileBytes`.
    public func read(into snapshot: inout CounterSnapshot) throws(InterfaceCountersError) {
        snapshot.removeAll()
        try state.withLock { (state: inout InterfaceReaderState) throws(InterfaceCountersError) in
            try state.read(options: options, into: &snapshot)
        }
    }

    /// The interfaces the reads so far met, each once in the order first
    /// met: an interface that appeared mid-run counts, one that went away
    /// stays.
    public struct Seen: Hashable, Sendable {
        /// Interfaces recorded (their counters read).
        public var watched: [String] = []
        /// Interfaces left out by `Options.excludedPatterns`.
        public var excluded: [String] = []
    }

    /// The interfaces the reads so far met (for a closing summary: what
    /// was watched, and what was left out).
    public var seen: Seen {
        state.withLock { state in
            Seen(watched: state.watched.map(\.description),
                 excluded: state.excludedNames.map { String(decoding: $0, as: UTF8.self) })
        }
    }
}

/// The buffers and label cache kept between reads.
private struct InterfaceReaderState: Sendable {
    var devices: FileBuffer
    var routes: FileBuffer
    /// The labels recorded by the previous read, in file order, and whether
    /// this read has used each yet.
    var cached: [Label] = []
    var used: [Bool] = []
    /// The labels recorded by this read; becomes `cached` at the end.
    var recorded: [Label] = []
    /// The names this read found that were not cached, to catch repeats.
    var created: Set<Label> = []
    /// Names refused so far (too long to store), each counted once; past
    /// `maxRememberedRefusals`, refusals are counted each time they are met.
    var refusedNames: Set<[UInt8]> = []
    var refusalsNotRemembered = 0
    /// Every label recorded so far, in the order first met (`watched` as
    /// a set, to add each once). Grows only when an interface is new.
    var watched: [Label] = []
    var everWatched: Set<Label> = []
    /// Every excluded name met so far, in the order first met (a few; a
    /// poll compares bytes and allocates nothing once they are known).
    var excludedNames: [[UInt8]] = []
    static let maxRememberedRefusals = 4096

    init(options: Options) {
        devices = FileBuffer(path: options.devicesPath, initialCapacity: 16 << 10)
        routes = FileBuffer(path: options.routesPath, initialCapacity: 4 << 10)
    }

    mutating func read(options: Options, into snapshot: inout CounterSnapshot) throws(InterfaceCountersError) {
        let path = options.devicesPath
        let limit = options.maxFileBytes
        let count: Int
        switch devices.load(maxBytes: limit) {
        case .success(let loaded):
            count = loaded
        case .failure(.open(let errno)):
            throw InterfaceCountersError(path: path, code: .cannotOpen, reason: "cannot open: \(errno)")
        case .failure(.read(let errno)):
            throw InterfaceCountersError(path: path, code: .cannotRead, reason: "cannot read: \(errno)")
        case .failure(.tooLarge):
            throw InterfaceCountersError(path: path, code: .tooLarge, reason: "larger than \(limit) bytes")
        }
        // A second reference to the bytes (no copy: nothing writes them while
        // it lives) so that parsing can borrow them while `self` changes.
        let bytes = devices.bytes
        bytes.withUnsafeBufferPointer { buffer in
            parseDevices(UnsafeBufferPointer(rebasing: buffer[0..<count]), options: options, into: &snapshot)
        }
        snapshot.isCellular = defaultRouteIsCellular(options: options)
        snapshot.refusedLabels = refusedNames.count + refusalsNotRemembered
    }

    typealias Options = InterfaceCounters.Options

    private mutating func parseDevices(
        _ text: UnsafeBufferPointer<UInt8>,
        options: Options,
        into snapshot: inout CounterSnapshot
    ) {
        used.removeAll(keepingCapacity: true)
        used.append(contentsOf: repeatElement(false, count: cached.count))
        recorded.removeAll(keepingCapacity: true)
        created.removeAll(keepingCapacity: true)
        var hint = 0
        for entry in ProcNetDev.entries(in: text) {
            let name = text[entry.name]
            guard !options.excludedPatterns.contains(where: { $0.matches(name) }) else {
                if !excludedNames.contains(where: { $0.elementsEqual(name) }), excludedNames.count < Self.maxRememberedRefusals {
                    excludedNames.append(Array(name))
                }
                continue
            }
            // The format cannot store a longer label, and one such label in
            // a snapshot makes the recorder drop the whole event, every poll.
            guard name.count <= FormatLimits.maxLabelBytes else {
                if refusedNames.count < Self.maxRememberedRefusals {
                    refusedNames.insert(Array(name))
                } else if !refusedNames.contains(Array(name)) {
                    refusalsNotRemembered += 1
                }
                continue
            }
            let label: Label
            if let position = cachedPosition(of: name, hint: hint) {
                hint = position + 1
                guard !used[position] else { continue }
                used[position] = true
                label = cached[position]
            } else {
                // New since the last read (this allocates anyway). Skip a
                // name already recorded by this read: `used` cannot see
                // repeats of names that were not cached.
                label = Label(bytes: Array(name))
                guard created.insert(label).inserted else { continue }
                if everWatched.count < Self.maxRememberedRefusals, everWatched.insert(label).inserted { watched.append(label) }
            }
            recorded.append(label)
            snapshot.append(label, tx: entry.tx, rx: entry.rx)
        }
        swap(&cached, &recorded)
        // Drop the previous read's labels of interfaces that are gone.
        recorded.removeAll(keepingCapacity: true)
        created.removeAll(keepingCapacity: true)
    }

    /// Where `name` is in `cached`: interfaces keep their order from one read
    /// to the next, so the position after the previous match is tried first.
    private func cachedPosition(of name: Slice<UnsafeBufferPointer<UInt8>>, hint: Int) -> Int? {
        if hint < cached.count, cached[hint].bytes.elementsEqual(name) {
            return hint
        }
        return cached.firstIndex { $0.bytes.elementsEqual(name) }
    }

    /// Whether the default route's interface is cellular; false whenever the
    /// routes file cannot be read, as on hosts without IPv4.
    private mutating func defaultRouteIsCellular(options: Options) -> Bool {
        guard !options.cellularPatterns.isEmpty,
              case .success(let count) = routes.load(maxBytes: options.maxFileBytes)
        else { return false }
        let bytes = routes.bytes
        return bytes.withUnsafeBufferPointer { buffer in
            let text = UnsafeBufferPointer(rebasing: buffer[0..<count])
            guard let name = ProcNetRoute.defaultInterface(in: text) else { return false }
            return options.cellularPatterns.contains { $0.matches(text[name]) }
        }
    }
}

/// Why `FileBuffer.load` failed.
private enum LoadError: Error {
    case open(Errno)
    case read(Errno)
    case tooLarge
}

/// A whole small file read with open/read/close into a buffer kept for the
/// next read; the buffer doubles when a file does not fit.
private struct FileBuffer: Sendable {
    /// The path, NUL-terminated once here: passing a `String` to `open`
    /// would build a C string on every read.
    private let path: ContiguousArray<CChar>
    private(set) var bytes: [UInt8]

    init(path: String, initialCapacity: Int) {
        self.path = path.utf8CString
        bytes = [UInt8](repeating: 0, count: initialCapacity)
    }

    /// Reads the whole file into `bytes` and returns its length.
    mutating func load(maxBytes: Int) -> Result<Int, LoadError> {
        let fd = path.withUnsafeBufferPointer { open($0.baseAddress!, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return .failure(.open(Errno(rawValue: errno))) }
        defer { close(fd) }
        var count = 0
        while true {
            if count == bytes.count {
                // One byte past the limit shows whether the file exceeds it.
                guard count <= maxBytes else { return .failure(.tooLarge) }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, maxBytes + 1 - count)))
            }
            let filled = count
            let result = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if result < 0 {
                if errno == EINTR { continue }
                return .failure(.read(Errno(rawValue: errno)))
            }
            if result == 0 { break }
            count += result
        }
        guard count <= maxBytes else { return .failure(.tooLarge) }
        return .success(count)
    }
}
