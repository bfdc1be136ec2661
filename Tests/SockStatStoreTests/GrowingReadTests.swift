@testable import SockStatFormat
@testable import SockStatStore
import Testing

/// Reading a segment while it grows (`SegmentCollector.read(_:path:resuming:growing:to:notes:)`,
/// under `SegmentFollower`): what a follower sees of a segment being written.
struct GrowingReadTests {
    /// A closed segment of several blocks, and what reading it whole gives.
    private func segment() throws -> (bytes: [UInt8], lines: [UInt8]) {
        let scratch = try ScratchDirectory()
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = 1_000
        let writer = try SegmentLogWriter(directory: scratch.path, options: options)
        for index in 0..<60 {
            try writer.append(event(Int64(index) * 250, ["a": (UInt64(index), 1), "b\(index % 3)": (2, UInt64(index))]))
        }
        try writer.close()
        let file = try #require(try SegmentDirectory.segments(in: scratch.path).first)
        let bytes = try SegmentDirectory.read(file.path)
        var collector = SegmentCollector()
        var lines: [UInt8] = []
        let output = OutputBuffer { lines.append(contentsOf: $0) }
        _ = try collector.read(bytes, path: "whole", to: output, notes: { Issue.record("note: \($0)") })
        try output.flush()
        return (bytes, lines)
    }

    /// Every prefix a reader can meet (the header is always whole: a
    /// segment gets its name only then), read as growing, then the whole
    /// segment read on from where that stood, gives exactly the whole
    /// segment's lines, each once, and not a single note: a block cut
    /// anywhere is a write in progress, not damage.
    @Test func everyPrefixReadGrowingThenResumedGivesTheWholeSegmentOnce() throws {
        let (bytes, whole) = try segment()
        #expect(!whole.isEmpty)
        for cut in SegmentHeader.encodedSize...bytes.count {
            var collector = SegmentCollector()
            var lines: [UInt8] = []
            let output = OutputBuffer { lines.append(contentsOf: $0) }
            let first = try #require(try collector.read(Array(bytes[..<cut]), path: "growing", resuming: nil, growing: true,
                                                        to: output, notes: { Issue.record("cut \(cut): \($0)") }))
            let resumption = try #require(first.resumption)
            #expect(resumption.offset <= cut)
            let second = try #require(try collector.read(bytes, path: "growing", resuming: resumption, growing: false,
                                                         to: output, notes: { Issue.record("cut \(cut): \($0)") }))
            try output.flush()
            #expect(first.events + second.events == whole.split(separator: UInt8(ascii: "\n")).count)
            #expect(lines == whole, "cut \(cut)")
            #expect(!collector.lostEvents)
        }
    }

    /// Damage at the end of a growing segment is held back (it may be a
    /// block being written); once a valid block follows, it is reported
    /// with its offset and length, once.
    @Test func damageAtTheEndIsHeldBackUntilABlockFollowsIt() throws {
        let (bytes, _) = try segment()
        // The frames' offsets, from a plain walk of the segment.
        var starts: [Int] = []
        var reader = try SegmentReader(bytes: bytes)
        var block = DecodedBlock(), decoder = BlockDecoder()
        loop: while true {
            switch reader.next(into: &block, using: &decoder) {
            case .block(let offset): starts.append(offset)
            case .damage(let damage): Issue.record("\(damage)")
            case .end: break loop
            }
        }
        try #require(starts.count >= 4)
        var damaged = bytes
        damaged[starts[2] + 20] ^= 0x10
        var collector = SegmentCollector()
        let output = OutputBuffer { _ in }
        var notes: [CollectionNote] = []
        let held = try #require(try collector.read(Array(damaged[..<starts[3]]), path: "s", resuming: nil, growing: true,
                                                   to: output, notes: { notes.append($0) }))
        #expect(notes.isEmpty)
        #expect(held.resumption?.offset == starts[2])
        _ = try collector.read(Array(damaged[..<starts[4]]), path: "s", resuming: held.resumption, growing: true,
                               to: output, notes: { notes.append($0) })
        #expect(notes == [CollectionNote(.damage, path: "s",
                                         "offset \(starts[2]): block checksum mismatch; skipped \(starts[3] - starts[2]) bytes")])
        #expect(collector.lostEvents)
    }
}
