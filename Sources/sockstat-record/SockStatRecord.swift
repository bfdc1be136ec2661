import ArgumentParser
import Dispatch
import Logging
import SockStatRecorder
import SockStatStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `sockstat-record`: record per-label byte counters into rotating segments.
@main
struct SockStatRecord: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockstat-record",
        abstract: "Record this host's interface byte counters at 10 Hz into rotating segment files.",
        discussion: """
            Records until --duration ends or SIGINT/SIGTERM, then writes what is buffered, closes \
            the segment and prints a one-line summary on standard error, then (recording this host) \
            a closing line naming the interfaces watched, for how long, whether any moved a byte, \
            and which were left out. With --replay, records \
            canonical JSON lines replayed on a virtual clock instead (for tests and demos). \
            Read the result with: sockstat-convert DIR. \
            Exit codes: 0 success; 1 recorded with losses (events dropped or labels refused); 64 usage error; \
            65 replay input invalid; 66 replay input missing; 73 cannot create the log directory.
            """
    )

    @Option(help: ArgumentHelp("Directory to record into (created 0700).", valueName: "DIR"))
    var dir: String

    @Option(help: ArgumentHelp("Stop after this many seconds (default: until SIGINT or SIGTERM).", valueName: "SECONDS"))
    var duration: Double?

    @Option(help: ArgumentHelp("Milliseconds between polls.", valueName: "MS"))
    var interval: Int64 = 100

    @Option(help: ArgumentHelp("Seconds of events per written block.", valueName: "SECONDS"))
    var flushInterval: Double = 10

    @Option(help: ArgumentHelp("Rotate segments before they pass this many bytes (default: 262144, or a quarter of --max-total-bytes when that is under 1 MiB, at least 4096).", valueName: "N"))
    var maxSegmentBytes: Int?

    @Option(help: ArgumentHelp("Keep the directory's segments at or under this many bytes, every tier included (see --tiers).", valueName: "N"))
    var maxTotalBytes: Int = 5 * 1024 * 1024

    @Option(help: ArgumentHelp("Rollup tiers after the recorded events, finest first, as WINDOW:SHARE of --max-total-bytes "
                               + "(e.g. 1m:29%,1h:26%; the recorded events get the rest), or none: the oldest recorded "
                               + "segments are deleted. Default 1m:29%,1h:26%, or none when the cap is too small to hold them.",
                               valueName: "SPEC"))
    var tiers: String?

    @Option(help: ArgumentHelp("Default-route interfaces that count as cellular, comma-separated shell patterns.", valueName: "PATTERNS"))
    var cellularInterfaces: String = "wwan*,rmnet*,ccmni*,pdp_ip*"

    @Option(help: ArgumentHelp("Interfaces not to record, comma-separated shell patterns ('' records all, loopback included).", valueName: "PATTERNS"))
    var excludeInterfaces: String = "lo"

    @Option(help: ArgumentHelp("Record canonical JSON lines from FILE (- for standard input) instead of this host's interfaces.", valueName: "FILE"))
    var replay: String?

    @Option(help: ArgumentHelp("Replay speed: max, or a factor of real time (e.g. 60).", valueName: "max|FACTOR"))
    var speed: String = "max"

    func validate() throws {
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        guard flushInterval >= 0.001, flushInterval <= 1e6 else {
            throw ValidationError("--flush-interval must be between 0.001 and 1e6 seconds")
        }
        if let maxSegmentBytes {
            guard maxSegmentBytes >= 4096 else { throw ValidationError("--max-segment-bytes must be at least 4096") }
            guard maxTotalBytes >= maxSegmentBytes else {
                throw ValidationError("--max-total-bytes must be at least --max-segment-bytes")
            }
        }
        guard maxTotalBytes >= 4096 else {
            throw ValidationError("--max-total-bytes must be at least 4096 (one segment of the smallest size)")
        }
        if let tiers, case .failure(let error) = RollupTierShare.parse(tiers) {
            throw ValidationError("--tiers: \(error)")
        }
        // The library's own rules, so that no value gets past the parser
        // that the recorder would refuse (or readers would).
        if let problem = recorderOptions.problem { throw ValidationError(problem) }
        if let duration, !(duration >= 0 && duration <= 1e9) {
            throw ValidationError("--duration must be between 0 and 1e9 seconds")
        }
        guard speed == "max" || (Double(speed) ?? 0) > 0 else {
            throw ValidationError("--speed must be max or a positive factor")
        }
        do { _ = try InterfacePattern.list(cellularInterfaces) } catch {
            throw ValidationError("--cellular-interfaces: \(error)")
        }
        if !excludeInterfaces.isEmpty {
            do { _ = try InterfacePattern.list(excludeInterfaces) } catch {
                throw ValidationError("--exclude-interfaces: \(error)")
            }
        }
    }

    private var recorderOptions: RecorderOptions {
        var options = RecorderOptions(directory: dir)
        options.pollIntervalMilliseconds = interval
        options.flushIntervalMilliseconds = Int64((flushInterval * 1000).rounded())
        options.maxTotalBytes = maxTotalBytes
        if let maxSegmentBytes { options.maxSegmentBytes = maxSegmentBytes }
        if let tiers, case .success(let parsed) = RollupTierShare.parse(tiers) { options.tiers = parsed }
        return options
    }

    func run() throws {
        let options = recorderOptions
        let logger = Logger(label: "sockstat-record")
        let metrics: RecorderMetrics
        var watched: (seen: InterfaceCounters.Seen, seconds: Double)?
        if let replay {
            metrics = try record(replaying: replay, options: options, logger: logger)
        } else {
            (metrics, watched) = try recordInterfaces(options: options, logger: logger)
        }
        let perEvent = metrics.events > 0 ? Double(metrics.bytes) / Double(metrics.events) : 0
        let hundredths = Int((perEvent * 100).rounded())
        report("\(plural(metrics.polls, "poll")), \(plural(metrics.events, "event")), \(plural(metrics.blocks, "block")), "
            + "\(plural(metrics.segments, "segment")), \(plural(metrics.bytes, "byte")) "
            + "(\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) B/event), "
            + "\(metrics.segmentsDeleted) deleted by retention (\(metrics.segmentsRolledUp) rolled up first), "
            + "\(plural(metrics.counterResets, "counter reset")), "
            + "\(plural(metrics.eventsDropped, "event")) dropped, \(plural(metrics.labelsRefused, "label")) refused, "
            + "\(plural(metrics.eventsSplit, "event")) split, \(plural(metrics.writeErrors, "write error"))")
        if let watched {
            report(Self.watchedLine(watched.seen, seconds: watched.seconds, events: metrics.events))
        }
        // Events dropped or labels refused: what was recorded is not all there was.
        if metrics.eventsDropped > 0 || metrics.labelsRefused > 0 { throw ExitCode(1) }
    }

    /// The closing line of a recording of this host: which interfaces were
    /// watched and for how long, whether anything moved, and what was left
    /// out ("watched eth0, wlan0 for 10.0 s (lo left out; --exclude-interfaces '' to include it)").
    static func watchedLine(_ seen: InterfaceCounters.Seen, seconds: Double, events: Int) -> String {
        let shown = 8
        var line = "watched "
        switch seen.watched.count {
        case 0: line += "no interfaces"
        case ...shown: line += seen.watched.joined(separator: ", ")
        default: line += seen.watched.prefix(shown).joined(separator: ", ") + " and \(seen.watched.count - shown) more"
        }
        let tenths = Int((seconds * 10).rounded())
        line += " for \(tenths / 10).\(tenths % 10) s"
        if events == 0 { line += ": no traffic, nothing recorded" }
        if !seen.excluded.isEmpty {
            let them = seen.excluded.count == 1 ? "it" : "them"
            line += " (\(seen.excluded.joined(separator: ", ")) left out; --exclude-interfaces '' to include \(them))"
        }
        return line
    }

    private func recordInterfaces(options: RecorderOptions, logger: Logger) throws
        -> (RecorderMetrics, (seen: InterfaceCounters.Seen, seconds: Double)) {
        var sourceOptions = InterfaceCounters.Options()
        sourceOptions.cellularPatterns = try InterfacePattern.list(cellularInterfaces)
        sourceOptions.excludedPatterns = excludeInterfaces.isEmpty ? [] : try InterfacePattern.list(excludeInterfaces)
        let interfaces = InterfaceCounters(options: sourceOptions)
        let recorder = try makeRecorder(source: interfaces, options: options, clock: SystemClock(), logger: logger)
        let finished = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                finished.signal()
                // A second signal stops the process even if the last write hangs.
                signal(number, SIG_DFL)
            }
            source.resume()
            sources.append(source)
        }
        let started = SystemClock().now().monotonicMilliseconds
        recorder.start()
        if let duration {
            _ = finished.wait(timeout: .now() + .milliseconds(Int(duration * 1000)))
        } else {
            finished.wait()
        }
        sources.forEach { $0.cancel() }
        guard recorder.shutdown() else {
            // The disk is stuck: say so and leave, rather than wait for it.
            report("the last block was still being written after \(options.shutdownTimeoutMilliseconds) ms; exiting")
            throw ExitCode(1)
        }
        let seconds = Double(SystemClock().now().monotonicMilliseconds &- started) / 1000
        return (recorder.metrics, (interfaces.seen, seconds))
    }

    private func record(replaying path: String, options: RecorderOptions, logger: Logger) throws -> RecorderMetrics {
        let replaySource: ReplaySource
        do {
            replaySource = try ReplaySource(path: path)
        } catch {
            report(error.description)
            throw ExitCode(66)
        }
        let clock = ManualClock()
        var options = options
        options.syncEachBlock = false  // a replay can be rerun: sync each segment, not each block
        let recorder = try makeRecorder(source: replaySource, options: options, clock: clock, logger: logger)
        let factor = speed == "max" ? nil : Double(speed)
        var previous: ClockReading?
        do {
            while let reading = try replaySource.advance() {
                if let factor, let previous {
                    let elapsed = Double(Int64(bitPattern: reading.monotonicMilliseconds &- previous.monotonicMilliseconds))
                    let pause = elapsed / factor
                    if pause >= 1 { usleep(useconds_t(min(pause, 60_000) * 1000)) }
                }
                clock.set(reading)
                recorder.poll(at: reading)
                previous = reading
            }
        } catch {
            // What was recorded before the bad line is kept.
            recorder.shutdown()
            report(error.description)
            throw ExitCode(65)
        }
        guard recorder.shutdown() else {
            report("the last block was still being written after \(options.shutdownTimeoutMilliseconds) ms; exiting")
            throw ExitCode(1)
        }
        return recorder.metrics
    }

    private func makeRecorder(source: any CounterSource, options: RecorderOptions, clock: any RecorderClock,
                              logger: Logger) throws -> Recorder {
        do {
            return try Recorder(source: source, options: options, clock: clock, logger: logger)
        } catch {
            report(error.description)
            throw ExitCode(73)
        }
    }

    private func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private func report(_ message: String) {
        let line = "sockstat-record: " + message + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
