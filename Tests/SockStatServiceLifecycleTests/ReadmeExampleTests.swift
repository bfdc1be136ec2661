import CoreMetrics
import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import SockStatMetrics
import SockStatRecorder
import SockStatServiceLifecycle
import Testing
import TestSupport

/// A server's stand-in: counts its traffic, then waits for the shutdown.
struct CountingServer: Service {
    let counters: InProcessCounters
    func run() async throws {
        let client = try counters.counter(for: "client-1")
        client.add(sent: 1_200, received: 300)
        try await gracefulShutdown()
        client.add(sent: 34)                              // a last reply as it shuts down
    }
}

/// The code of README "Running the recorder in a server: service lifecycle
/// and metrics", as it is there (but for the test's directory, metrics
/// factory and signals), so it is compiled and run.
func readmeExample(directory path: String, factory: any MetricsFactory, logger: Logger,
                   whenRunning: @escaping @Sendable (ServiceGroup) async -> Void) async throws -> Data {
    let counters = InProcessCounters()
    let recorder = try SockStatRecorder.Recorder(source: counters, options: RecorderOptions(directory: path))
    recorder.reportMetrics(dimensions: [("recorder", "edge")], factory: factory)

    let group = ServiceGroup(
        services: [RecorderService(recorder), CountingServer(counters: counters)],  // the recorder first: it stops last
        gracefulShutdownSignals: [],                      // the README: [.sigterm, .sigint]
        cancellationSignals: [],
        logger: logger)
    async let running: Void = group.run()
    await whenRunning(group)
    try await running

    // Shut down: everything counted is in closed segments.
    var lines = Data()
    try recorder.drain { lines.append(contentsOf: $0) }
    return lines
}

struct ReadmeExampleTests {
    @Test func theReadmeExampleRecordsTheServersBytesAndReportsMetrics() async throws {
        let directory = TemporaryDirectory()
        let factory = TestMetrics()
        let lines = try await readmeExample(directory: directory.path, factory: factory, logger: quietLogger) { group in
            try? await Task.sleep(for: .milliseconds(300))
            await group.triggerGracefulShutdown()
        }
        var totals: [UInt64] = [0, 0]
        for line in lines.split(separator: UInt8(ascii: "\n")) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let pair = try #require((object["s"] as? [String: [UInt64]])?["client-1"])
            totals[0] += pair[0]
            totals[1] += pair[1]
        }
        #expect(totals == [1_234, 300])
        let events = try factory.expectCounter("sockstatlog_events_total", [("recorder", "edge")]).totalValue
        #expect(events == Int64(lines.split(separator: UInt8(ascii: "\n")).count))
    }
}
