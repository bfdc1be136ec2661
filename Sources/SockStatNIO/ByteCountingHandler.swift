#if NIO
import NIOCore
import SockStatRecorder

/// When a write's bytes are added to the counter.
public struct WriteCounting: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable { case queued, written }
    private let kind: Kind
    private init(_ kind: Kind) { self.kind = kind }

    /// When the write passes the handler on its way to the socket. Costs
    /// nothing per write; a write that later fails (the channel closed with
    /// it still queued) is counted all the same.
    public static let whenQueued = WriteCounting(.queued)

    /// When the write's promise succeeds: exactly the bytes that the channel
    /// reports as written, counted before the writer's own promise completes.
    /// Costs a promise and a callback per write (allocations).
    public static let whenWritten = WriteCounting(.written)

    var countsOnSuccess: Bool { kind == .written }

    public var description: String {
        switch kind {
        case .queued: "when queued"
        case .written: "when written"
        }
    }
}

/// Counts the bytes a stream channel (TCP, a Unix domain socket, a pipe)
/// reads and writes into one `ByteCounter`.
///
///     let counters = InProcessCounters()
///     try channel.pipeline.syncOperations.addHandler(
///         ByteCountingHandler(counter: counters.counter(for: "api")), position: .first)
///
/// Where it sits says what it counts: at `.first` (next to the socket) the
/// bytes on the wire, TLS records included; after a TLS handler, the
/// plaintext. The counts are payload bytes: TCP and IP headers are not seen.
///
/// Reads (`ByteBuffer`) count as they pass. Writes (`ByteBuffer` and
/// `FileRegion`, as `IOData`) count as `writeCounting` says. Everything is
/// passed on unchanged. Adding to the counter is one relaxed atomic add: no
/// lock and no allocation per read or per write (with `.whenQueued`).
///
/// For UDP use `DatagramByteCountingHandler`.
///
/// A class, like every NIO handler, used on its channel's event loop only.
public final class ByteCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    /// The counter the bytes go to.
    public let counter: ByteCounter
    /// When writes are counted.
    public let writeCounting: WriteCounting

    /// Creates a handler counting into `counter`.
    ///
    /// - Parameters:
    ///   - counter: the label's counter, from `InProcessCounters.counter(for:)`.
    ///   - writeCounting: when a write counts; `.whenQueued` by default.
    public init(counter: ByteCounter, writeCounting: WriteCounting = .whenQueued) {
        self.counter = counter
        self.writeCounting = writeCounting
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(received: UInt64(Self.unwrapInboundIn(data).readableBytes))
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes: Int
        switch Self.unwrapOutboundIn(data) {
        case .byteBuffer(let buffer): bytes = buffer.readableBytes
        case .fileRegion(let region): bytes = region.readableBytes
        }
        sendCounted(bytes, to: counter, counting: writeCounting, context: context, data: data, promise: promise)
    }
}

@available(*, unavailable)
extension ByteCountingHandler: Sendable {}

/// Counts the bytes a datagram channel (UDP) reads and writes into one
/// `ByteCounter`: the payload of each `AddressedEnvelope<ByteBuffer>`, not the
/// UDP and IP headers.
///
///     try channel.pipeline.syncOperations.addHandler(
///         DatagramByteCountingHandler(counter: counters.counter(for: "dns")), position: .first)
///
/// Reads count as they pass; writes as `writeCounting` says (see
/// `ByteCountingHandler`). No lock and no allocation per datagram with
/// `.whenQueued`.
///
/// A class, like every NIO handler, used on its channel's event loop only.
public final class DatagramByteCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias InboundOut = AddressedEnvelope<ByteBuffer>
    public typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// The counter the bytes go to.
    public let counter: ByteCounter
    /// When writes are counted.
    public let writeCounting: WriteCounting

    /// Creates a handler counting into `counter`.
    ///
    /// - Parameters:
    ///   - counter: the label's counter, from `InProcessCounters.counter(for:)`.
    ///   - writeCounting: when a write counts; `.whenQueued` by default.
    public init(counter: ByteCounter, writeCounting: WriteCounting = .whenQueued) {
        self.counter = counter
        self.writeCounting = writeCounting
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(received: UInt64(Self.unwrapInboundIn(data).data.readableBytes))
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = Self.unwrapOutboundIn(data).data.readableBytes
        sendCounted(bytes, to: counter, counting: writeCounting, context: context, data: data, promise: promise)
    }
}

@available(*, unavailable)
extension DatagramByteCountingHandler: Sendable {}

/// Passes a write on, counting its `bytes` now or when it succeeds: the one
/// place both handlers decide it.
@inline(__always)
private func sendCounted(_ bytes: Int, to counter: ByteCounter, counting: WriteCounting,
                         context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    guard counting.countsOnSuccess else {
        counter.add(sent: UInt64(bytes))
        context.write(data, promise: promise)
        return
    }
    // A promise of our own, so the bytes are counted before the writer's
    // promise completes: whoever sees their write succeed sees it counted.
    let written = context.eventLoop.makePromise(of: Void.self)
    written.futureResult.whenComplete { result in
        if case .success = result { counter.add(sent: UInt64(bytes)) }
        promise?.completeWith(result)
    }
    context.write(data, promise: written)
}
#endif
