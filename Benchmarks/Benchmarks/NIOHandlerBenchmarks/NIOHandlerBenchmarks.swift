import Benchmark
import NIOCore
import NIOEmbedded
import SockStatNIO
import SockStatRecorder

/// The cost of ByteCountingHandler on the hot path: one 16 KiB read and one
/// 16 KiB write through an EmbeddedChannel per unit, with no handler (the
/// baseline), counting writes when queued, and when written. The difference
/// from the baseline is the handler's; mallocs per unit should be 0 when
/// queued.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 100
    )
    for mode in ["no handler", "whenQueued", "whenWritten"] {
        Benchmark("EmbeddedChannel 16 KiB read + write, \(mode)") { benchmark in
            let counters = InProcessCounters()
            let channel = EmbeddedChannel()
            switch mode {
            case "whenQueued":
                try channel.pipeline.syncOperations.addHandler(
                    ByteCountingHandler(counter: counters.counter(for: "x"), writeCounting: .whenQueued))
            case "whenWritten":
                try channel.pipeline.syncOperations.addHandler(
                    ByteCountingHandler(counter: counters.counter(for: "x"), writeCounting: .whenWritten))
            default:
                break
            }
            let buffer = ByteBuffer(repeating: 7, count: 16_384)
            // Warm the channel's queues so that their growth is not counted.
            for _ in 0..<16 {
                channel.pipeline.fireChannelRead(buffer)
                _ = try channel.readInbound(as: ByteBuffer.self)
                channel.writeAndFlush(buffer, promise: nil)
                _ = try channel.readOutbound(as: ByteBuffer.self)
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                channel.pipeline.fireChannelRead(buffer)
                blackHole(try channel.readInbound(as: ByteBuffer.self))
                channel.writeAndFlush(buffer, promise: nil)
                blackHole(try channel.readOutbound(as: ByteBuffer.self))
            }
            benchmark.stopMeasurement()
            _ = try channel.finish()
        }
    }
}
