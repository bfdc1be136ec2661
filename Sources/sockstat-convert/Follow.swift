import Dispatch
import SockStatFormat
import SockStatStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `decode --follow DIR`: the events of each block as the recorder writes
/// it, until SIGINT or SIGTERM. The reading is the store's
/// `SegmentFollower`; this is the loop around it.
enum Follow {
    /// How often the directory and the open segment are looked at: the lag
    /// it adds to a block's events is at most this (plus decoding).
    static let pollMilliseconds = 250

    /// Follows `directory` through `collector` into `output` (flushed after
    /// every poll that wrote something) until SIGINT or SIGTERM, then
    /// writes what the format held back and flushes.
    ///
    /// Generic over the output format: any `DecodedBlockWriter` follows.
    ///
    /// - Parameter fromOldest: read every segment already there first
    ///   (`--since`), instead of starting at the newest block.
    /// - Returns: the collector (for the exit code), and false when it
    ///   stopped at damage (`--strict`).
    /// - Throws: `Exit.noInput` when the directory cannot be listed; what
    ///   `output`'s sink throws.
    static func run<Writer: DecodedBlockWriter>(_ directory: String, collector: SegmentCollector<Writer>,
                                                fromOldest: Bool, to output: OutputBuffer)
        throws -> (collector: SegmentCollector<Writer>, finished: Bool) {
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }

        let follower = SegmentFollower(directory: directory, collector: collector,
                                       start: fromOldest ? .oldestSegment : .newestBlock)
        var finished = true
        while true {
            let goesOn: Bool
            do {
                goesOn = try follower.poll(to: output, notes: SegmentReading.report)
            } catch let error as StoreError {
                Diagnostics.report(error.description)
                throw Exit.noInput
            }
            if output.bufferedCount > 0 { try output.flush() }
            guard goesOn else {
                finished = false
                break
            }
            if stop.wait(timeout: .now() + .milliseconds(pollMilliseconds)) == .success { break }
        }
        try follower.finish(to: output)
        try output.flush()
        return (follower.collector, finished)
    }
}
