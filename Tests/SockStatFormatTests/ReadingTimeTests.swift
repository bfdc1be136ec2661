import Testing
@testable import SockStatFormat
import TestSupport

// Reading costs time linear in the input, whatever the input
// (Spec/FORMAT.md section 10.1, "Time"; Spec/GUARANTEES.md 3.1). A file of
// forged frame headers, each with a header check that holds and a length
// that reaches the end of the file, made every candidate cost a CRC of up to
// the whole file: quadratic (a crafted 4 MiB file took hours). Each hostile
// file here is read against a real log of the same size, and the ratio of
// the two times is bounded (best of three each, so a loaded machine does not
// decide the outcome; a quadratic reader is hundreds of times slower).

/// A segment of realistic traffic: three labels, 100 ms ticks, 10 s blocks,
/// at least `size` bytes.
func realisticSegment(atLeast size: Int) throws -> [UInt8] {
    var bytes = SegmentHeader(sequence: 1, creationTime: 0).encoded()
    var encoder = BlockEncoder(segmentSequence: 1)
    let deflater = Deflater()
    var random = TestRandom(seed: 42)
    let labels = [Label("2"), Label("8"), Label("wlan0")]
    var time: Int64 = 1_764_288_339_865
    while bytes.count < size {
        for _ in 0..<100 {
            var counts: [LabelCounts] = []
            for label in labels where random.below(3) != 0 {
                counts.append(LabelCounts(label: label, tx: UInt64(random.below(1 << 16)), rx: UInt64(random.below(1 << 20))))
            }
            if counts.isEmpty { counts.append(LabelCounts(label: labels[0], tx: 148, rx: 148)) }
            try encoder.append(Event(time: time, duration: 100, counts: counts))
            time += 100
        }
        encoder.finishBlock(using: deflater, appendingTo: &bytes)
    }
    return bytes
}

/// A frame header whose check holds, claiming `length` stored bytes.
func forgedFrameHeader(length: Int) -> [UInt8] {
    var header = BlockFrame.marker
    withUnsafeBytes(of: UInt32(length).littleEndian) { header += $0 }
    header += [0, 0, 0, 0]
    let check = header.withUnsafeBytes { CRC32.checksum($0) }
    withUnsafeBytes(of: check.littleEndian) { header += $0 }
    return header
}

/// The seconds it takes to read `bytes` as `sockstat-convert decode` does
/// (every step, every block written as JSON lines into a discarding buffer);
/// the best of three.
func secondsToRead(_ bytes: [UInt8]) throws -> Double {
    var best = Double.infinity
    for _ in 0..<3 {
        let clock = ContinuousClock()
        let start = clock.now
        var reader = try SegmentReader(bytes: bytes)
        var decoder = BlockDecoder()
        var block = DecodedBlock()
        var writer = CanonicalJSONBlockWriter()
        let output = OutputBuffer { _ in }
        var steps = 0
        loop: while true {
            steps += 1
            switch reader.next(into: &block, using: &decoder) {
            case .block: try writer.write(block, to: output)
            case .damage: continue
            case .end: break loop
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return best
}

struct HostileFile: CustomTestStringConvertible, Sendable {
    var name: String
    var make: @Sendable (_ size: Int) -> [UInt8]
    var testDescription: String { name }

    static let all: [HostileFile] = [
        // The quadratic case: headers that hold, 16 bytes apart, each claiming the rest of the file.
        HostileFile(name: "forged headers claiming the rest of the file") { size in
            var bytes = SegmentHeader(sequence: 1, creationTime: 0).encoded()
            while bytes.count + BlockFrame.headerSize <= size {
                bytes += forgedFrameHeader(length: size - bytes.count - BlockFrame.headerSize)
            }
            return bytes + [UInt8](repeating: 0, count: size - bytes.count)
        },
        // Headers that hold in the first half, each claiming half the file, then zeros.
        HostileFile(name: "forged headers claiming half the file, then zeros") { size in
            var bytes = SegmentHeader(sequence: 1, creationTime: 0).encoded()
            while bytes.count < size / 2 { bytes += forgedFrameHeader(length: size / 2 - BlockFrame.headerSize) }
            return bytes + [UInt8](repeating: 0, count: size - bytes.count)
        },
        // Markers with lengths in range and no header check: rejected in constant time.
        HostileFile(name: "markers and lengths without header checks") { size in
            var bytes = SegmentHeader(sequence: 1, creationTime: 0).encoded()
            while bytes.count + 12 <= size { bytes += BlockFrame.marker + [0x00, 0x00, 0x40, 0x00, 0, 0, 0, 0] }
            return bytes + [UInt8](repeating: 0, count: size - bytes.count)
        },
        HostileFile(name: "nothing but markers") { size in
            var bytes = SegmentHeader(sequence: 1, creationTime: 0).encoded()
            while bytes.count < size { bytes += BlockFrame.marker }
            return Array(bytes.prefix(size))
        },
    ]
}

@Suite(.serialized) struct ReadingTimeTests {
    static let size = 1 << 20
    static let real: [UInt8] = (try? realisticSegment(atLeast: size)) ?? []

    @Test(arguments: HostileFile.all)
    func hostileFilesReadInTimeLinearInTheirSize(_ hostile: HostileFile) throws {
        let real = Self.real
        try #require(real.count >= Self.size)
        let bytes = hostile.make(real.count)
        #expect(bytes.count == real.count)
        let hostileSeconds = try secondsToRead(bytes)
        let realSeconds = try secondsToRead(real)
        let ratio = hostileSeconds / realSeconds
        print("\(hostile.name): \(bytes.count) bytes in \(hostileSeconds) s, a real log of the same size in \(realSeconds) s: ratio \(ratio)")
        #expect(ratio < 8, "\(hostile.name): \(hostileSeconds) s against \(realSeconds) s for a real log")
    }
}
