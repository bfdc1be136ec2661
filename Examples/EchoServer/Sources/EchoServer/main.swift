// A TCP echo server that records its traffic per client with SockStatLog.
//
//     EchoServer RECORDING-DIR OUTBOX-DIR [PORT]
//
// Listens on 127.0.0.1:PORT (0 or none: a free port; the first line printed
// says which), counts each connection's bytes under the label "ADDRESS:PORT"
// of its client, and records them into RECORDING-DIR every 100 ms.
// SIGUSR1 exports the recorded segments into OUTBOX-DIR, one file each, ready
// to ship (`sockstat-convert decode OUTBOX-DIR/*` reads them). SIGTERM or
// SIGINT closes every connection, writes what is buffered, and exits.
import Dispatch
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

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The label a connection's bytes are counted under: its client's address
/// and port ("127.0.0.1:52814"), so each connection is its own label.
///
/// The label is chosen once, when the connection is accepted, before the
/// client has said anything. A long-running server would rather count per
/// client address (`address.ipAddress`) or per service: every distinct label
/// is a column that lives in the recording until its segment is deleted.
func clientLabel(_ address: SocketAddress?) -> String {
    guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
    return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
}

/// Writes one exported segment into `outbox` under its own name, so that it
/// is there whole before the recorder deletes its copy: written to a hidden
/// temporary name, synced, renamed into place, and the directory synced.
/// Exported again after a crash, a segment has the same name and bytes.
func ship(_ segment: ExportedSegment, to outbox: String) throws {
    let destination = outbox + "/" + segment.name
    let temporary = outbox + "/." + segment.name + ".partial"
    try Data(segment.bytes).write(to: URL(fileURLWithPath: temporary))
    let file = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
    try file.synchronize()
    try file.close()
    guard rename(temporary, destination) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination])
    }
    let directory = open(outbox, O_RDONLY)
    if directory >= 0 {
        fsync(directory)
        close(directory)
    }
}

/// One line on standard output, written at once (the output may be a pipe
/// or a file a script is waiting on).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Says why on standard error, in one line, and exits with `status`.
func quit(_ status: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data("EchoServer: \(message)\n".utf8))
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard (2...3).contains(arguments.count), let port = Int(arguments.count == 3 ? arguments[2] : "0") else {
    quit(64, "usage: EchoServer RECORDING-DIR OUTBOX-DIR [PORT]")
}
let (recordingDirectory, outbox) = (arguments[0], arguments[1])
var outboxIsDirectory: ObjCBool = false
guard FileManager.default.fileExists(atPath: outbox, isDirectory: &outboxIsDirectory), outboxIsDirectory.boolValue else {
    quit(66, "\(outbox): no such directory (the outbox must exist)")
}

let counters = InProcessCounters()
let recorder: Recorder
do {
    recorder = try Recorder(source: counters, options: RecorderOptions(directory: recordingDirectory))
} catch {
    quit(73, "cannot record into \(recordingDirectory): \(error)")
}
// Over InProcessCounters the first recorder starts from zero: every byte
// counted from here on is recorded.
recorder.start()

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer(ByteCountingHandler.childChannelInitializer(
        counters: counters,
        label: { channel in clientLabel(channel.remoteAddress) }
    ) { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    })
let server: any Channel
do {
    server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
} catch {
    recorder.shutdown()
    quit(69, "cannot listen on 127.0.0.1:\(port): \(error)")
}
say("listening on 127.0.0.1:\(server.localAddress?.port ?? port)")

// Signals are handled on one queue, one at a time: an export and the
// shutdown never run at once. The default actions are turned off so that
// the dispatch sources get them.
let signals = DispatchQueue(label: "EchoServer.signals")
var signalSources: [any DispatchSourceSignal] = []
for (signalNumber, action) in [
    (SIGUSR1, { @Sendable in
        // A poll first, so the export holds every byte counted until now,
        // not only up to the poller's last tick.
        recorder.poll()
        do {
            let exported = try recorder.export { segment in try ship(segment, to: outbox) }
            say("exported \(exported.events) events to \(outbox) (segments: \(exported.segments))")
        } catch {
            // Nothing is lost: the segment that failed and the later ones stay.
            say("export stopped: \(error)")
        }
    }),
    (SIGTERM, { @Sendable in server.close(promise: nil) }),
    (SIGINT, { @Sendable in server.close(promise: nil) }),
] as [(Int32, @Sendable () -> Void)] {
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signals)
    source.setEventHandler(handler: action)
    source.resume()
    signalSources.append(source)
}

try server.closeFuture.wait()
// Every connection closed and every event loop stopped: no byte is counted
// after this. Then shutdown() takes a last poll, writes the buffered block
// and closes the segment.
try group.syncShutdownGracefully()
signals.sync {
    signalSources.forEach { $0.cancel() }
}
let flushed = recorder.shutdown()
let metrics = recorder.metrics
say("recorded \(metrics.events) events (segments: \(metrics.segments)); \(flushed ? "flushed" : "the last write had not finished")")
exit(flushed ? 0 : 1)
