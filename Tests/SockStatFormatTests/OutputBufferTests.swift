import Testing
@testable import SockStatFormat

struct OutputBufferTests {
    struct SinkFailure: Error {}

    /// A sink that throws loses nothing: the bytes stay buffered, the error
    /// reaches the writer, and the next flush hands them over whole.
    @Test func aThrowingSinkKeepsTheBytesForTheNextFlush() throws {
        nonisolated(unsafe) var failing = true
        nonisolated(unsafe) var received: [UInt8] = []
        let output = OutputBuffer(capacity: 1 << 16) { bytes in
            if failing { throw SinkFailure() }
            received.append(contentsOf: bytes)
        }
        let first = [UInt8](repeating: 7, count: 40_000)
        let second = [UInt8](repeating: 9, count: 40_000)
        try output.append(first)
        // The second append needs room: the flush it makes fails.
        #expect(throws: SinkFailure.self) { try output.append(second) }
        // Full: the first append and as much of the second as fitted.
        #expect(output.bufferedCount == 1 << 16)
        #expect(throws: SinkFailure.self) { try output.flush() }
        failing = false
        try output.flush()
        #expect(received == first + second.prefix((1 << 16) - first.count))
        #expect(output.bufferedCount == 0)
    }

    @Test func writeKeepsWhatTheWriterSaysItWrote() throws {
        var received: [UInt8] = []
        let output = OutputBuffer { received.append(contentsOf: $0) }
        try output.write(atMost: 8) { room in
            for index in 0..<3 { room[index] = UInt8(index + 1) }
            return 3
        }
        try output.append([4])
        try output.flush()
        #expect(received == [1, 2, 3, 4])
        #expect(output.largestWrite >= 1 << 16)
    }

    @Test func discardForgetsTheBufferedBytes() throws {
        var received: [UInt8] = []
        let output = OutputBuffer { received.append(contentsOf: $0) }
        try output.append([1, 2, 3])
        output.discard()
        try output.flush()
        #expect(received.isEmpty)
    }
}
