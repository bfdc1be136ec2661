import NIOCore
import NIOPosix
import SockStatNIO
import SockStatRecorder
import Testing
import TestSupport

// The code of the article "Wiring SwiftNIO"
// (Sources/SockStatNIO/SockStatNIO.docc/WiringNIO.md); ArticleCodeTests
// checks that each of its code blocks appears here, and these tests run it
// on loopback.

/// The app's own handler: echoes every byte it reads.
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

/// The app's own client handler: writes one request of `size` bytes, and
/// succeeds `done` once as many bytes came back.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let size = 5000
    private let size = RequestHandler.size
    private var received = 0
    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(repeating: 7, count: size)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received == size { done.succeed() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.ioOnClosedChannel)
    }
}

/// Adds a handler that counts the plaintext: after `tls`, the handler that
/// encrypts (in the article, swift-nio-ssl's).
func countPlaintext(of channel: any Channel, after tls: any ChannelHandler, counters: InProcessCounters) throws {
    try channel.pipeline.syncOperations.addHandler(
        ByteCountingHandler(counter: counters.counter(for: "api-plaintext")), position: .after(tls))
}

/// A handler that passes everything on: the stand-in for a TLS handler.
final class PassThrough: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
}

@Suite struct WiringNIOTests {
    @Test func aCountedClientAndServerRecordWhatTheyExchanged() async throws {
        let temporary = TemporaryDirectory()
        let group = MultiThreadedEventLoopGroup.singleton
        let directory = temporary.path

        let counters = InProcessCounters()
        let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory))
        recorder.start()  // every byte counted is recorded: the counters start from zero

        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer(ByteCountingHandler.childChannelInitializer(
                counters: counters,
                label: { channel in "peer-\(channel.remoteAddress?.port ?? 0)" }
            ) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            })
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)

        let done = group.next().makePromise(of: Void.self)
        let client = ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteCountingHandler(counter: counters.counter(for: "api")), position: .first)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(done: done))
                }
            }
        let channel = try await client.connect(host: "127.0.0.1", port: port).get()
        try await done.futureResult.get()
        let clientPort = try #require(channel.localAddress?.port)
        try await channel.close()
        try await server.close()

        recorder.shutdown()
        var lines: [UInt8] = []
        try recorder.drain { lines.append(contentsOf: $0) }
        let recorded = try RecordedTotals(jsonLines: lines)
        let exchanged = UInt64(RequestHandler.size)
        #expect(recorded.byLabel["api"] == Totals(sent: exchanged, received: exchanged))
        #expect(recorded.byLabel["peer-\(clientPort)"] == Totals(sent: exchanged, received: exchanged))
    }

    @Test func aCountedDatagramChannelCountsPayloads() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let counters = InProcessCounters()

        let datagrams = try await DatagramBootstrap(group: group)
            .channelInitializer(DatagramByteCountingHandler.channelInitializer(
                counters: counters,
                label: { _ in "dns" }
            ))
            .bind(host: "127.0.0.1", port: 0).get()

        let address = try #require(datagrams.localAddress)
        let payload = datagrams.allocator.buffer(repeating: 1, count: 512)
        try await datagrams.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: payload))
        let dns = try counters.counter(for: "dns")
        // The datagram goes to the channel's own address: it is read back.
        for _ in 0..<500 where dns.received < 512 { try await Task.sleep(for: .milliseconds(10)) }
        try await datagrams.close()
        #expect(dns.sent == 512 && dns.received == 512)
    }

    @Test func writeCountingAndPositionAreTheHandlersOwn() throws {
        let counters = InProcessCounters()
        let counter = try counters.counter(for: "billing")

        let exact = ByteCountingHandler(counter: counter, writeCounting: .whenWritten)

        #expect(exact.writeCounting == .whenWritten && exact.counter === counter)
        counters.isCellular = true   // from here on, every event recorded has "c":1
        #expect(counters.isCellular)
    }
}
