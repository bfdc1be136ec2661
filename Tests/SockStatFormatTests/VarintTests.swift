import Testing
@testable import SockStatFormat
import TestSupport

/// Reads one varint from `bytes` with `ByteCursor`; returns the value or the
/// error, and how far the cursor moved.
func readOneVarint(_ bytes: [UInt8]) -> (result: Result<UInt64, VarintError>, consumed: Int) {
    bytes.withUnsafeBytes { raw in
        var cursor = ByteCursor(raw)
        let start = cursor.position
        do throws(VarintError) {
            let value = try cursor.readVarint()
            return (.success(value), cursor.position - start)
        } catch {
            return (.failure(error), cursor.position - start)
        }
    }
}

/// LEB128 varints: exact bytes, sizes, decoding and every way decoding fails.
@Suite struct VarintTests {
    /// A value and the bytes protobuf writes for it, written out by hand.
    struct Case: CustomTestStringConvertible, Sendable {
        var value: UInt64
        var bytes: [UInt8]
        var testDescription: String { "\(value)" }
    }

    static let cases: [Case] = [
        Case(value: 0, bytes: [0x00]),
        Case(value: 1, bytes: [0x01]),
        Case(value: 2, bytes: [0x02]),
        Case(value: 127, bytes: [0x7F]),
        Case(value: 128, bytes: [0x80, 0x01]),
        Case(value: 129, bytes: [0x81, 0x01]),
        Case(value: 150, bytes: [0x96, 0x01]),
        Case(value: 300, bytes: [0xAC, 0x02]),
        Case(value: 16383, bytes: [0xFF, 0x7F]),
        Case(value: 16384, bytes: [0x80, 0x80, 0x01]),
        Case(value: 2_097_151, bytes: [0xFF, 0xFF, 0x7F]),  // 2^21 - 1
        Case(value: 2_097_152, bytes: [0x80, 0x80, 0x80, 0x01]),  // 2^21
        Case(value: 268_435_455, bytes: [0xFF, 0xFF, 0xFF, 0x7F]),  // 2^28 - 1
        Case(value: 268_435_456, bytes: [0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^28
        Case(value: 4_294_967_295, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),  // UInt32.max
        Case(value: 34_359_738_367, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // 2^35 - 1
        Case(value: 34_359_738_368, bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^35
        Case(value: 4_398_046_511_103, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // 2^42 - 1
        Case(value: 4_398_046_511_104, bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^42
        Case(value: 562_949_953_421_311, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // 2^49 - 1
        Case(value: 562_949_953_421_312, bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^49
        Case(value: 72_057_594_037_927_935,
             bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // 2^56 - 1
        Case(value: 72_057_594_037_927_936,
             bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^56
        Case(value: 9_223_372_036_854_775_807,
             bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // 2^63 - 1
        Case(value: 9_223_372_036_854_775_808,
             bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2^63
        Case(value: 18_446_744_073_709_551_615,
             bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),  // UInt64.max
    ]

    @Test(arguments: cases)
    func appendWritesProtobufBytes(_ entry: Case) {
        var out: [UInt8] = []
        Varint.append(entry.value, to: &out)
        #expect(out == entry.bytes)
    }

    @Test(arguments: cases)
    func appendKeepsBytesAlreadyInTheArray(_ entry: Case) {
        var out: [UInt8] = [0xAA, 0xBB]
        Varint.append(entry.value, to: &out)
        #expect(out == [0xAA, 0xBB] + entry.bytes)
    }

    @Test(arguments: cases)
    func encodedSizeIsTheNumberOfBytesWritten(_ entry: Case) {
        #expect(Varint.encodedSize(entry.value) == entry.bytes.count)
    }

    @Test(arguments: cases)
    func writeToPointerWritesTheSameBytesAndNoMore(_ entry: Case) {
        // 12 bytes of sentinel: 10 of room plus 2 that must stay untouched.
        var buffer = [UInt8](repeating: 0xEE, count: Varint.maxBytes + 2)
        let count = buffer.withUnsafeMutableBufferPointer { Varint.write(entry.value, to: $0.baseAddress!) }
        #expect(count == entry.bytes.count)
        #expect(Array(buffer[..<count]) == entry.bytes)
        #expect(buffer[count...].allSatisfy { $0 == 0xEE })
    }

    @Test(arguments: cases)
    func readDecodesTheExactEncodingAndConsumesIt(_ entry: Case) {
        let (result, consumed) = readOneVarint(entry.bytes)
        #expect(result == .success(entry.value))
        #expect(consumed == entry.bytes.count)
    }

    @Test(arguments: cases)
    func readStopsAtTheLastByteAndLeavesWhatFollows(_ entry: Case) {
        // A following byte with the high bit set must not be taken as part of the varint.
        let (result, consumed) = readOneVarint(entry.bytes + [0x80, 0x01])
        #expect(result == .success(entry.value))
        #expect(consumed == entry.bytes.count)
    }

    @Test func maxBytesIsTen() {
        #expect(Varint.maxBytes == 10)
    }

    @Test func consecutiveVarintsReadBackInOrder() {
        // 1, 300, 0, UInt64.max, 127 written out by hand, back to back.
        let bytes: [UInt8] = [0x01, 0xAC, 0x02, 0x00,
                              0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x7F]
        var values: [UInt64] = []
        var failure: VarintError?
        bytes.withUnsafeBytes { raw in
            var cursor = ByteCursor(raw)
            while !cursor.isAtEnd {
                do throws(VarintError) { values.append(try cursor.readVarint()) } catch {
                    failure = error
                    return
                }
            }
        }
        #expect(failure == nil)
        #expect(values == [1, 300, 0, .max, 127])
    }

    @Test(arguments: cases)
    func publicReadAgreesWithTheCursorAtAnOffset(_ entry: Case) {
        // Behind two bytes of something else, with one byte after it.
        let bytes: [UInt8] = [0xAA, 0xBB] + entry.bytes + [0x7F]
        let expected = readOneVarint(entry.bytes)
        bytes.withUnsafeBytes { raw in
            var offset = 2
            do throws(VarintError) {
                let value = try Varint.read(raw, at: &offset)
                #expect(expected.result == .success(value))
                #expect(offset == 2 + expected.consumed)
            } catch {
                #expect(expected.result == .failure(error))
                #expect(offset == 2)
            }
        }
    }

    @Test func cursorReportsRemainingBytes() {
        ([0x96, 0x01, 0x05] as [UInt8]).withUnsafeBytes { raw in
            var cursor = ByteCursor(raw)
            #expect(cursor.remaining == 3)
            #expect(!cursor.isAtEnd)
            #expect((try? cursor.readVarint()) == 150)
            #expect(cursor.remaining == 1)
            #expect((try? cursor.readVarint()) == 5)
            #expect(cursor.remaining == 0)
            #expect(cursor.isAtEnd)
        }
    }

    @Test func emptyBufferCursorIsAtEnd() {
        [UInt8]().withUnsafeBytes { raw in
            let cursor = ByteCursor(raw)
            #expect(cursor.isAtEnd)
            #expect(cursor.remaining == 0)
        }
    }

    // MARK: Errors

    /// Bytes that are not one valid varint, and the error they give.
    struct BadCase: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var error: VarintError
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "empty", bytes: [], error: .truncated),
        BadCase(name: "one continuation byte", bytes: [0x80], error: .truncated),
        BadCase(name: "two continuation bytes", bytes: [0xFF, 0xFF], error: .truncated),
        BadCase(name: "nine continuation bytes", bytes: [UInt8](repeating: 0x80, count: 9), error: .truncated),
        BadCase(name: "ten continuation bytes (10th above 1)",
                bytes: [UInt8](repeating: 0xFF, count: 10), error: .overflow),
        BadCase(name: "eleven 0xFF bytes", bytes: [UInt8](repeating: 0xFF, count: 11), error: .overflow),
        BadCase(name: "eleven bytes ending 0x01",
                bytes: [UInt8](repeating: 0x80, count: 10) + [0x01], error: .overflow),
        BadCase(name: "10th byte 0x02",
                bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], error: .overflow),
        BadCase(name: "10th byte 0x7F",
                bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F], error: .overflow),
        BadCase(name: "10th byte 0x81",
                bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00], error: .overflow),
        BadCase(name: "overlong zero 80 00", bytes: [0x80, 0x00], error: .overlong),
        BadCase(name: "overlong one 81 00", bytes: [0x81, 0x00], error: .overlong),
        BadCase(name: "overlong 127 FF 80 00", bytes: [0xFF, 0x80, 0x00], error: .overlong),
        BadCase(name: "overlong 3 bytes FF FF 00", bytes: [0xFF, 0xFF, 0x00], error: .overlong),
        BadCase(name: "overlong 10 bytes ending 00",
                bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], error: .overlong),
    ]

    @Test(arguments: badCases)
    func publicReadRejectsInvalidBytesAndKeepsTheOffset(_ entry: BadCase) {
        let bytes: [UInt8] = [0xAA, 0xBB] + entry.bytes
        bytes.withUnsafeBytes { raw in
            var offset = 2
            #expect(throws: entry.error) { try Varint.read(raw, at: &offset) }
            #expect(offset == 2)
        }
    }

    @Test(arguments: badCases)
    func readRejectsInvalidBytes(_ entry: BadCase) {
        #expect(readOneVarint(entry.bytes).result == .failure(entry.error))
    }

    @Test(arguments: badCases)
    func failedReadLeavesTheCursorWhereItWas(_ entry: BadCase) {
        // A valid 0x05 first, so the cursor is not at the buffer start when it fails.
        let bytes = [0x05] + entry.bytes
        bytes.withUnsafeBytes { raw in
            var cursor = ByteCursor(raw)
            #expect((try? cursor.readVarint()) == 5)
            let before = cursor.position
            do throws(VarintError) {
                let value = try cursor.readVarint()
                Issue.record("read \(value) from invalid bytes")
            } catch {
                #expect(error == entry.error)
            }
            #expect(cursor.position == before)
            #expect(cursor.remaining == entry.bytes.count)
        }
    }

    @Test func truncatedVarintCutFromEachValidEncodingIsTruncated() {
        // Every proper prefix of every multi-byte encoding is cut short.
        for entry in Self.cases where entry.bytes.count > 1 {
            for length in 0..<entry.bytes.count {
                let prefix = Array(entry.bytes[..<length])
                #expect(readOneVarint(prefix).result == .failure(.truncated), "\(entry.value) cut to \(length) bytes")
            }
        }
    }

    // MARK: ZigZag

    struct ZigZagCase: CustomTestStringConvertible, Sendable {
        var signed: Int64
        var unsigned: UInt64
        var testDescription: String { "\(signed) <-> \(unsigned)" }
    }

    static let zigZagCases: [ZigZagCase] = [
        ZigZagCase(signed: 0, unsigned: 0),
        ZigZagCase(signed: -1, unsigned: 1),
        ZigZagCase(signed: 1, unsigned: 2),
        ZigZagCase(signed: -2, unsigned: 3),
        ZigZagCase(signed: 2, unsigned: 4),
        ZigZagCase(signed: 63, unsigned: 126),
        ZigZagCase(signed: -64, unsigned: 127),
        ZigZagCase(signed: 64, unsigned: 128),
        ZigZagCase(signed: 2_147_483_647, unsigned: 4_294_967_294),
        ZigZagCase(signed: -2_147_483_648, unsigned: 4_294_967_295),
        ZigZagCase(signed: 9_223_372_036_854_775_807, unsigned: 18_446_744_073_709_551_614),
        ZigZagCase(signed: -9_223_372_036_854_775_808, unsigned: 18_446_744_073_709_551_615),
    ]

    @Test(arguments: zigZagCases)
    func zigZagEncodesToTheProtobufValue(_ entry: ZigZagCase) {
        #expect(ZigZag.encode(entry.signed) == entry.unsigned)
    }

    @Test(arguments: zigZagCases)
    func zigZagDecodesToTheSignedValue(_ entry: ZigZagCase) {
        #expect(ZigZag.decode(entry.unsigned) == entry.signed)
    }

    @Test func zigZagRoundTripsSeededValues() {
        var generator = TestRandom(seed: 0x5EED_2162)
        for _ in 0..<20_000 {
            // Mix full-range values with small magnitudes, where mistakes show first.
            let value: Int64 = generator.next() % 2 == 0
                ? Int64(bitPattern: generator.next())
                : Int64(truncatingIfNeeded: generator.next() % 1024) - 512
            #expect(ZigZag.decode(ZigZag.encode(value)) == value)
            // Small magnitudes stay small: |v| < 2^k encodes below 2^(k+1).
            #expect(ZigZag.encode(value) / 2 <= value.magnitude)
        }
        for unsigned in [UInt64](0...1000) + [.max, .max - 1, 1 << 63, (1 << 63) - 1] {
            #expect(ZigZag.encode(ZigZag.decode(unsigned)) == unsigned)
        }
    }

    @Test func varintRoundTripsSeededValuesOfEveryLength() {
        var generator = TestRandom(seed: 0x1EB1_28)
        for _ in 0..<20_000 {
            // A random bit length, so every encoded size 1...10 is common.
            let bits = Int(generator.next() % 65)
            let value = bits == 0 ? 0 : generator.next() >> UInt64(64 - bits)
            var out: [UInt8] = []
            Varint.append(value, to: &out)
            #expect(out.count == Varint.encodedSize(value))
            #expect(out == leb128(value))  // the test's own LEB128 writer
            // Only the last byte has its high bit clear.
            #expect(out.dropLast().allSatisfy { $0 & 0x80 != 0 })
            #expect(out.last! & 0x80 == 0)
            let (result, consumed) = readOneVarint(out)
            #expect(result == .success(value))
            #expect(consumed == out.count)
        }
    }
}
