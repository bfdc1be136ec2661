// A first app with SockStatLog: an echo exchange over loopback, counted by
// SockStatNIO on both ends, recorded by a Recorder, then drained as JSON
// lines whose totals must equal the bytes the app sent and received.
// Exits 0 when they do, 1 (saying what differs) when they do not.
import Foundation
import NIOCore
import NIOPosix
import SockStatNIO
import SockStatRecorder

/// Writes every read back to its sender.
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

/// Sends `messages`, then closes the connection once as many bytes came
/// back, and reports how many did (counted here, not by SockStatNIO).
final class EchoClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let messages: [[UInt8]]
    private let expected: Int
    private var received = 0
    private let done: EventLoopPromise<Int>

    init(messages: [[UInt8]], done: EventLoopPromise<Int>) {
        self.messages = messages
        self.expected = messages.reduce(0) { $0 + $1.count }
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        for message in messages {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: message)), promise: nil)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received >= expected {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("FirstApp: \(message)\n".utf8))
    exit(1)
}

// 1. A recorder over in-process counters, into a directory of its own.
let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("FirstApp-\(ProcessInfo.processInfo.processIdentifier)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

let counters = InProcessCounters()
let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory))
recorder.start()

// 2. An echo server counting each connection under the app's own name for
//    it, and a client counting its connection under another.
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try ServerBootstrap(group: group)
    .childChannelInitializer(ByteCountingHandler.childChannelInitializer(
        counters: counters,
        label: { _ in "echo-server" }
    ) { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    })
    .bind(host: "127.0.0.1", port: 0)
    .wait()

// 200 messages of 1 to 4,096 bytes.
let messages = (0..<200).map { index in [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1 + (index * 1_237) % 4_096) }
let sent = messages.reduce(0) { $0 + $1.count }
let clientCounter = try counters.counter(for: "echo-client")
let done = group.next().makePromise(of: Int.self)
_ = try ClientBootstrap(group: group)
    .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(counter: clientCounter), position: .first)
            try channel.pipeline.syncOperations.addHandler(EchoClient(messages: messages, done: done))
        }
    }
    .connect(to: server.localAddress!)
    .wait()
let received = try done.futureResult.wait()
try server.close().wait()
try group.syncShutdownGracefully()

// 3. Stop recording (a last poll, then the final write), then drain: every
//    event as a JSON line, each segment deleted once delivered.
guard recorder.shutdown() else { fail("the recorder's last write had not finished") }
var lines = [UInt8]()
let drained = try recorder.drain { lines.append(contentsOf: $0) }

// 4. Sum each label's [tx, rx] over the lines, with Foundation's JSON reader.
var totals: [String: (tx: Int, rx: Int)] = [:]
for line in lines.split(separator: UInt8(ascii: "\n")) {
    guard let event = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
          let labels = event["s"] as? [String: [Int]] else { fail("not a sockstat event: \(String(decoding: line, as: UTF8.self))") }
    for (label, counts) in labels {
        totals[label, default: (0, 0)].tx += counts[0]
        totals[label, default: (0, 0)].rx += counts[1]
    }
}

print("sent \(sent) bytes, received \(received); drained \(drained.events) events in \(drained.segments) segments")
for (label, total) in totals.sorted(by: { $0.key < $1.key }) {
    print("  \(label): tx \(total.tx), rx \(total.rx)")
}
let expected = ["echo-client": (tx: sent, rx: received), "echo-server": (tx: received, rx: sent)]
guard received == sent, totals.count == expected.count,
      expected.allSatisfy({ label, want in totals[label].map { $0 == want } ?? false }) else {
    fail("the recorded totals are not the bytes sent (\(sent)) and received (\(received))")
}
print("ok: the recorded totals are the bytes sent and received")
