import NIOCore
import NIOPosix
import SockStatNIO
import SockStatRecorder
import Synchronization
import Testing
import TestSupport

/// Echoes every byte it reads.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Writes its messages at once, then closes when all of them came back, and
/// gives its local port: the exchange may be over, and the address gone,
/// before whoever connected looks at the channel.
final class EchoClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let messageSizes: [Int]
    private let expected: Int
    private var received = 0
    private var localPort: Int?
    private let done: EventLoopPromise<Int>

    init(messageSizes: [Int], done: EventLoopPromise<Int>) {
        self.messageSizes = messageSizes
        expected = messageSizes.reduce(0, +)
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        localPort = context.channel.localAddress?.port
        guard localPort != nil else {
            done.fail(ChannelError.unknownLocalAddress)
            return
        }
        for (index, size) in messageSizes.enumerated() {
            let message = context.channel.allocator.buffer(repeating: UInt8(truncatingIfNeeded: index), count: size)
            context.write(wrapOutboundOut(message), promise: nil)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received == expected, let localPort {
            done.succeed(localPort)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.ioOnClosedChannel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

/// Sends each datagram back to where it came from.
final class DatagramEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)),
                              promise: nil)
    }
}

/// Sends one datagram, waits for its echo, sends the next: loopback drops
/// nothing when one datagram is in flight.
final class DatagramPingPong: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let server: SocketAddress
    private let datagramSizes: [Int]
    private var next = 0
    private let done: EventLoopPromise<Void>

    init(server: SocketAddress, datagramSizes: [Int], done: EventLoopPromise<Void>) {
        self.server = server
        self.datagramSizes = datagramSizes
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        #expect(unwrapInboundIn(data).data.readableBytes == datagramSizes[next])
        next += 1
        if next == datagramSizes.count {
            done.succeed()
        } else {
            send(context: context)
        }
    }

    private func send(context: ChannelHandlerContext) {
        let payload = context.channel.allocator.buffer(repeating: UInt8(truncatingIfNeeded: next), count: datagramSizes[next])
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: server, data: payload)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
    }
}

@Suite(.timeLimit(.minutes(10)))  // a hang fails; a loaded machine (or the thread sanitizer, 10x slower) does not
struct LoopbackTests {
    static let writeCountings: [WriteCounting] = [.whenQueued, .whenWritten]

    /// Many clients at once against an echo server that labels each
    /// connection by the client's port; every byte each side sent and
    /// received is in the recorded events, under its label.
    @Test(arguments: writeCountings)
    func tcpEchoWithManyClientsIsRecordedExactly(writeCounting: WriteCounting) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let counters = InProcessCounters()
        let serverConnections = Lock<[EventLoopFuture<Void>]>([])

        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer(ByteCountingHandler.childChannelInitializer(
                counters: counters, writeCounting: writeCounting,
                label: { channel in "peer-\(channel.remoteAddress?.port ?? -1)" }
            ) { channel in
                serverConnections.withLock { $0.append(channel.closeFuture) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            })
            .bind(host: "127.0.0.1", port: 0).get()
        let serverAddress = try #require(server.localAddress)

        let clientCount = 24
        var expected: [String: Totals] = [:]
        let recorded = try await record(counters) {
            try await withThrowingTaskGroup(of: (port: Int, bytes: UInt64).self) { tasks in
                for client in 0..<clientCount {
                    tasks.addTask {
                        let messageSizes = sizes(count: 40, in: 1...20_000, seed: UInt64(client))
                        let done = group.next().makePromise(of: Int.self)
                        let counter = try counters.counter(for: "client-\(client)")
                        let channel = try await ClientBootstrap(group: group)
                            .channelInitializer { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(
                                        ByteCountingHandler(counter: counter, writeCounting: writeCounting))
                                    try channel.pipeline.syncOperations.addHandler(
                                        EchoClient(messageSizes: messageSizes, done: done))
                                }
                            }
                            .connect(to: serverAddress).get()
                        let port = try await done.futureResult.get()
                        try await channel.closeFuture.get()
                        return (port, UInt64(messageSizes.reduce(0, +)))
                    }
                }
                for try await (port, bytes) in tasks {
                    expected["peer-\(port)"] = Totals(sent: bytes, received: bytes)
                }
            }
            // Each server connection closes on its client's EOF, after its
            // last write completed.
            for connection in serverConnections.withLock({ $0 }) {
                try await connection.get()
            }
        }
        for client in 0..<clientCount {
            let messageSizes = sizes(count: 40, in: 1...20_000, seed: UInt64(client))
            let bytes = UInt64(messageSizes.reduce(0, +))
            expected["client-\(client)"] = Totals(sent: bytes, received: bytes)
        }
        #expect(expected.count == 2 * clientCount)
        #expect(recorded.byLabel == expected)
        #expect(recorded.events > 1, "the recorder polled while the clients ran")
        try await server.close()
    }

    /// Clients exchange datagrams with a UDP echo server; the server's one
    /// label and each client's label hold exactly the payload bytes.
    @Test(arguments: writeCountings)
    func udpDatagramsAreRecordedExactly(writeCounting: WriteCounting) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let counters = InProcessCounters()

        let server = try await DatagramBootstrap(group: group)
            .channelInitializer(DatagramByteCountingHandler.channelInitializer(
                counters: counters, writeCounting: writeCounting, label: { _ in "udp-server" }
            ) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramEchoHandler())
                }
            })
            .bind(host: "127.0.0.1", port: 0).get()
        let serverAddress = try #require(server.localAddress)

        let clientCount = 8
        let recorded = try await record(counters) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for client in 0..<clientCount {
                    tasks.addTask {
                        let datagramSizes = sizes(count: 60, in: 1...1_400, seed: 1_000 + UInt64(client))
                        let done = group.next().makePromise(of: Void.self)
                        let channel = try await DatagramBootstrap(group: group)
                            .channelInitializer(DatagramByteCountingHandler.channelInitializer(
                                counters: counters, writeCounting: writeCounting, label: { _ in "udp-client-\(client)" }
                            ) { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(
                                        DatagramPingPong(server: serverAddress, datagramSizes: datagramSizes, done: done))
                                }
                            })
                            .bind(host: "127.0.0.1", port: 0).get()
                        try await done.futureResult.get()
                        try await channel.close()
                    }
                }
                try await tasks.waitForAll()
            }
        }
        var expected: [String: Totals] = [:]
        for client in 0..<clientCount {
            let bytes = UInt64(sizes(count: 60, in: 1...1_400, seed: 1_000 + UInt64(client)).reduce(0, +))
            expected["udp-client-\(client)"] = Totals(sent: bytes, received: bytes)
            expected["udp-server", default: Totals()].sent += bytes
            expected["udp-server", default: Totals()].received += bytes
        }
        #expect(recorded.byLabel == expected)
        #expect(recorded.events > 1, "the recorder polled while the clients ran")
        try await server.close()
    }

    /// The app says its path is cellular on the counters; every event
    /// recorded from its traffic then carries "c":1.
    @Test func trafficOnACellularPathIsRecordedAsCellular() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let counters = InProcessCounters()
        counters.isCellular = true
        let server = try await DatagramBootstrap(group: group)
            .channelInitializer(DatagramByteCountingHandler.channelInitializer(counters: counters, label: { _ in "echo" }) { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DatagramEchoHandler()) }
            })
            .bind(host: "127.0.0.1", port: 0).get()
        let serverAddress = try #require(server.localAddress)
        let datagramSizes = sizes(count: 200, in: 1...1_400, seed: 7)
        let recorded = try await record(counters) {
            let done = group.next().makePromise(of: Void.self)
            let client = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DatagramPingPong(server: serverAddress, datagramSizes: datagramSizes, done: done))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            try await done.futureResult.get()
            try await client.close()
        }
        let bytes = UInt64(datagramSizes.reduce(0, +))
        #expect(recorded.byLabel == ["echo": Totals(sent: bytes, received: bytes)])
        #expect(recorded.events > 0)
        #expect(recorded.cellularEvents == recorded.events)
        try await server.close()
    }
}
