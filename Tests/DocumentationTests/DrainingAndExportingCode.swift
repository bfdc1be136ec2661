import SockStatRecorder
import Testing
import TestSupport

// The code of the article "Draining and exporting"
// (Sources/SockStatRecorder/SockStatRecorder.docc/DrainingAndExporting.md);
// ArticleCodeTests checks that each of its code blocks appears here.

/// Why an upload failed.
private struct UploadFailed: Error {}

/// A recorder with `segments` closed segments, each with one event of
/// `sent` bytes under "api", and no open segment.
private func recorder(in directory: String, segments: Int, sent: UInt64) throws -> Recorder {
    let counters = InProcessCounters()
    let api = try counters.counter(for: "api")
    let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory))
    recorder.poll()
    for _ in 0..<segments {
        api.add(sent: sent)
        recorder.poll()
        // An export closes the open segment first; refusing every segment
        // then leaves it (and the earlier ones) closed in the directory.
        _ = try? recorder.export { _ in throw UploadFailed() }
    }
    return recorder
}

@Suite struct DrainingAndExportingTests {
    @Test func aDrainHandsOverEveryEventAndDeletesWhatItHandedOver() throws {
        let temporary = TemporaryDirectory()
        let recorder = try recorder(in: temporary.path, segments: 3, sent: 100)

        var lines: [UInt8] = []
        let summary = try recorder.drain { chunk in
            lines.append(contentsOf: chunk)
        }
        print("\(summary.events) events from \(summary.segments) segments")

        #expect(summary.segments == 3 && summary.events == 3)
        #expect(try RecordedTotals(jsonLines: lines).byLabel == ["api": Totals(sent: 300)])
        var again = 0
        try recorder.drain { again += $0.count }
        #expect(again == 0)
    }

    @Test func aFailedUploadLeavesItsSegmentForTheNextDrain() throws {
        let temporary = TemporaryDirectory()
        let recorder = try recorder(in: temporary.path, segments: 2, sent: 7)
        var uploads = 0
        func upload(_ lines: [UInt8]) throws {
            uploads += 1
            if uploads == 2 { throw UploadFailed() }
        }

        #expect(throws: UploadFailed.self) {
            try recorder.drain { chunk in
                try upload(Array(chunk))   // if it throws, this segment and the later ones stay
            }
        }

        var lines: [UInt8] = []
        let rest = try recorder.drain { lines.append(contentsOf: $0) }
        #expect(rest.segments == 1)
        #expect(try RecordedTotals(jsonLines: lines).byLabel == ["api": Totals(sent: 7)])
    }

    @Test func aReadDeletesNothing() throws {
        let temporary = TemporaryDirectory()
        let recorder = try recorder(in: temporary.path, segments: 2, sent: 5)
        var shown: [UInt8] = []
        func show(_ chunk: UnsafeRawBufferPointer) { shown.append(contentsOf: chunk) }

        try recorder.read { chunk in show(chunk) }

        var drained: [UInt8] = []
        try recorder.drain { drained.append(contentsOf: $0) }
        #expect(!shown.isEmpty && shown == drained)
    }

    @Test func anExportShipsTheSegmentsAsTheyAreOnDisk() throws {
        let temporary = TemporaryDirectory()
        let recorder = try recorder(in: temporary.path, segments: 3, sent: 40)

        var stream: [UInt8] = []
        let summary = try recorder.export { segment in
            stream.append(contentsOf: segment.bytes)   // back to back: an export stream
        }

        #expect(summary.segments == 3 && summary.events == 3)
        // A segment's magic (Spec/FORMAT.md section 4) starts the stream.
        #expect(stream.starts(with: [0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]))
        var left = 0
        try recorder.drain { left += $0.count }
        #expect(left == 0)
    }
}
