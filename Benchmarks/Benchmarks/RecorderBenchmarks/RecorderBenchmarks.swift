import Benchmark
import SockStatFormat
import SockStatRecorder
#if canImport(Glibc)
import Glibc
#endif

/// Steady-state cost of one recorder tick: read the counters, compute the
/// deltas, encode the event, and every 100 ticks compress and write a block.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .memoryLeaked],
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 200
    )

    // One iteration is 100 ticks at 100 ms: ten seconds of recording, one block written and synced.
    Benchmark("recorder, 100 ticks (4 labels changing) and one block") { benchmark in
        let directory = "/tmp/sockstat-benchmark-\(getpid())"
        let counters = InProcessCounters()
        let labels = ["dns", "derp", "control", "logs"].map { try! counters.counter(for: $0) }
        var options = RecorderOptions(directory: directory)
        options.flushIntervalMilliseconds = 10_000
        options.maxTotalBytes = 1 << 30
        let recorder = try Recorder(source: counters, options: options, clock: ManualClock())
        var tick: UInt64 = 0
        func step() {
            tick += 1
            for (index, counter) in labels.enumerated() {
                counter.add(sent: tick &* UInt64(index + 1) % 1500, received: tick % 900)
            }
            recorder.poll(at: ClockReading(wallMilliseconds: Int64(tick) * 100, monotonicMilliseconds: tick * 100))
        }
        // Warm up: first segment, first blocks, buffers at their working size.
        for _ in 0..<1_000 { step() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<100 { step() }
        }
        benchmark.stopMeasurement()
        recorder.shutdown()
        system("rm -rf \(directory)")
    }

    // The same events straight into the encoder: 100 events, then compress and frame one block.
    Benchmark("encoder, 100 events and one block (no files)") { benchmark in
        var encoder = BlockEncoder(segmentSequence: 1)
        let deflater = Deflater()
        var frame: [UInt8] = []
        let labels = ["control", "derp", "dns", "logs"].map { Label($0) }
        var event = Event(time: 0, duration: 100, counts: [])
        var tick: UInt64 = 0
        func block() {
            for _ in 0..<100 {
                tick += 1
                event.time = Int64(tick) * 100
                event.counts.removeAll(keepingCapacity: true)
                for (index, label) in labels.enumerated() {
                    event.counts.append(LabelCounts(label: label, tx: tick &* UInt64(index + 1) % 1500, rx: tick % 900))
                }
                try? encoder.append(event)
            }
            frame.removeAll(keepingCapacity: true)
            encoder.finishBlock(using: deflater, appendingTo: &frame)
        }
        for _ in 0..<10 { block() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { block() }
        benchmark.stopMeasurement()
        blackHole(frame)
    }

    formatBenchmarks()

    // The harness's own allocations per iteration, to subtract from the figures above.
    Benchmark("baseline: an empty iteration") { benchmark in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(0) }
        benchmark.stopMeasurement()
    }
}
