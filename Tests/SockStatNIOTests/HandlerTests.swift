import NIOCore
import NIOEmbedded
import SockStatNIO
import SockStatRecorder
import Testing

/// Fails every write that reaches it, as a channel that closed with writes
/// queued does.
final class FailingWrites: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    struct Refused: Error {}

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.fail(Refused())
    }
}

/// One handler on an `EmbeddedChannel`: what each kind of read and write adds.
struct HandlerTests {
    @Test(arguments: [WriteCounting.whenQueued, .whenWritten])
    func streamReadsAndWritesOfEveryKindAreCounted(writeCounting: WriteCounting) throws {
        let counter = try InProcessCounters().counter(for: "s")
        let channel = EmbeddedChannel(handler: ByteCountingHandler(counter: counter, writeCounting: writeCounting))
        try channel.writeInbound(ByteBuffer(repeating: 1, count: 1_000))
        try channel.writeInbound(ByteBuffer())
        try channel.writeOutbound(ByteBuffer(repeating: 2, count: 300))
        let file = try NIOFileHandle(_deprecatedPath: "/dev/null")
        defer { try? file.close() }
        try channel.writeOutbound(IOData.fileRegion(FileRegion(fileHandle: file, readerIndex: 100, endIndex: 4_196)))
        #expect(counter.received == 1_000)
        #expect(counter.sent == 300 + 4_096)
        // Everything passes on unchanged.
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 1_000)
        #expect(try channel.readOutbound(as: IOData.self) == .byteBuffer(ByteBuffer(repeating: 2, count: 300)))
        _ = try channel.finish()
    }

    @Test(arguments: [WriteCounting.whenQueued, .whenWritten])
    func datagramsCountTheirPayload(writeCounting: WriteCounting) throws {
        let counter = try InProcessCounters().counter(for: "d")
        let channel = EmbeddedChannel(handler: DatagramByteCountingHandler(counter: counter, writeCounting: writeCounting))
        let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 53)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(repeating: 1, count: 512)))
        try channel.writeOutbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(repeating: 2, count: 40)))
        #expect(counter.received == 512)
        #expect(counter.sent == 40)
        _ = try channel.finish()
    }

    /// A write that fails is counted when queued, and not when written: the
    /// difference between the two choices, with and without a promise.
    @Test(arguments: [(WriteCounting.whenQueued, UInt64(2 * 700)), (.whenWritten, 0)])
    func aFailedWriteCountsOnlyWhenQueued(writeCounting: WriteCounting, expectedSent: UInt64) throws {
        let counter = try InProcessCounters().counter(for: "f")
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FailingWrites())
        try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(counter: counter, writeCounting: writeCounting))
        let withPromise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(ByteBuffer(repeating: 3, count: 700), promise: withPromise)
        channel.write(ByteBuffer(repeating: 3, count: 700), promise: nil)
        #expect(throws: FailingWrites.Refused.self) { try withPromise.futureResult.wait() }
        #expect(counter.sent == expectedSent)
        _ = try channel.finish()
    }

    /// The writer's own promise still completes, after the count.
    @Test func aWrittenWriteCompletesTheWritersPromise() throws {
        let counter = try InProcessCounters().counter(for: "p")
        let channel = EmbeddedChannel(handler: ByteCountingHandler(counter: counter, writeCounting: .whenWritten))
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let seenAtCompletion = promise.futureResult.map { counter.sent }
        channel.writeAndFlush(ByteBuffer(repeating: 4, count: 123), promise: promise)
        #expect(try seenAtCompletion.wait() == 123)
        _ = try channel.finish()
    }
}
