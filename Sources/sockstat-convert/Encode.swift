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

        // One parser and one event for every line: plain lines then parse
        // on the fast path and without allocating.
        var parser = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        var skipped = 0
        var failure: ExitCode?
        do {
            try LineReader(source, name: inputName).forEachLine { line, number in
                let found: Bool
                do {
                    found = try parser.parse(line, lineNumber: number, into: &event)
                } catch {
                    Diagnostics.report("\(inputName): \(error)")
                    guard skipInvalid else { failure = Exit.dataError; return false }
                    skipped += 1
                    return true
                }
                guard found else { return true }
                do throws(AppendError) {
                    try writer.append(event)
                } catch where error.code == .refused {
                    Diagnostics.report("\(inputName): line \(number): \(error)")
                    guard skipInvalid else { failure = Exit.dataError; return false }
                    skipped += 1
                } catch {
                    Diagnostics.report(error.description)
                    failure = Exit.ioError
                    return false
                }
                return true
            }
        } catch let error as LineReader.Failure {
            Diagnostics.report(error.description)
            failure = error.isRead ? Exit.noInput : Exit.dataError
        }
        // Whatever was read before a failure is kept: close writes the last block.
        do {
            try writer.close()
        } catch {
            Diagnostics.report(error.description)
            throw Exit.ioError
        }
        if input != "-" { try? source.close() }
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

/// Splits a byte stream into lines without holding more than one line (plus
/// a read chunk) in memory.
struct LineReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        var isRead: Bool
    }

    /// Longest line accepted: far above the largest event the format holds.
    static let maxLineBytes = 64 << 20

    let source: FileDescriptor
    let name: String

    init(_ source: FileDescriptor, name: String) {
        self.source = source
        self.name = name
    }

    /// Calls `body` with each line (without its "\n") and its 1-based number
    /// until it returns false or the input ends.
    func forEachLine(_ body: (UnsafeRawBufferPointer, Int) throws -> Bool) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var filled = 0
        var lineNumber = 0
        var atEnd = false
        while !atEnd {
            if filled == buffer.count {
                guard buffer.count < Self.maxLineBytes else {
                    throw Failure(description: "\(name): line \(lineNumber + 1): longer than \(Self.maxLineBytes) bytes", isRead: false)
                }
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBytes { raw in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]), retryOnInterrupt: true)
                }
            } catch {
                throw Failure(description: "\(name): read failed: \(error)", isRead: true)
            }
            if got == 0 { atEnd = true }
            filled += got
            var consumed = 0
            let keepGoing: Bool = try buffer.withUnsafeBytes { raw in
                var start = 0
                while start < filled {
                    guard let newline = raw[start..<filled].firstIndex(of: 0x0A) else {
                        if atEnd {
                            // A last line without "\n" still counts.
                            lineNumber += 1
                            consumed = filled
                            return try body(UnsafeRawBufferPointer(rebasing: raw[start..<filled]), lineNumber)
                        }
                        break
                    }
                    lineNumber += 1
                    let line = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
                    start = newline + 1
                    consumed = start
                    guard try body(line, lineNumber) else { return false }
                }
                return true
            }
            guard keepGoing else { return }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + consumed, byteCount: filled - consumed)
                }
                filled -= consumed
            }
        }
    }
}
