import Foundation
import SockStatFormat
@testable import SockStatRecorder
import SockStatStore
import Synchronization
import Testing
import TestSupport

struct ExportTests {
    struct SinkFailure: Error {}

    let drain = DrainTests()

    /// The canonical JSON lines of exported segments, decoded one by one as
    /// the receiving end would, with every note they raise.
    func lines(of segments: [ExportedSegment]) throws -> (lines: [Substring], notes: [CollectionNote]) {
        var text: [UInt8] = []
        var notes: [CollectionNote] = []
        let output = OutputBuffer { text.append(contentsOf: $0) }
        var collector = SegmentCollector()
        for segment in segments {
            _ = try collector.read(segment.bytes, path: segment.name, to: output) { notes.append($0) }
        }
        try output.flush()
        return (String(decoding: text, as: UTF8.self).split(separator: "\n"), notes)
    }

    func closedSegments(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sslog") }
    }

    @Test func anExportShipsEverySegmentOnceAsItsBytesAndDeletesIt() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<3_000)
        // What a drain would have given, read without deleting.
        var expected = Data()
        try recorder.read { expected.append(contentsOf: $0) }
        var shipped: [ExportedSegment] = []
        let summary = try recorder.export { shipped.append($0) }
        #expect(summary.segments == shipped.count)
        #expect(shipped.count > 1)
        let decoded = try lines(of: shipped)
        #expect(decoded.notes.isEmpty)
        #expect(decoded.lines == String(decoding: expected, as: UTF8.self).split(separator: "\n"))
        #expect(summary.events == decoded.lines.count)
        let sequences = shipped.compactMap(\.sequence)
        #expect(sequences.count == shipped.count && sequences == sequences.sorted() && Set(sequences).count == sequences.count)
        #expect(shipped.allSatisfy { $0.name == SegmentName.fileName(sequence: $0.sequence!) })
        // Shipped is gone: what is left is at most the new open segment.
        #expect(try closedSegments(directory.path).count <= 1)
        #expect(try recorder.export { shipped.append($0) }.events == 0)
        #expect(recorder.shutdown())
    }

    @Test func aSinkThatFailsMidwayLosesNothingAndShipsNothingTwice() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<3_000)
        var accepted: [ExportedSegment] = []
        var calls = 0
        #expect(throws: SinkFailure.self) {
            try recorder.export { segment in
                calls += 1
                if calls == 3 { throw SinkFailure() }
                accepted.append(segment)
            }
        }
        #expect(accepted.count == 2)
        try recorder.export { accepted.append($0) }
        let sequences = accepted.compactMap(\.sequence)
        #expect(Set(sequences).count == accepted.count, "no segment twice")
        let decoded = try lines(of: accepted)
        #expect(decoded.lines.count == 2_999)
        #expect(Set(decoded.lines).count == decoded.lines.count, "no event twice")
        #expect(recorder.shutdown())
    }

    @Test func aDamagedSegmentIsShippedAsItIsAndSetAside() throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<3_000)
        #expect(recorder.shutdown())
        let names = try closedSegments(directory.path).sorted()
        #expect(names.count > 2)
        // One byte flipped in the middle of the second segment's blocks.
        let victim = directory.path + "/" + names[1]
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: victim)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: victim))

        var shipped: [ExportedSegment] = []
        let summary = try recorder.export { shipped.append($0) }
        #expect(shipped.count == names.count)
        #expect(summary.damage == 1)
        #expect(shipped[1].bytes == bytes, "shipped as it is")
        #expect(shipped[1].damage == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left == [names[1] + ".damaged"])
        // The other end reads its intact blocks and says where the damage is.
        let decoded = try lines(of: shipped)
        #expect(decoded.notes.map(\.kind) == [.damage])
        #expect(decoded.lines.count == summary.events)
    }

    /// Exports run while the recorder polls on its own thread: the open
    /// segment is never taken (every shipped segment is whole), and the
    /// bytes shipped add up exactly to what was counted.
    @Test func exportingWhileTheRecorderWritesNeverTakesTheOpenSegment() throws {
        let directory = TemporaryDirectory()
        let counters = InProcessCounters()
        var options = RecorderOptions(directory: directory.path)
        options.pollIntervalMilliseconds = 5
        options.flushIntervalMilliseconds = 20
        options.maxSegmentBytes = 4096
        options.maxTotalBytes = 64 << 20
        let recorder = try Recorder(source: counters, options: options)
        recorder.start()
        usleep(20_000)
        let counter = try counters.counter(for: "api")
        let adding = Atomic<Bool>(true)
        DispatchQueue.global().async {
            for index in 0..<UInt64(3_000) {
                counter.add(sent: index % 5 + 1, received: 1)
                usleep(100)
            }
            adding.store(false, ordering: .releasing)
        }
        var shipped: [ExportedSegment] = []
        var exports = 0
        while adding.load(ordering: .acquiring) {
            try recorder.export { shipped.append($0) }
            exports += 1
            usleep(5_000)
        }
        usleep(30_000)  // let the poller see the last adds
        #expect(recorder.shutdown())
        try recorder.export { shipped.append($0) }
        #expect(exports > 2 && shipped.count > 2)
        let decoded = try lines(of: shipped)
        #expect(decoded.notes.isEmpty, "no torn tail: no open segment was shipped")
        let sequences = shipped.compactMap(\.sequence)
        #expect(sequences == sequences.sorted() && Set(sequences).count == shipped.count)
        var sent: UInt64 = 0, received: UInt64 = 0
        let parser = JSONLinesParser()
        for (number, line) in decoded.lines.enumerated() {
            let event = try #require(try parser.parse(Array(line.utf8), lineNumber: number + 1))
            for entry in event.counts {
                sent += entry.tx
                received += entry.rx
            }
        }
        #expect(sent == counter.sent)
        #expect(received == counter.received)
        #expect(try closedSegments(directory.path).isEmpty)
    }

    /// A stream splits exactly where each segment starts (FORMAT.md 16),
    /// whatever lies between them: here random junk, which is read as damage.
    @Test(arguments: 1...8)
    func aStreamSplitsAtEverySegmentHeader(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let source = ScriptedSource()
        let recorder = try drain.makeRecorder(directory, source)
        drain.record(recorder, source, ticks: 0..<2_000)
        var shipped: [ExportedSegment] = []
        try recorder.export { shipped.append($0) }
        #expect(recorder.shutdown())
        var random = TestRandom(seed: seed)
        var stream: [UInt8] = []
        var starts: [Int] = []
        for segment in shipped {
            if random.oneIn(2) { stream += random.bytes(random.below(300)) }
            // The magic's own bytes just before a header must not fool the search.
            if random.oneIn(3) { stream += SegmentHeader.magic.prefix(random.below(8)) }
            starts.append(stream.count)
            stream += segment.bytes
        }
        let pieces = stream.withUnsafeBytes { SegmentStream.pieces($0) }
        let expected = starts.first == 0 ? starts : [0] + starts
        #expect(pieces.map(\.lowerBound) == expected)
        #expect(pieces.last?.upperBound == stream.count)
    }
}
