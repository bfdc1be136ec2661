import Dispatch
import NIOCore
import NIOPosix
import SockStatNIO
import SockStatRecorder

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// Echo throughput over loopback with 16 KiB writes, with and without
// ByteCountingHandler on both ends (the server's connection and the client).
// One process serves every mode and the rounds take turns, so each mode sees
// the same machine load; a ratio from one run is what the figures quote.
//
// usage: LibraryFigures echo MIB_PER_ROUND ROUNDS
// Prints, per mode, the median MiB/s and the median CPU seconds per GiB
// (process user + system time over the round).

final class Echo: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

/// Writes `total` bytes in 16 KiB writes as fast as the channel is writable
/// and succeeds `done` when all of them have come back.
final class Pump: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let total: Int
    private let done: EventLoopPromise<Void>
    private var sent = 0
    private var received = 0
    private var chunk = ByteBuffer()

    init(total: Int, done: EventLoopPromise<Void>) {
        self.total = total
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        chunk = context.channel.allocator.buffer(repeating: 1, count: 16_384)
        pump(context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) { pump(context) }

    private func pump(_ context: ChannelHandlerContext) {
        while context.channel.isWritable && sent < total {
            context.write(wrapOutboundOut(chunk), promise: nil)
            sent += chunk.readableBytes
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received >= total {
            done.succeed()
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension Pump: Sendable {}

struct Mode: Sendable {
    var name: String
    var counting: WriteCounting?
}

func echoThroughput(_ arguments: [String]) throws {
    guard arguments.count == 2, let mebibytes = Int(arguments[0]), let rounds = Int(arguments[1]), mebibytes > 0, rounds > 0 else {
        usage()
    }
    let total = mebibytes << 20
    let modes = [Mode(name: "no handler", counting: nil),
                 Mode(name: "whenQueued", counting: .whenQueued),
                 Mode(name: "whenWritten", counting: .whenWritten)]
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let counters = InProcessCounters()

    var servers: [any Channel] = []
    for mode in modes {
        servers.append(try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let counting = mode.counting {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteCountingHandler(counter: counters.counter(for: "server \(mode.name)"), writeCounting: counting),
                            position: .first)
                    }
                    try channel.pipeline.syncOperations.addHandler(Echo())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait())
    }

    var throughput = [[Double]](repeating: [], count: modes.count)
    var cpuPerGiB = [[Double]](repeating: [], count: modes.count)
    for _ in 0..<rounds {
        for (index, mode) in modes.enumerated() {
            let done = group.next().makePromise(of: Void.self)
            let cpuBefore = ProcessUsage.now().cpuSeconds
            let start = DispatchTime.now().uptimeNanoseconds
            let client = try ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let counting = mode.counting {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteCountingHandler(counter: counters.counter(for: "client \(mode.name)"), writeCounting: counting))
                        }
                        try channel.pipeline.syncOperations.addHandler(Pump(total: total, done: done))
                    }
                }
                .connect(to: servers[index].localAddress!).wait()
            try done.futureResult.wait()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpu = ProcessUsage.now().cpuSeconds - cpuBefore
            try client.closeFuture.wait()
            throughput[index].append(Double(mebibytes) / seconds)
            cpuPerGiB[index].append(cpu * 1024 / Double(mebibytes))
        }
    }
    for server in servers { try server.close().wait() }
    try group.syncShutdownGracefully()

    let base = median(throughput[0])
    let baseCPU = median(cpuPerGiB[0])
    for (index, mode) in modes.enumerated() {
        let mibs = median(throughput[index])
        let cpu = median(cpuPerGiB[index])
        print("\(mode.name): \(Int(mibs)) MiB/s (\(String(format: "%+.1f", (mibs / base - 1) * 100))%), "
            + "\(String(format: "%.3f", cpu)) CPU s/GiB (\(String(format: "%+.1f", (cpu / baseCPU - 1) * 100))%)")
    }
    // Each counted mode counted exactly what it echoed (a benchmark that
    // miscounts measures nothing).
    for mode in modes where mode.counting != nil {
        for label in ["server \(mode.name)", "client \(mode.name)"] {
            let counter = try counters.counter(for: label)
            if counter.sent != UInt64(total * rounds) || counter.received != UInt64(total * rounds) {
                print("miscounted \(label): sent \(counter.sent), received \(counter.received)")
                exit(1)
            }
        }
    }
}
