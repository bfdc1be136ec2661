import Foundation
import SockStatFormat
import SockStatStore
import Testing
import TestSupport

// The damage sweep of issue 5: a small log of three segments of a few blocks
// each, damaged in every way a disk, a transfer or a hand can damage it. Every
// case is read back through the library (`SegmentDirectory` and
// `SegmentJSONDecoder`, the loop `sockstat-convert` runs) and checked for the
// properties the format promises (Spec/GUARANTEES.md):
//   - reading ends (the suite has a time limit), nothing traps;
//   - the output is an in-order subset of the original events, whole blocks
//     only, never an invented or altered event;
//   - exactly the blocks the damage touches are lost (derived from the frame
//     offsets and the rules of Spec/FORMAT.md section 10, not written by hand);
//   - every damaged region is reported with its file and offset, and every
//     report points at bytes that were damaged;
//   - the outcome (exit 0 or 1) is the documented one.
// A few cases of each kind also go through the real `sockstat-convert`, which
// must print the same events, report the same regions and exit as documented.

/// The log every case damages, built once with the library's writer.
struct SweepLog: Sendable {
    struct Block: Sendable {
        /// Index of the file (segment) in `names`.
        var file: Int
        /// The frame's bytes in that file.
        var frame: Range<Int>
        /// The block's events, as indices into `lines`.
        var lines: Range<Int>
    }

    /// File names, in sequence order.
    var names: [String]
    /// Each file's bytes.
    var files: [[UInt8]]
    /// Every block, in log order.
    var blocks: [Block]
    /// The canonical JSON line (newline included) of every event given to the writer, in order.
    var lines: [[UInt8]]

    func blocks(inFile file: Int) -> [Int] {
        blocks.indices.filter { blocks[$0].file == file }
    }

    static let shared: SweepLog = {
        do { return try build() } catch { fatalError("cannot build the sweep log: \(error)") }
    }()

    static func build() throws -> SweepLog {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sockstat-sweep-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = 1_000
        options.maxSegmentBytes = 380
        let writer = try SegmentLogWriter(directory: directory, options: options)
        let labels = ["8", "2", "wlan0", "rmnet_data0", "dns", "é", "a\"b"]
        var events: [Event] = []
        var random = TestRandom(seed: 5)
        for index in 0..<36 {
            var counts: [LabelCounts] = []
            for (position, label) in labels.enumerated() where position == index % labels.count || (index % 2 == 0 && position == (index * 3 + 1) % labels.count) {
                counts.append(LabelCounts(label: Label(label), tx: random.next() % 2_000, rx: random.next() % 9_000))
            }
            counts.sort { $0.label < $1.label }
            // Distinct times: every event (and so every line) is unique.
            events.append(Event(time: 1_764_288_000_000 + Int64(index) * 250, duration: 100 + Int64(index % 3),
                                isCellular: index % 5 == 4, counts: counts))
        }
        for event in events { try writer.append(event) }
        try writer.close()

        let lines = events.map { CanonicalJSON.line(for: $0) }
        var lineIndex: [[UInt8]: Int] = [:]
        for (index, line) in lines.enumerated() { lineIndex[line] = index }
        let segments = try SegmentDirectory.segments(in: directory)
        var log = SweepLog(names: [], files: [], blocks: [], lines: lines)
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        for segment in segments {
            let bytes = try SegmentDirectory.read(segment.path)
            log.names.append(String(segment.path.split(separator: "/").last!))
            log.files.append(bytes)
            var reader = try SegmentReader(bytes: bytes)
            loop: while true {
                switch reader.next(into: &block, using: &decoder) {
                case .block(let offset):
                    guard case .valid(let payload) = bytes.withUnsafeBytes({ BlockFrame.probe($0, at: offset) }) else {
                        fatalError("block without a valid frame")
                    }
                    let indices = block.events.map { lineIndex[CanonicalJSON.line(for: $0)]! }
                    log.blocks.append(Block(file: log.files.count - 1, frame: offset..<payload.upperBound,
                                            lines: indices.first!..<(indices.last! + 1)))
                case .damage(let damage): fatalError("fresh log damaged: \(damage)")
                case .end: break loop
                }
            }
        }
        return log
    }
}

/// One way of damaging the log.
enum DamageKind: Hashable, Sendable {
    case flipHeaderBit(file: Int, bit: Int)
    case flipBlockBit(block: Int, bit: Int)
    case truncate(file: Int, at: Int)
    case zeroRun(file: Int, start: Int, length: Int)
    case appendJunk(file: Int, junk: Junk)
    case swapBlocks(first: Int)
    case duplicateBlock(block: Int, atEnd: Bool)
    case moveBlock(block: Int, toFile: Int)
    case deleteFile(Int)

    enum Junk: String, Hashable, Sendable, CaseIterable {
        case text, random, zeros, markerPrefix, frameHeaderPastTheEnd, frameFromAnotherSegment, copyOfLastFrame
    }
}

struct DamageCase: Sendable, CustomTestStringConvertible {
    var kind: DamageKind
    /// Also run through `sockstat-convert` (a few of each kind).
    var throughTheTool = false
    var testDescription: String { "\(kind)" }
}

/// A damaged directory and what the rules of the format say reading it gives.
struct DamagedLog {
    /// Name and bytes of each file present.
    var files: [(name: String, bytes: [UInt8])]
    /// Regions of each file that were changed, in its new coordinates.
    var changed: [String: [Range<Int>]] = [:]
    /// The blocks that must be lost.
    var lost: Set<Int>
    /// Where each lost block's bytes now are, if still anywhere.
    var lostAt: [Int: (file: String, range: Range<Int>)] = [:]
    /// Whether the read is incomplete (exit 1) rather than complete (exit 0).
    var incomplete: Bool
}

/// What reading one file found.
struct FileRead {
    var name: String
    var size: Int
    var refused: SegmentError?
    var damage: [Damage] = []
    var tornTail = 0
    var lines: [[UInt8]] = []
    /// For `--strict`: the lines this file gave before its first damage.
    var linesBeforeFirstDamage: Int?
}

enum Sweep {
    static let log = SweepLog.shared

    /// The directory of the damaged log, as the library reads it: files
    /// listed and ordered by `SegmentDirectory`, each decoded by `SegmentJSONDecoder`.
    static func read(directory: String) throws -> [FileRead] {
        try SegmentDirectory.segments(in: directory).map { segment in
            (name: String(segment.path.split(separator: "/").last!), bytes: try SegmentDirectory.read(segment.path))
        }.map { read(name: $0.name, bytes: $0.bytes) }
    }

    /// The damaged files decoded in memory in the order given (the bulk of
    /// the sweep: writing thousands of directories would take most of a minute).
    static func read(files: [(name: String, bytes: [UInt8])]) -> [FileRead] {
        files.map { read(name: $0.name, bytes: $0.bytes) }
    }

    static func read(name: String, bytes: [UInt8]) -> FileRead {
        var decoder = SegmentJSONDecoder()
        var result = FileRead(name: name, size: bytes.count)
        final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
        let sink = Sink()
        let output = OutputBuffer { sink.bytes.append(contentsOf: $0) }
        do {
            let outcome = try decoder.decode(bytes, to: output) { damage in
                result.damage.append(damage)
                if result.linesBeforeFirstDamage == nil {
                    try? output.flush()
                    result.linesBeforeFirstDamage = sink.bytes.split(separator: UInt8(ascii: "\n")).count
                }
                return true
            }
            try output.flush()
            result.tornTail = outcome.tornTail
            #expect(outcome.damage == result.damage.count)
        } catch let error as SegmentError {
            result.refused = error
        } catch {
            Issue.record("unexpected \(error)")
        }
        result.lines = sink.bytes.split(separator: UInt8(ascii: "\n")).map { Array($0) + [UInt8(ascii: "\n")] }
        return result
    }

    // MARK: Damaging, and what the format's rules say it costs

    static func damage(_ kind: DamageKind) -> DamagedLog {
        var files = log.files
        var names = log.names
        var changed: [Int: [Range<Int>]] = [:]
        var lost = Set<Int>()
        var lostAt: [Int: (Int, Range<Int>)] = [:]
        var incomplete = false

        /// Same-length edits: lost blocks follow from the bytes that changed (sections 4, 10.1).
        func sameLength(_ file: Int, _ edit: (inout [UInt8]) -> Void) {
            var bytes = files[file]
            edit(&bytes)
            let positions = bytes.indices.filter { bytes[$0] != files[file][$0] }
            files[file] = bytes
            changed[file] = positions.map { $0..<($0 + 1) }
            guard !positions.isEmpty else { incomplete = false; return }
            if positions.contains(where: { $0 < SegmentHeader.magic.count }) {
                // Bad magic: not a segment, nothing in it is read (section 4 step 2).
                for block in log.blocks(inFile: file) { lost.insert(block); lostAt[block] = (file, log.blocks[block].frame) }
                incomplete = true
                return
            }
            let touched = log.blocks(inFile: file).filter { block in positions.contains { log.blocks[block].frame.contains($0) } }
            for block in touched { lost.insert(block); lostAt[block] = (file, log.blocks[block].frame) }
            if positions.contains(where: { $0 < SegmentHeader.encodedSize }) {
                incomplete = true  // header damage is reported; blocks are still read (10.3)
                return
            }
            // The reader reaches the first touched frame; what follows it decides (10.1):
            // all zeros, or an incomplete frame with nothing valid after it, is a torn tail.
            let start = log.blocks[touched.first!].frame.lowerBound
            let rest = Array(bytes[start...])
            let laterIntact = log.blocks(inFile: file).contains { $0 > touched.first! && !touched.contains($0) }
            incomplete = !(rest.allSatisfy { $0 == 0 } || (!laterIntact && isIncompleteFrame(rest)))
        }

        switch kind {
        case .flipHeaderBit(let file, let bit):
            sameLength(file) { $0[bit / 8] ^= UInt8(1 << (bit % 8)) }
        case .flipBlockBit(let block, let bit):
            let frame = log.blocks[block].frame
            sameLength(log.blocks[block].file) { $0[frame.lowerBound + bit / 8] ^= UInt8(1 << (bit % 8)) }
        case .zeroRun(let file, let start, let length):
            sameLength(file) { bytes in
                for index in start..<min(start + length, bytes.count) { bytes[index] = 0 }
            }
        case .truncate(let file, let offset):
            files[file].removeSubrange(offset...)
            for block in log.blocks(inFile: file) where log.blocks[block].frame.upperBound > offset {
                lost.insert(block)
                if log.blocks[block].frame.lowerBound < offset {
                    lostAt[block] = (file, log.blocks[block].frame.lowerBound..<offset)
                }
            }
            if offset < SegmentHeader.encodedSize {
                // Empty: not a segment; shorter than a header: header damage, no blocks.
                for block in log.blocks(inFile: file) { lost.insert(block) }
                changed[file] = [0..<max(offset, 1)]
                incomplete = true
            } else {
                incomplete = false  // a cut frame is a torn tail, a clean end
            }
        case .appendJunk(let file, let junk):
            let old = files[file].count
            let bytes = junkBytes(junk, file: file)
            files[file] += bytes
            changed[file] = [old..<files[file].count]
            incomplete = !(bytes.allSatisfy { $0 == 0 } || isIncompleteFrame(bytes))
        case .swapBlocks(let first):
            // The second comes first now; the first is out of order, reported and skipped (10.2).
            let a = log.blocks[first], b = log.blocks[first + 1]
            let file = a.file
            files[file].replaceSubrange(a.frame.lowerBound..<b.frame.upperBound,
                                        with: Array(log.files[file][b.frame]) + Array(log.files[file][a.frame]))
            changed[file] = [a.frame.lowerBound..<b.frame.upperBound]
            lost = [first]
            let moved = a.frame.lowerBound + b.frame.count
            lostAt[first] = (file, moved..<(moved + a.frame.count))
            incomplete = true
        case .duplicateBlock(let block, let atEnd):
            let frame = log.blocks[block].frame
            let file = log.blocks[block].file
            let at = atEnd ? files[file].count : frame.upperBound
            files[file].insert(contentsOf: log.files[file][frame], at: at)
            changed[file] = [at..<(at + frame.count)]
            incomplete = true
        case .moveBlock(let block, let target):
            let frame = log.blocks[block].frame
            let file = log.blocks[block].file
            let old = files[target].count
            files[target] += log.files[file][frame]
            files[file].removeSubrange(frame)
            changed[target] = [old..<files[target].count]
            lost = [block]
            lostAt[block] = (target, old..<files[target].count)
            incomplete = true
        case .deleteFile(let file):
            // Segments leave by retention and collection all the time: a missing
            // one is not damage, and nothing reports it (Spec/GUARANTEES.md).
            lost = Set(log.blocks(inFile: file))
            files.remove(at: file)
            names.remove(at: file)
            incomplete = false
            let present = zip(names, files).map { (name: $0, bytes: $1) }
            return DamagedLog(files: present, lost: lost, incomplete: incomplete)
        }
        return DamagedLog(
            files: zip(names, files).map { (name: $0, bytes: $1) },
            changed: Dictionary(uniqueKeysWithValues: changed.map { (names[$0.key], $0.value) }),
            lost: lost,
            lostAt: lostAt.mapValues { (names[$0.0], $0.1) },
            incomplete: incomplete)
    }

    /// Whether `bytes` are the start of a frame cut short (FORMAT.md 10.1's "incomplete").
    static func isIncompleteFrame(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, zip(bytes, BlockFrame.marker).allSatisfy({ $0 == $1 }) else { return false }
        guard bytes.count >= 8 else { return true }
        let length = (0..<4).reduce(0) { $0 | Int(bytes[4 + $1]) << (8 * $1) }
        guard length >= 1, length <= FormatLimits.maxStoredBlockBytes else { return false }
        if bytes.count >= BlockFrame.headerSize {
            // The header check, when all of it is there, must hold.
            let check = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[12 + $1]) << (8 * $1) }
            guard Array(bytes[0..<12]).withUnsafeBytes({ CRC32.checksum($0) }) == check else { return false }
        }
        return BlockFrame.headerSize + length > bytes.count
    }

    /// A frame header that holds, for `storedLength` bytes that do not follow.
    static func frameHeader(storedLength: UInt32) -> [UInt8] {
        var header = BlockFrame.marker
        withUnsafeBytes(of: storedLength.littleEndian) { header += $0 }
        header += [9, 9, 9, 9]
        let check = header.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: check.littleEndian) { header += $0 }
        return header
    }

    static func junkBytes(_ junk: DamageKind.Junk, file: Int) -> [UInt8] {
        let lastBlock = log.blocks(inFile: file).last!
        switch junk {
        case .text: return Array("{\"t\":1,\"d\":2,\"s\":{}}\nnot a block\n".utf8)
        case .random:
            var random = TestRandom(seed: UInt64(file) + 99)
            return (0..<97).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case .zeros: return [UInt8](repeating: 0, count: 37)
        case .markerPrefix: return Array(BlockFrame.marker.prefix(3))
        case .frameHeaderPastTheEnd: return frameHeader(storedLength: 1000) + [1, 2, 3, 4, 5, 6]
        case .frameFromAnotherSegment:
            let other = log.blocks.first { $0.file != file }!
            return Array(log.files[other.file][other.frame])
        case .copyOfLastFrame:
            return Array(log.files[file][log.blocks[lastBlock].frame])
        }
    }

    // MARK: The cases

    static let cases: [DamageCase] = {
        var cases: [DamageCase] = []
        let middle = 1, last = log.files.count - 1
        func add(_ kind: DamageKind, tool: Bool = false) { cases.append(DamageCase(kind: kind, throughTheTool: tool)) }
        // Every bit of the middle segment's header.
        for bit in 0..<(SegmentHeader.encodedSize * 8) {
            add(.flipHeaderBit(file: middle, bit: bit), tool: bit == 3 || bit == 8 * 21 + 2)
        }
        // Every bit of one block inside the middle segment, and of the log's very last block.
        let inner = log.blocks(inFile: middle)[1]
        let final = log.blocks.count - 1
        for block in [inner, final] {
            for bit in 0..<(log.blocks[block].frame.count * 8) {
                add(.flipBlockBit(block: block, bit: bit), tool: bit == 8 * 20 + 5 && block == inner || bit == 8 * 5 && block == final)
            }
        }
        // Every truncation of the middle and the last segment.
        for file in [middle, last] {
            for offset in 0..<log.files[file].count {
                add(.truncate(file: file, at: offset), tool: file == last && (offset == 20 || offset == log.blocks[final].frame.lowerBound + 30))
            }
        }
        // Zeroed runs of several lengths across the middle segment, and to its end.
        for length in [1, 3, 8, 13, 64] {
            for start in stride(from: 0, to: log.files[middle].count, by: 5) {
                add(.zeroRun(file: middle, start: start, length: length), tool: length == 13 && start == 100)
            }
        }
        for block in log.blocks(inFile: middle) + log.blocks(inFile: last) {
            let frame = log.blocks[block].frame
            for start in [frame.lowerBound, frame.lowerBound + 6, frame.lowerBound + 20] {
                add(.zeroRun(file: log.blocks[block].file, start: start, length: Int.max / 2),
                    tool: block == final && start == frame.lowerBound)
            }
        }
        for file in [middle, last] {
            for junk in DamageKind.Junk.allCases { add(.appendJunk(file: file, junk: junk), tool: file == last) }
        }
        for first in log.blocks.indices.dropLast() where log.blocks[first].file == log.blocks[first + 1].file {
            add(.swapBlocks(first: first), tool: first == inner)
        }
        for block in log.blocks.indices {
            add(.duplicateBlock(block: block, atEnd: false), tool: block == inner)
            add(.duplicateBlock(block: block, atEnd: true))
        }
        add(.moveBlock(block: 0, toFile: last), tool: true)
        add(.moveBlock(block: final, toFile: 0))
        for file in log.files.indices { add(.deleteFile(file), tool: file == middle) }
        return cases
    }()

    static var toolCases: [DamageCase] { cases.filter(\.throughTheTool) }

    /// Writes the damaged files to a fresh directory.
    static func writeDirectory(_ damaged: DamagedLog) throws -> URL {
        let directory = try Tool.temporaryDirectory()
        for file in damaged.files {
            try Data(file.bytes).write(to: directory.appendingPathComponent(file.name))
        }
        return directory
    }
}

@Suite(.timeLimit(.minutes(3)))  // a hang fails; a loaded machine does not
struct DamageSweepTests {
    @Test func theLogHasSeveralSegmentsOfSeveralBlocksAndReadsBackWhole() throws {
        let log = Sweep.log
        #expect(log.files.count >= 3)
        for file in log.files.indices { #expect(log.blocks(inFile: file).count >= 3, "segment \(file)") }
        let directory = try Sweep.writeDirectory(DamagedLog(files: zip(log.names, log.files).map { ($0, $1) }, lost: [], incomplete: false))
        defer { try? FileManager.default.removeItem(at: directory) }
        let read = try Sweep.read(directory: directory.path)
        #expect(read.flatMap(\.lines) == log.lines)
        #expect(read.allSatisfy { $0.damage.isEmpty && $0.refused == nil && $0.tornTail == 0 })
        #expect(Sweep.cases.count > 2_000)
    }

    @Test(arguments: Sweep.cases)
    func damageCostsOnlyTheBlocksItTouchesAndIsReported(_ damageCase: DamageCase) throws {
        let log = Sweep.log
        let damaged = Sweep.damage(damageCase.kind)
        let read = Sweep.read(files: damaged.files)

        // The output is an in-order subset of the original events, whole blocks only.
        var lineIndex: [[UInt8]: Int] = [:]
        for (index, line) in log.lines.enumerated() { lineIndex[line] = index }
        let output = read.flatMap(\.lines)
        let indices = output.map { lineIndex[$0] }
        #expect(indices.allSatisfy { $0 != nil }, "an event came out that was never written")
        let known = indices.compactMap { $0 }
        #expect(zip(known, known.dropFirst()).allSatisfy { $0 < $1 }, "events out of order or repeated")
        let present = Set(known)
        var lost = Set<Int>()
        for (number, block) in log.blocks.enumerated() {
            let kept = block.lines.filter(present.contains).count
            #expect(kept == 0 || kept == block.lines.count, "block \(number) came out in part")
            if kept == 0 { lost.insert(number) }
        }
        // Exactly the blocks the damage touches are lost.
        #expect(lost == damaged.lost, "lost \(lost.sorted()), expected \(damaged.lost.sorted())")

        // Every report names a region that was damaged; regions do not overlap.
        for file in read {
            var previousEnd = 0
            for region in file.damage.map({ $0.offset..<($0.offset + $0.length) }) {
                #expect(!region.isEmpty && region.lowerBound >= previousEnd && region.upperBound <= file.size - file.tornTail,
                        "\(file.name): bad region \(region)")
                previousEnd = region.upperBound
                let changed = damaged.changed[file.name] ?? []
                #expect(changed.contains { $0.overlaps(region) }, "\(file.name): \(region) reported, but nothing there was damaged")
            }
        }
        // Every lost block still present in a file lies in a reported region, the torn tail, or a refused file.
        for (block, place) in damaged.lostAt {
            guard let file = read.first(where: { $0.name == place.file }) else {
                Issue.record("file \(place.file) not read")
                continue
            }
            let tail = (file.size - file.tornTail)..<file.size
            let covered = file.refused != nil || tail.overlaps(place.range)
                || file.damage.contains { ($0.offset..<($0.offset + $0.length)).overlaps(place.range) }
            #expect(covered, "block \(block) lost without a report in \(file.name)")
        }
        // The outcome is the documented one: incomplete (exit 1) exactly when damage was reported.
        let incomplete = read.contains { !$0.damage.isEmpty || $0.refused != nil }
        #expect(incomplete == damaged.incomplete)
    }

    /// A few cases of each kind through the real `sockstat-convert`: same
    /// events, each region reported with file and offset, the documented exit
    /// status; and with `--strict`, exit 2 after the events before the damage.
    @Test(arguments: Sweep.toolCases)
    func theConverterPrintsTheSameEventsReportsEachRegionAndExitsAsDocumented(_ damageCase: DamageCase) throws {
        let damaged = Sweep.damage(damageCase.kind)
        let directory = try Sweep.writeDirectory(damaged)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Listed and ordered by SegmentDirectory, the files are read in sequence
        // order whatever the damage (their names carry it), as in memory.
        let read = try Sweep.read(directory: directory.path)
        #expect(read.map(\.name) == damaged.files.map(\.name))
        #expect(read.map(\.lines) == Sweep.read(files: damaged.files).map(\.lines))

        let run = try Tool.run([directory.path])
        #expect(run.stdout == Data(read.flatMap(\.lines).joined()))
        #expect(run.exitCode == (damaged.incomplete ? 1 : 0), "\(run.stderrText)")
        var expectedLines: [String] = []
        for file in read {
            let path = directory.path + "/" + file.name
            if let refused = file.refused { expectedLines.append("sockstat-convert: \(path): \(refused)") }
            for damage in file.damage { expectedLines.append("sockstat-convert: \(path): \(damage)") }
            if file.tornTail > 0 {
                let offset = file.size - file.tornTail
                expectedLines.append("sockstat-convert: \(path): offset \(offset): ")
            }
        }
        let stderrLines = run.stderrText.split(separator: "\n").map(String.init)
        #expect(stderrLines.count == expectedLines.count, "\(run.stderrText)")
        for (line, expected) in zip(stderrLines, expectedLines) {
            #expect(line.hasPrefix(expected), "\(line) is not \(expected)…")
        }

        let strict = try Tool.run(["--strict", directory.path])
        if let first = read.firstIndex(where: { !$0.damage.isEmpty || $0.refused != nil }) {
            #expect(strict.exitCode == 2)
            let before = read[..<first].flatMap(\.lines) + read[first].lines.prefix(read[first].linesBeforeFirstDamage ?? 0)
            #expect(strict.stdout == Data(before.joined()))
        } else {
            #expect(strict.exitCode == 0)
            #expect(strict.stdout == run.stdout)
        }
    }
}

