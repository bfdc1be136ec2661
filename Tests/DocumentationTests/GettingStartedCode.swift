import SockStatRecorder
import Testing
import TestSupport

// The code of the article "Getting started in an app"
// (Sources/SockStatRecorder/SockStatRecorder.docc/GettingStarted.md); each of
// its code blocks appears here line for line (ArticleCodeTests checks that),
// and these tests run it.

/// Sizes of the requests and responses an imagined app exchanges.
private let requests = [[UInt8]](repeating: [UInt8](repeating: 1, count: 300), count: 3)
private let responses = [[UInt8]](repeating: [UInt8](repeating: 2, count: 1200), count: 3)

@Suite struct GettingStartedTests {
    @Test func theRecordedEventsAddUpToWhatTheAppCounted() throws {
        let temporary = TemporaryDirectory()
        let directory = temporary.path

        let counters = InProcessCounters()
        let api = try counters.counter(for: "api")
        let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory))
        recorder.start()

        for (request, response) in zip(requests, responses) {
            api.add(sent: UInt64(request.count))
            // … the request goes out, the response comes back …
            api.add(received: UInt64(response.count))
        }

        let finished = recorder.shutdown()

        #expect(finished)
        var lines: [UInt8] = []
        try recorder.drain { lines.append(contentsOf: $0) }
        let recorded = try RecordedTotals(jsonLines: lines)
        let expected = Totals(sent: UInt64(requests.joined().count), received: UInt64(responses.joined().count))
        #expect(recorded.byLabel == ["api": expected])
    }

    @Test func theRetentionOptionsAreOnesARecorderAccepts() throws {
        let temporary = TemporaryDirectory()
        let directory = temporary.path

        var options = RecorderOptions(directory: directory)
        options.maxSegmentBytes = 64 * 1024               // rotate every 64 KiB
        options.maxTotalBytes = 1024 * 1024               // keep at most 1 MiB of segments
        options.maxAgeMilliseconds = 7 * 24 * 3_600_000   // and none older than a week
        if let problem = options.problem {
            print("cannot record: \(problem)")
        }

        #expect(options.problem == nil)
        let recorder = try Recorder(source: InProcessCounters(), options: options)
        #expect(recorder.options == options)
        recorder.shutdown()
    }

    @Test func cellularAndPausedRecordingAreWhatTheRecorderSays() throws {
        let temporary = TemporaryDirectory()
        let counters = InProcessCounters()
        let api = try counters.counter(for: "api")
        let recorder = try Recorder(source: counters, options: RecorderOptions(directory: temporary.path))
        recorder.poll()

        counters.isCellular = true     // the app's path is now cellular
        api.add(sent: 10)
        recorder.poll()
        recorder.isEnabled = false     // the user turned recording off: the buffered block is written
        api.add(sent: 99)              // not recorded
        recorder.poll()
        let metrics = recorder.metrics
        print("\(metrics.events) events, \(metrics.bytes) bytes, \(metrics.labelsRefused) labels refused")

        #expect(metrics.events == 1)
        recorder.shutdown()
        var lines: [UInt8] = []
        try recorder.drain { lines.append(contentsOf: $0) }
        let recorded = try RecordedTotals(jsonLines: lines)
        #expect(recorded.byLabel == ["api": Totals(sent: 10)])
        #expect(recorded.cellularEvents == 1)
    }
}
