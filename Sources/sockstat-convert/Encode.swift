import ArgumentParser
import SockStatFormat
import SockStatStore
import SystemPackage

/// `sockstat-convert encode`: JSON lines to segments.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compact JSON lines into segments, laid out as the recorder writes them.",
        discussion: """
            Reads canonical JSON lines or tolerant variants (any member order and whitespace, \
            "c":0, member names in any case as Go matches them, logtail metadata, unknown \
            members). Blocks are cut by event time at the flush \
            interval and segments rotate by size, as when recording. Numbering continues after \
            the segments already in DIR.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("JSON-lines file to read; - for standard input.", valueName: "FILE"))
    var input: String = "-"

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory to write segments into (created 0700).", valueName: "DIR"))
    var output: String

    // Seconds, as `sockstat-record --flush-interval` takes it.
    @Option(help: ArgumentHelp("Seconds of event time one block spans.", valueName: "SECONDS"))
    var flushInterval: Double = Double(SegmentLogOptions().flushIntervalMilliseconds) / 1000

    @Option(help: ArgumentHelp("Rotate segments before they pass this many bytes.", valueName: "N"))
    var maxSegmentBytes: Int = SegmentLogOptions().maxSegmentBytes

    @Flag(help: "Report invalid lines and go on (exit 1) instead of stopping at the first (exit 65).")
    var skipInvalid = false

    func validate() throws {
        guard flushInterval >= 0.001, flushInterval <= 1e6 else {
            throw ValidationError("--flush-interval must be between 0.001 and 1e6 seconds")
        }
        guard maxSegmentBytes >= 4096, maxSegmentBytes <= FormatLimits.maxSegmentBytes / 2 else {
            throw ValidationError("--max-segment-bytes must be between 4096 and \(FormatLimits.maxSegmentBytes / 2)")
        }
        if let problem = segmentLogOptions.problem { throw ValidationError(problem) }
    }

    private var segmentLogOptions: SegmentLogOptions {
        var options = SegmentLogOptions()
        options.flushIntervalMilliseconds = Int64((flushInterval * 1000).rounded())
        options.maxSegmentBytes = maxSegmentBytes
        return options
    }

    func run() throws {
        let source: FileDescriptor
        if input == "-" {
            source = .standardInput
        } else {
            do {
                source = try FileDescriptor.open(FilePath(input), .readOnly)
            } catch {
                Diagnostics.report("\(input): cannot open: \(error)")
                throw Exit.noInput
            }
        }
        let inputName = input == "-" ? "standard input" : input
        let writer: SegmentLogWriter
        do {
            writer = try SegmentLogWriter(directory: output, options: segmentLogOptions)
        } catch {
            Diagnostics.report(error.description)
            throw Exit.cannotCreate
        }

        // One reader, one parser and one event for every line: plain lines
        // then parse on the fast path and without allocating.
        var reader = JSONLinesReader(fileDescriptor: source, closes: input != "-")
        defer { reader.close() }
        var parser = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        var skipped = 0
        var failure: ExitCode?
        reading: while true {
            let found: Bool
            do throws(JSONLinesReadError) {
                guard let parsed = try reader.next(parsingWith: &parser, into: &event) else { break reading }
                found = parsed
            } catch {
                Diagnostics.report("\(inputName): \(error)")
                guard error.code == .invalidLine else {
                    failure = error.code == .cannotRead ? Exit.noInput : Exit.dataError
                    break reading
                }
                guard skipInvalid else { failure = Exit.dataError; break reading }
                skipped += 1
                continue
            }
            guard found else { continue }
            do throws(AppendError) {
                try writer.append(event)
            } catch where error.code == .refused {
                Diagnostics.report("\(inputName): line \(reader.lineNumber): \(error)")
                guard skipInvalid else { failure = Exit.dataError; break reading }
                skipped += 1
            } catch {
                Diagnostics.report(error.description)
                failure = Exit.ioError
                break reading
            }
        }
        // Whatever was read before a failure is kept: close writes the last block.
        do {
            try writer.close()
        } catch {
            Diagnostics.report(error.description)
            throw Exit.ioError
        }
        let metrics = writer.metrics
        let perEvent = metrics.events > 0 ? Double(metrics.bytes) / Double(metrics.events) : 0
        let hundredths = Int((perEvent * 100).rounded())
        let figure = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        Diagnostics.report("encoded \(plural(metrics.events, "event")): \(plural(metrics.segments, "segment")), \(plural(metrics.blocks, "block")), \(metrics.bytes) bytes, \(figure) B/event")
        if let failure { throw failure }
        if skipped > 0 {
            Diagnostics.report("\(skipped) invalid lines skipped")
            throw Exit.incomplete
        }
    }
}

private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
