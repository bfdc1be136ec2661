#if NIO
import NIOCore
import SockStatRecorder

extension ByteCountingHandler {
    /// Makes a server's `childChannelInitializer` that counts each accepted
    /// connection under the label `label` gives it, then runs `initializer`.
    ///
    ///     let counters = InProcessCounters()
    ///     ServerBootstrap(group: group)
    ///         .childChannelInitializer(ByteCountingHandler.childChannelInitializer(
    ///             counters: counters,
    ///             label: { channel in channel.remoteAddress?.ipAddress ?? "unknown" }
    ///         ) { channel in
    ///             channel.eventLoop.makeCompletedFuture {
    ///                 try channel.pipeline.syncOperations.addHandler(EchoHandler())
    ///             }
    ///         })
    ///
    /// `label` runs once per connection, on its event loop, and the counter is
    /// looked up then (one lock): reads and writes only add to it. The label
    /// may be the peer's address, the local port, or the app's own name for
    /// the client. The handler goes first in the pipeline, so it counts the
    /// bytes on the wire (TLS included).
    ///
    /// A label `InProcessCounters` refuses (longer than 1024 bytes) leaves
    /// the connection uncounted rather than closing it; the refusal is
    /// counted (`refusedLabels`, and the recorder's `labelsRefused`).
    ///
    /// - Parameters:
    ///   - counters: the counters the recorder polls.
    ///   - writeCounting: when a write counts; `.whenQueued` by default.
    ///   - label: the connection's label.
    ///   - initializer: the rest of the pipeline, as the app would have written it.
    /// - Returns: a closure for `ServerBootstrap.childChannelInitializer`.
    public static func childChannelInitializer(
        counters: InProcessCounters,
        writeCounting: WriteCounting = .whenQueued,
        label: @escaping @Sendable (any Channel) -> String,
        then initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void> = { $0.eventLoop.makeSucceededVoidFuture() }
    ) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { channel in
            do {
                try addCounting(to: channel, counters: counters, label: label(channel), writeCounting: writeCounting)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            return initializer(channel)
        }
    }

    /// Adds a `ByteCountingHandler` first in `channel`'s pipeline, counting
    /// under `label`; a label the counters refuse adds nothing.
    ///
    /// Call it on the channel's event loop (as an initializer is called).
    ///
    /// - Throws: what `addHandler` throws (the channel is closing).
    static func addCounting(to channel: any Channel, counters: InProcessCounters, label: String,
                            writeCounting: WriteCounting) throws {
        guard let counter = try? counters.counter(for: label) else { return }
        try channel.pipeline.syncOperations.addHandler(
            ByteCountingHandler(counter: counter, writeCounting: writeCounting), position: .first)
    }
}

extension DatagramByteCountingHandler {
    /// Makes a `channelInitializer` for a datagram bootstrap that counts the
    /// channel under the label `label` gives it, then runs `initializer`;
    /// see `ByteCountingHandler.childChannelInitializer`.
    ///
    /// A datagram channel has one counter for every peer it talks to: to
    /// count per peer, connect one channel per peer.
    ///
    /// - Parameters:
    ///   - counters: the counters the recorder polls.
    ///   - writeCounting: when a write counts; `.whenQueued` by default.
    ///   - label: the channel's label.
    ///   - initializer: the rest of the pipeline.
    /// - Returns: a closure for `DatagramBootstrap.channelInitializer`.
    public static func channelInitializer(
        counters: InProcessCounters,
        writeCounting: WriteCounting = .whenQueued,
        label: @escaping @Sendable (any Channel) -> String,
        then initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void> = { $0.eventLoop.makeSucceededVoidFuture() }
    ) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { channel in
            if let counter = try? counters.counter(for: label(channel)) {
                do {
                    try channel.pipeline.syncOperations.addHandler(
                        DatagramByteCountingHandler(counter: counter, writeCounting: writeCounting), position: .first)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            return initializer(channel)
        }
    }
}
#endif
