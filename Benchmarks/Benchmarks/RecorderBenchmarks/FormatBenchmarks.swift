import Benchmark
import SockStatFormat
#if canImport(Glibc)
import Glibc
#endif

/// The events every format benchmark works on: the JSON lines named by
/// SOCKSTAT_BENCHMARK_EVENTS (the reference day, for the figures in
/// README.md), else the fixture cut from the reference workload (6,424 events).
struct ReferenceEvents {
    let lines: [[UInt8]]
    let events: [Event]
    /// The events cut into blocks as the writer cuts them: a block holds at
    /// most 10 s of event time from its first event.
    let frames: [[UInt8]]
    /// The uncompressed payload of each frame.
    let payloads: [[UInt8]]

    static let shared = ReferenceEvents()

    static var path: String {
        if let path = getenv("SOCKSTAT_BENCHMARK_EVENTS") {
            return String(cString: path)
        }
        // Benchmarks/Benchmarks/RecorderBenchmarks/FormatBenchmarks.swift → repository root.
        var root = "\(#filePath)"
        for _ in 0..<4 {
            root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)])
        }
        return root + "/Fixtures/several-segments/source.jsonl"
    }

    init() {
        guard let file = fopen(Self.path, "rb") else { fatalError("cannot open \(Self.path)") }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            text += chunk[..<count]
        }
        lines = text.split(separator: UInt8(ascii: "\n")).map(Array.init)
        let parser = JSONLinesParser()
        events = lines.enumerated().compactMap { try? parser.parse($0.element, lineNumber: $0.offset + 1) }

        var encoder = BlockEncoder(segmentSequence: 1)
        let deflater = Deflater()
        var frames: [[UInt8]] = []
        Self.encode(events, with: &encoder, deflater) { frames.append($0) }
        self.frames = frames
        let inflater = Inflater()
        payloads = frames.map { frame in
            frame.withUnsafeBytes { bytes in
                let stored = UnsafeRawBufferPointer(rebasing: bytes[BlockFrame.headerSize...])
                return Array((try? inflater.inflate(stored)) ?? UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// Encodes `events` into blocks cut every 10 s of event time, handing
    /// each frame to `frame`.
    static func encode(_ events: [Event], with encoder: inout BlockEncoder, _ deflater: Deflater, frame: ([UInt8]) -> Void) {
        var out: [UInt8] = []
        for event in events {
            if let first = encoder.firstEventTime, !(0..<10_000).contains(event.time &- first) {
                out.removeAll(keepingCapacity: true)
                encoder.finishBlock(using: deflater, appendingTo: &out)
                frame(out)
            }
            try? encoder.append(event)
        }
        out.removeAll(keepingCapacity: true)
        encoder.finishBlock(using: deflater, appendingTo: &out)
        frame(out)
    }
}

/// One iteration of each works through every reference event (or block), so
/// events per second = events / wall time per iteration.
func formatBenchmarks() {
    let reference = ReferenceEvents.shared
    let values = reference.events.flatMap { $0.counts.flatMap { [$0.tx, $0.rx] } }
    let note = "\(reference.events.count) events, \(reference.frames.count) blocks"

    Benchmark("varint: append every tx and rx (\(values.count) values)") { benchmark in
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 10)
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            for value in values { Varint.append(value, to: &out) }
            blackHole(out)
        }
    }

    Benchmark("varint: read every tx and rx (\(values.count) values)") { benchmark in
        var encoded: [UInt8] = []
        for value in values { Varint.append(value, to: &encoded) }
        for _ in benchmark.scaledIterations {
            var sum: UInt64 = 0
            encoded.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    sum &+= (try? Varint.read(bytes, at: &offset)) ?? 0
                }
            }
            blackHole(sum)
        }
    }

    Benchmark("encode: events to compressed frames (\(note))") { benchmark in
        let deflater = Deflater()
        for _ in benchmark.scaledIterations {
            var encoder = BlockEncoder(segmentSequence: 1)
            var bytes = 0
            ReferenceEvents.encode(reference.events, with: &encoder, deflater) { bytes += $0.count }
            blackHole(bytes)
        }
    }

    Benchmark("deflate: every block payload (\(note))") { benchmark in
        let deflater = Deflater()
        var out: [UInt8] = []
        for _ in benchmark.scaledIterations {
            for payload in reference.payloads {
                out.removeAll(keepingCapacity: true)
                payload.withUnsafeBytes { deflater.compress($0, appendingTo: &out) }
            }
            blackHole(out)
        }
    }

    Benchmark("inflate: every block (\(note))") { benchmark in
        let inflater = Inflater()
        for _ in benchmark.scaledIterations {
            var bytes = 0
            for frame in reference.frames {
                frame.withUnsafeBytes { raw in
                    bytes += (try? inflater.inflate(UnsafeRawBufferPointer(rebasing: raw[BlockFrame.headerSize...])).count) ?? 0
                }
            }
            blackHole(bytes)
        }
    }

    Benchmark("decode: every block to events, inflate included (\(note))") { benchmark in
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        for _ in benchmark.scaledIterations {
            var events = 0
            for frame in reference.frames {
                frame.withUnsafeBytes { raw in
                    try? decoder.decode(stored: UnsafeRawBufferPointer(rebasing: raw[BlockFrame.headerSize...]), into: &block)
                }
                events += block.eventCount
            }
            blackHole(events)
        }
    }

    Benchmark("canonical JSON: write every decoded block (\(note))") { benchmark in
        var decoder = BlockDecoder()
        var blocks: [DecodedBlock] = []
        for frame in reference.frames {
            var block = DecodedBlock()
            frame.withUnsafeBytes { raw in
                try? decoder.decode(stored: UnsafeRawBufferPointer(rebasing: raw[BlockFrame.headerSize...]), into: &block)
            }
            blocks.append(block)
        }
        var written = 0
        let output = OutputBuffer { written &+= $0.count }
        var writer = CanonicalJSONBlockWriter()
        for _ in benchmark.scaledIterations {
            for block in blocks {
                _ = try? writer.write(block, to: output)
            }
            try? output.flush()
        }
        blackHole(written)
    }

    Benchmark("JSON lines: parse every line into one reused event (\(note))") { benchmark in
        var parser = JSONLinesParser()
        var event = Event(time: 0, duration: 0, counts: [])
        for _ in benchmark.scaledIterations {
            var labels = 0
            for (number, line) in reference.lines.enumerated() {
                line.withUnsafeBytes { bytes in
                    _ = try? parser.parse(bytes, lineNumber: number + 1, into: &event)
                }
                labels += event.counts.count
            }
            blackHole(labels)
        }
    }
}
