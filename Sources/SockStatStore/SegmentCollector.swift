import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Something a collector met while reading, for a person: one line each.
public struct CollectionNote: Hashable, Sendable, CustomStringConvertible {
    /// What kind of thing it is.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A damaged region of a segment was skipped (its intact blocks were read).
        public static let damage = Kind("damage")
        /// A file is not a segment this reader can read (empty, bad magic,
        /// unsupported version or features, too large): none of it was read.
        public static let refused = Kind("refused")
        /// A file could not be read at all.
        public static let unreadable = Kind("unreadable")
        /// A file's header carries a sequence number already read from
        /// another file in this run (FORMAT.md 10.4): skipped whole.
        public static let duplicate = Kind("duplicate")
        /// A file is a segment that a rollup segment read in this run already
        /// holds (FORMAT.md 10.4; a recorder stopped between writing a
        /// rollup and deleting its source): skipped whole. Its events are
        /// in the rollup, so none is lost.
        public static let held = Kind("held")
        /// A segment ends in an incomplete block (a writer stopped mid-write):
        /// a clean end, not damage.
        public static let tornTail = Kind("torn tail")
        /// A collected segment was renamed instead of deleted.
        public static let setAside = Kind("set aside")
        /// A file a collector does not take (not named like a segment, or
        /// not this user's) was left as it is.
        public static let leftAlone = Kind("left alone")
        /// A directory holds no segments.
        public static let noSegments = Kind("no segments")

        public var description: String { name }
    }

    /// What kind of thing it is.
    public var kind: Kind
    /// The file (or directory) it concerns.
    public var path: String
    /// What happened, after the path: "offset 191: block checksum mismatch; skipped 118 bytes".
    public var message: String

    /// Creates a note.
    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// Whether events of the input did not reach the output because of it
    /// (`sockstat-convert` then exits 1).
    public var losesEvents: Bool {
        kind == .damage || kind == .refused || kind == .unreadable || kind == .duplicate
    }

    /// "PATH: message".
    public var description: String { "\(path): \(message)" }
}

/// One input of a read: a segment file, the first bytes of one (the
/// complete blocks of a segment being written), or standard input.
public enum SegmentInput: Hashable, Sendable {
    /// A whole segment file (or an export stream of several, FORMAT.md 16).
    case file(String)
    /// The first `bytes` bytes of a segment file.
    case prefix(String, bytes: Int)
    /// Standard input: one segment, or an export stream of several (FORMAT.md 16).
    case standardInput

    /// The name notes give it.
    public var path: String {
        switch self {
        case .file(let path), .prefix(let path, _): path
        case .standardInput: "-"
        }
    }
}

/// A segment a collection delivered.
public struct CollectedSegment: Hashable, Sendable {
    /// Where it was.
    public var path: String
    /// Events it gave.
    public var events: Int
    /// Damaged regions skipped in it.
    public var damage: Int
    /// The sequence number of its header, when the header is intact.
    public var sequence: UInt64?

    /// Describes a delivered segment.
    public init(path: String, events: Int, damage: Int, sequence: UInt64? = nil) {
        self.path = path
        self.events = events
        self.damage = damage
        self.sequence = sequence
    }
}

/// A segment's name in a run: its directory (normalized), its tier's
/// window (0 for recorded events) and its sequence number.
struct SegmentKey: Hashable {
    var directory: String
    var window: Int64
    var sequence: UInt64

    init(path: String, window: Int64, sequence: UInt64) {
        self.directory = Self.directory(of: path)
        self.window = window
        self.sequence = sequence
    }

    /// The directory part of `path`, normalized (`a/./x.sslog` and
    /// `a/y.sslog` are in one; a bare name is in `.`; standard input, `-`,
    /// is one of its own).
    static func directory(of path: String) -> String {
        guard path != "-" else { return "-" }
        let parent = FilePath(path).removingLastComponent().lexicallyNormalized().string
        return parent.isEmpty ? "." : parent
    }

    /// The name a note gives it: "segment 3", "1m segment 3".
    var description: String {
        window == 0 ? "segment \(sequence)" : "\(SegmentName.text(ofWindow: window)) segment \(sequence)"
    }
}

/// Reading and collecting segments: the one path under `sockstat-convert
/// decode` and `--consume`, and a recorder's `drain` and `read`, so that a
/// rule fixed here holds for all of them.
///
/// - Order and duplicates: files in `Spec/FORMAT.md` 10.4 order; a file
///   whose intact header carries a sequence number already read in this run
///   is skipped whole (reading), or set aside as `.sslog.duplicate`
///   (collecting: a copy, never delivered twice).
/// - Collecting takes only this user's files named like segments; each is
///   locked (a writer's open segment is skipped), decoded, handed to the
///   caller's delivery (which makes the output safe), and only then deleted,
///   or renamed `.sslog.damaged` when it had damage (its intact events were
///   delivered; the bytes are kept). A delivery that throws stops the
///   collection with that segment and the later ones kept: nothing is lost.
/// - Every damaged region, refused file and torn tail is a `CollectionNote`.
///
/// Generic over the output format (`DecodedBlockWriter`).
public struct SegmentCollector<Writer: DecodedBlockWriter> {
    /// Which events are written, by `t`.
    public var range: TimeRange
    /// Whether reading stops at the first note that loses events (`--strict`).
    public var stopsAtFirstLoss: Bool
    /// The decoder, and through it the output format.
    public private(set) var decoder: SegmentDecoder<Writer>
    /// Whether a note so far lost events.
    public private(set) var lostEvents = false
    /// Segments read in this run, by directory and sequence number (a
    /// sequence number names a segment within its directory, FORMAT.md
    /// 10.4), and where.
    private var seen: [SegmentKey: String] = [:]
    /// What the rollup segments of this run's inputs hold (FORMAT.md 10.4).
    private var holdings = RollupHoldings()
    /// Removes a file's name (test seam: a file system that refuses).
    package var unlinkFile: (String) -> CInt = { unlink($0) }

    /// Creates a collector writing through `writer`.
    public init(writer: Writer, range: TimeRange = TimeRange(), stopsAtFirstLoss: Bool = false) {
        decoder = SegmentDecoder(writer: writer)
        self.range = range
        self.stopsAtFirstLoss = stopsAtFirstLoss
    }

    // MARK: Inputs

    /// The inputs named by command-line `paths`: `-` is standard input, a
    /// directory its segments in 10.4 order (a note when it has none),
    /// anything else a segment file, which must open.
    ///
    /// - Throws: `StoreError` for a path that cannot be opened or listed,
    ///   before anything is read.
    public static func inputs(for paths: [String], notes: (CollectionNote) -> Void) throws(StoreError) -> [SegmentInput] {
        var inputs: [SegmentInput] = []
        for path in paths {
            if path == "-" {
                inputs.append(.standardInput)
            } else if SegmentDirectory.isDirectory(path) {
                let segments = try SegmentDirectory.segments(in: path)
                if segments.isEmpty { notes(CollectionNote(.noSegments, path: path, "no segments (*\(SegmentName.suffix)) in this directory")) }
                inputs.append(contentsOf: segments.map { .file($0.path) })
            } else {
                do {
                    try FileDescriptor.open(FilePath(path), .readOnly).close()
                } catch {
                    throw StoreError(.read, path: path, "cannot open", error as? Errno ?? .ioError)
                }
                inputs.append(.file(path))
            }
        }
        return inputs
    }

    // MARK: Reading

    /// Reads `inputs` in order, writing their events to `output`.
    ///
    /// - Returns: false when it stopped at a loss (`stopsAtFirstLoss`).
    /// - Throws: what `output`'s sink throws; nothing else.
    public mutating func read(_ inputs: [SegmentInput], to output: OutputBuffer, notes: (CollectionNote) -> Void) throws -> Bool {
        // What rollups hold is known from the headers before anything is
        // read, so that a held segment is skipped wherever it comes.
        noteHoldings(of: inputs)
        for input in inputs {
            let bytes: [UInt8]
            do {
                switch input {
                case .file(let path): bytes = try SegmentDirectory.read(path)
                case .prefix(let path, let count): bytes = try SegmentDirectory.read(path, prefix: count)
                case .standardInput: bytes = try SegmentDirectory.readStandardInput()
                }
            } catch {
                guard note(CollectionNote(.unreadable, path: input.path, error.reason), notes) else { return false }
                continue
            }
            // A file or standard input may be an export stream: several
            // segments back to back (FORMAT.md 16), each read in turn.
            let pieces = bytes.withUnsafeBytes { SegmentStream.pieces($0) }
            if pieces.count > 1 || input == .standardInput {
                for piece in pieces {
                    let name = piece.lowerBound == 0 ? input.path : "\(input.path) at byte \(piece.lowerBound)"
                    noteHoldings(of: Array(bytes[piece.lowerBound..<min(piece.upperBound, piece.lowerBound + FormatLimits.maxHeaderBytes)]),
                                 path: name, keyPath: input.path)
                }
            }
            for piece in pieces {
                let name = piece.lowerBound == 0 ? input.path : "\(input.path) at byte \(piece.lowerBound)"
                let segment = pieces.count == 1 ? bytes : Array(bytes[piece])
                _ = try read(segment, path: name, keyPath: input.path, resuming: nil, growing: false, to: output, notes: notes)
                if stopsAtFirstLoss, lostEvents { return false }
            }
        }
        return true
    }

    /// Reads one segment's bytes, named `path` in notes; nil when the file
    /// was refused or skipped as a duplicate.
    ///
    /// - Throws: what `output`'s sink throws.
    public mutating func read(_ bytes: [UInt8], path: String, to output: OutputBuffer,
                              notes: (CollectionNote) -> Void) throws -> SegmentDecoder<Writer>.Outcome? {
        try read(bytes, path: path, resuming: nil, growing: false, to: output, notes: notes)
    }

    /// Reads one segment's bytes, named `path` in notes, from where an
    /// earlier read of it stood (`resuming`, that read's
    /// `Outcome.resumption`; nil reads it from the start, as a new segment).
    /// While `growing` (a writer may still append to it) its end is not
    /// taken as the segment's: a torn tail is not noted, and damage that
    /// runs to the end is held back until more is written or the segment
    /// is read as closed (`SegmentDecoder.decode(_:resuming:growing:range:to:onDamage:)`).
    /// Nil when the file was refused or skipped as a duplicate.
    ///
    /// - Throws: what `output`'s sink throws.
    public mutating func read(_ bytes: [UInt8], path: String, resuming: SegmentReader.Resumption?, growing: Bool,
                              to output: OutputBuffer,
                              notes: (CollectionNote) -> Void) throws -> SegmentDecoder<Writer>.Outcome? {
        try read(bytes, path: path, keyPath: path, resuming: resuming, growing: growing, to: output, notes: notes)
    }

    /// Notes which segments the rollup segments among `inputs` hold (from
    /// their headers; standard input's pieces are noted when it is read),
    /// so that a held segment is skipped even when read before its holder:
    /// a caller reading the inputs of one run one at a time calls this
    /// with all of them first.
    public mutating func noteHoldings(of inputs: [SegmentInput]) {
        for input in inputs {
            switch input {
            case .file(let path), .prefix(let path, _):
                if let prefix = try? FileIO.readPrefix(path, count: FormatLimits.maxHeaderBytes) {
                    noteHoldings(of: prefix, path: path, keyPath: path)
                }
            case .standardInput: break
            }
        }
    }

    /// Notes what the segment starting with `header` holds, if it is a rollup.
    private mutating func noteHoldings(of header: [UInt8], path: String, keyPath: String) {
        if let rollup = header.withUnsafeBytes({ SegmentHeader.intactKey($0) })?.rollup {
            holdings.add(rollup, path: path, keyPath: keyPath)
        }
    }

    /// Reads one segment's bytes, named `path` in notes, in the directory
    /// of `keyPath` for duplicates (a piece of a stream is in its file's).
    mutating func read(_ bytes: [UInt8], path: String, keyPath: String, resuming: SegmentReader.Resumption?, growing: Bool,
                       to output: OutputBuffer,
                       notes: (CollectionNote) -> Void) throws -> SegmentDecoder<Writer>.Outcome? {
        // A segment read before (resumed) is checked for duplicates once, when first read.
        let intact = resuming != nil ? nil : bytes.withUnsafeBytes({ SegmentHeader.intactKey($0) })
        let key = intact.map { SegmentKey(path: keyPath, window: $0.rollup?.window ?? 0, sequence: $0.sequence) }
        if resuming == nil, !holdings.isEmpty,
           let named = key ?? FilePath(path).lastComponent.flatMap({ SegmentName.parse($0.string) })
               .map({ SegmentKey(path: keyPath, window: $0.window, sequence: $0.sequence) }),
           let holder = holdings.holder(window: named.window, sequence: named.sequence, keyPath: keyPath, path: path) {
            notes(CollectionNote(.held, path: path, "\(named.description) is already rolled up into \(holder); skipped"))
            return nil
        }
        if let key, let first = seen[key] {
            _ = note(CollectionNote(.duplicate, path: path, "\(key.description) already read from \(first); skipped"), notes)
            return nil
        }
        // What this rollup holds as read, not only as listed: a recorder
        // may have rewritten it since (a newer tail holds one more source,
        // which may still be there when it comes to be read).
        if let rollup = intact?.rollup { holdings.add(rollup, path: path, keyPath: keyPath) }
        let stops = stopsAtFirstLoss
        var damageNotes: [CollectionNote] = []
        let outcome: SegmentDecoder<Writer>.Outcome
        // The tier a damaged header no longer says, from the file's name.
        let namedWindow = FilePath(path).lastComponent.flatMap({ SegmentName.parse($0.string) })?.window ?? 0
        do {
            outcome = try decoder.decode(bytes, resuming: resuming, growing: growing, range: range, namedWindow: namedWindow,
                                         to: output) { damage in
                damageNotes.append(CollectionNote(.damage, path: path, damage.description))
                notes(damageNotes[damageNotes.count - 1])
                return !stops
            }
        } catch let error as SegmentError {
            _ = note(CollectionNote(.refused, path: path, error.description), notes)
            return nil
        }
        if !damageNotes.isEmpty { lostEvents = true }
        if let key { seen[key] = path }
        if outcome.tornTail > 0, !growing {
            let what = outcome.zeroFilledTail ? "zero-filled tail" : "incomplete last block"
            notes(CollectionNote(.tornTail, path: path,
                                 "offset \(bytes.count - outcome.tornTail): \(what) (torn write), \(outcome.tornTail) bytes ignored"))
        }
        return outcome
    }

    /// Records and passes on a note; returns whether to go on.
    mutating func note(_ note: CollectionNote, _ notes: (CollectionNote) -> Void) -> Bool {
        if note.losesEvents { lostEvents = true }
        notes(note)
        return !(stopsAtFirstLoss && note.losesEvents)
    }

    // MARK: Collecting

    /// Collects the closed segments of `directory`, oldest first: each is
    /// decoded into `output`, handed to `deliver`, and then deleted (or set
    /// aside when it had damage, or was a copy of one already delivered).
    ///
    /// - Parameters:
    ///   - deliver: makes the segment's output safe (flush and sync a file;
    ///     hand the bytes to an app's sink). When it throws, the collection
    ///     stops: that segment and the later ones stay where they are.
    /// - Returns: the segments delivered, in order.
    /// - Throws: what `deliver` throws; `StoreError` when the directory
    ///   cannot be listed or written (checked before anything is delivered),
    ///   or when a delivered segment could be neither deleted nor set aside
    ///   (the collection stops there: a later one will deliver it again).
    public mutating func collect(from directory: String, to output: OutputBuffer,
                                 deliver: (CollectedSegment) throws -> Void,
                                 notes: (CollectionNote) -> Void) throws -> [CollectedSegment] {
        try collect(from: directory, to: output, deliverBytes: { segment, _ in try deliver(segment) }, notes: notes)
    }

    /// Collects the closed segments of `directory` as `collect(from:to:deliver:notes:)`
    /// does, handing `deliver` each claimed segment's bytes as well (an
    /// export ships them; its decoding into `output` is then a check that
    /// counts events and finds damage). The one collecting loop: drain,
    /// `--consume` and export all go through it.
    ///
    /// - Parameters:
    ///   - deliverBytes: gets the segment and its bytes, exactly as read
    ///     under the claim; when it throws, the collection stops there and
    ///     that segment and the later ones stay where they are.
    public mutating func collect(from directory: String, to output: OutputBuffer,
                                 deliverBytes: (CollectedSegment, [UInt8]) throws -> Void,
                                 notes: (CollectionNote) -> Void) throws -> [CollectedSegment] {
        // A segment delivered and then not deletable would be delivered
        // again: a directory this user cannot write is refused first.
        guard access(directory, W_OK | X_OK) == 0 else {
            throw StoreError(.write, path: directory, "cannot take segments from this directory", Errno(rawValue: errno))
        }
        var delivered: [CollectedSegment] = []
        for file in try SegmentDirectory.segments(in: directory) {
            guard file.isCollectable else {
                notes(CollectionNote(.leftAlone, path: file.path, "left alone: not named like a segment, or not this user's"))
                continue
            }
            if let holder = file.heldBy {
                // Its events are in a rollup: never delivered twice. The
                // recorder, which stopped before deleting it, deletes it.
                notes(CollectionNote(.held, path: file.path, "already rolled up into \(holder); left for the recorder"))
                continue
            }
            // The open segment is locked by its writer, and a file another
            // collector took is gone: both are skipped.
            guard let claimed = SegmentDirectory.claim(file.path, unlinking: unlinkFile) else { continue }
            defer { claimed.release() }
            if let window = file.window, let sequence = file.sequence,
               let holder = SegmentDirectory.currentHolder(window: window, sequence: sequence, in: directory, path: file.path) {
                // Rolled up since the listing, by a recorder stopped before it deleted it.
                notes(CollectionNote(.held, path: file.path, "already rolled up into \(holder); left for the recorder"))
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try claimed.read()
            } catch {
                _ = note(CollectionNote(.unreadable, path: file.path, error.reason), notes)
                continue
            }
            let intact = bytes.withUnsafeBytes({ SegmentHeader.intactKey($0) })
            let sequence = intact?.sequence
            if let intact, case let key = SegmentKey(path: file.path, window: intact.rollup?.window ?? 0, sequence: intact.sequence),
               let first = seen[key] {
                // A copy of a segment this run delivered: never delivered twice.
                let aside = try claimed.set(aside: .duplicate)
                _ = note(CollectionNote(.duplicate, path: file.path,
                                        "\(key.description) already read from \(first); set aside as \(aside ?? "(gone)")"), notes)
                continue
            }
            guard let outcome = try read(bytes, path: file.path, to: output, notes: notes) else {
                // Not a segment this reader reads (a newer version, say):
                // not delivered, not deleted; retention ages it out.
                continue
            }
            let segment = CollectedSegment(path: file.path, events: outcome.events, damage: outcome.damage, sequence: sequence)
            try deliverBytes(segment, bytes)
            delivered.append(segment)
            if outcome.damage > 0 {
                do {
                    if let aside = try claimed.set(aside: .damaged) {
                        notes(CollectionNote(.setAside, path: file.path, "kept as \(aside)"))
                    }
                } catch {
                    // Its intact events are delivered: deleting it loses only
                    // the damaged bytes, where keeping it would deliver again.
                    try claimed.remove()
                    notes(CollectionNote(.setAside, path: file.path, "deleted, as it cannot be kept aside (\(error.reason))"))
                }
            } else {
                do {
                    try claimed.remove()
                } catch {
                    if let aside = try claimed.set(aside: .delivered) {
                        notes(CollectionNote(.setAside, path: file.path, "delivered but not deletable (\(error.reason)): kept as \(aside)"))
                    }
                }
            }
        }
        return delivered
    }

    /// Writes what the output format holds back until the end of the run.
    public mutating func finish(to output: OutputBuffer) throws {
        try decoder.writer.finish(to: output)
    }
}

extension SegmentCollector where Writer == CanonicalJSONBlockWriter {
    /// Creates a collector writing canonical JSON lines.
    public init(range: TimeRange = TimeRange(), stopsAtFirstLoss: Bool = false) {
        self.init(writer: CanonicalJSONBlockWriter(), range: range, stopsAtFirstLoss: stopsAtFirstLoss)
    }
}

// Not Sendable: its SegmentDecoder is not.
@available(*, unavailable)
extension SegmentCollector: Sendable {}

/// Writes nothing and counts the events of each block in range: the check
/// an export makes of the segments it ships as bytes (events counted,
/// damage found), without formatting a line.
public struct EventCountingBlockWriter: DecodedBlockWriter, Sendable {
    /// Creates a writer that only counts.
    public init() {}

    /// Counts the events of `block` whose `t` is in `range`; writes nothing.
    public mutating func write(_ block: DecodedBlock, to output: OutputBuffer, range: TimeRange) throws -> Int {
        guard !range.isEverything else { return block.eventCount }
        var count = 0
        for index in 0..<block.eventCount where range.contains(block.time(at: index)) { count += 1 }
        return count
    }
}
