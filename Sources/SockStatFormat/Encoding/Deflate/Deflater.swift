/// Compresses block payloads as raw DEFLATE (RFC 1951) streams, built for
/// their shape rather than zlib's general case.
///
/// Payloads are varints whose low bytes are close to random: zlib level 6
/// spends most of its time building Huffman trees and searching for matches
/// that are not there (on the reference day it is 0.6% smaller than Huffman
/// coding alone, at four times the CPU, most of recording's). What does
/// repeat is label text (a block defines every label it uses, and labels share
/// prefixes). So this encoder takes only the cheap matches: one hash probe per
/// position for a 4-byte match within the piece and the last 32 KiB, extended
/// greedily. Each
/// piece of at most 65,534 symbols becomes a dynamic Huffman block built for
/// it, a fixed-code block, or stored bytes, whichever is smallest. Any inflater
/// reads the result; output is a pure function of the input.
///
/// Raw streams have no zlib header or Adler-32: the block frame carries its
/// own length and CRC-32. One `Deflater` is kept for the life of a writer;
/// after the first blocks, compressing allocates nothing.
///
/// The parts, one file each beside this one: `MatchFinder` parses a piece
/// into tokens and counts their symbols, `HuffmanBuilder` builds the piece's
/// codes, and this type picks the block type and writes it through a
/// `BitWriter`.
///
/// A class because it owns its tables, which must be freed once.
public final class Deflater: BlockCompressor {
    /// Symbols per DEFLATE block: keeping every frequency below 65,536 lets
    /// them sort in two radix passes.
    static let maximumTokens = 65_534
    /// Bytes per stored DEFLATE block (RFC 1951, 3.2.4).
    static let storedBlockBytes = 65_535

    /// The order code-length code lengths are sent in (RFC 1951, 3.2.7).
    private static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private let literalLengths = HuffmanTable(symbols: DeflateAlphabet.literalLengthSymbols)
    private let distances = HuffmanTable(symbols: DeflateAlphabet.distanceSymbols)
    private let fixedLiteralLengths = HuffmanTable(symbols: 288)
    private let fixedDistances = HuffmanTable(symbols: DeflateAlphabet.distanceSymbols)
    private let codeLengths = HuffmanTable(symbols: 19)
    private let builder = HuffmanBuilder(maxSymbols: DeflateAlphabet.literalLengthSymbols)

    private let alphabet = DeflateAlphabet()
    /// Internal, not private, for the tests' hook on its piece offset.
    let matchFinder: MatchFinder
    /// Lengths and extra bits of the code-length symbols 0…18.
    private let extraBits: UnsafeMutablePointer<UInt8>
    /// The code lengths of a dynamic header, run-length coded (symbols 0…18
    /// and their extra-bit values), and how many of each alphabet are sent.
    private let lengths: UnsafeMutablePointer<UInt8>
    private let runSymbols: UnsafeMutablePointer<UInt8>
    private let runExtras: UnsafeMutablePointer<UInt8>
    private var runCount = 0
    private var literalLengthsSent = 0
    private var distancesSent = 0
    private var codeLengthsSent = 0

    /// Creates a compressor.
    public init() {
        matchFinder = MatchFinder(alphabet: alphabet)
        extraBits = .allocate(capacity: 19)
        extraBits.initialize(repeating: 0, count: 19)
        extraBits[16] = 2
        extraBits[17] = 3
        extraBits[18] = 7
        let sent = DeflateAlphabet.literalLengthSymbols + DeflateAlphabet.distanceSymbols
        lengths = .allocate(capacity: sent)
        runSymbols = .allocate(capacity: sent)
        runExtras = .allocate(capacity: sent)
        // RFC 1951, 3.2.6: all 288 literal/length symbols (their canonical
        // numbering counts the two never sent), distances in 5 bits.
        for symbol in 0..<288 {
            fixedLiteralLengths.lengths[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
        }
        fixedLiteralLengths.assignCodes()
        for symbol in 0..<DeflateAlphabet.distanceSymbols { fixedDistances.lengths[symbol] = 5 }
        fixedDistances.assignCodes()
    }

    deinit {
        extraBits.deallocate()
        lengths.deallocate()
        runSymbols.deallocate()
        runExtras.deallocate()
    }

    /// Compresses `input` as one complete raw DEFLATE stream appended to `output`.
    ///
    /// The stream ends with a final block and a byte boundary; any inflater
    /// reads it back, and the same input gives the same bytes every time.
    ///
    /// - Parameters:
    ///   - input: The bytes to compress, of any length.
    ///   - output: Where the stream is appended; bytes already there are kept.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        // No piece costs more than stored: per stored block of up to 65,535
        // bytes, 3 header bits, up to 7 to align and 4 length bytes. A piece
        // but the last spans at least 65,534 bytes.
        let bound = input.count + 12 * (input.count / Self.maximumTokens + 1) + 8
        let start = output.count
        output.reserveCapacity(start + bound)
        output.append(contentsOf: repeatElement(0, count: bound))
        matchFinder.reserveTokens(forInputOf: input.count)
        let written = output.withUnsafeMutableBytes { out in
            var bits = BitWriter(out.baseAddress! + start)
            var position = 0
            repeat {
                let end = matchFinder.parse(input, from: position, counting: literalLengths, distances)
                compressPiece(input, position..<end, isLast: end == input.count, to: &bits)
                position = end
            } while position < input.count
            return bits.finish()
        }
        precondition(written <= bound, "DEFLATE output past its bound")
        output.removeLast(bound - written)
    }

    private func compressPiece(_ input: UnsafeRawBufferPointer, _ range: Range<Int>, isLast: Bool, to bits: inout BitWriter) {
        literalLengths.frequencies[DeflateAlphabet.endOfBlock] = 1
        builder.build(literalLengths, limit: 15)
        builder.build(distances, limit: 15)
        let headerBits = prepareDynamicHeader()
        var dynamicBits = 3 + headerBits
        var fixedBits = 3
        for symbol in 0..<DeflateAlphabet.literalLengthSymbols {
            let count = Int(literalLengths.frequencies[symbol])
            guard count != 0 else { continue }
            let extra = symbol > 256 ? Int(DeflateAlphabet.lengthExtra[symbol - 257]) : 0
            dynamicBits += count * (Int(literalLengths.lengths[symbol]) + extra)
            fixedBits += count * (Int(fixedLiteralLengths.lengths[symbol]) + extra)
        }
        for symbol in 0..<DeflateAlphabet.distanceSymbols {
            let count = Int(distances.frequencies[symbol])
            guard count != 0 else { continue }
            let extra = Int(DeflateAlphabet.distanceExtra[symbol])
            dynamicBits += count * (Int(distances.lengths[symbol]) + extra)
            fixedBits += count * (5 + extra)
        }
        // Stored blocks: the first aligns from here, the others from a byte
        // boundary (3 header bits, 5 to align).
        let storedBlocks = max(1, (range.count + Self.storedBlockBytes - 1) / Self.storedBlockBytes)
        let storedBits = (8 - (bits.pendingBits + 3) % 8) % 8 + 5 * (storedBlocks - 1)
            + storedBlocks * (3 + 32) + 8 * range.count

        if storedBits <= min(dynamicBits, fixedBits) {
            var lower = range.lowerBound
            repeat {
                let upper = min(lower + Self.storedBlockBytes, range.upperBound)
                bits.write(isLast && upper == range.upperBound ? 1 : 0, count: 3)  // BTYPE 00
                bits.alignToByte()
                let length = UInt64(upper - lower)
                bits.write(length | (~length & 0xFFFF) << 16, count: 32)
                bits.writeBytes(UnsafeRawBufferPointer(rebasing: input[lower..<upper]))
                lower = upper
            } while lower < range.upperBound
        } else if fixedBits <= dynamicBits {
            bits.write((isLast ? 1 : 0) | 1 << 1, count: 3)
            writeTokens(literals: fixedLiteralLengths, distances: fixedDistances, to: &bits)
        } else {
            bits.write((isLast ? 1 : 0) | 2 << 1, count: 3)
            writeDynamicHeader(to: &bits)
            writeTokens(literals: literalLengths, distances: distances, to: &bits)
        }
    }

    /// Run-length codes the literal/length and distance code lengths
    /// (RFC 1951, 3.2.7), builds the code-length code, and returns the
    /// header's size in bits.
    private func prepareDynamicHeader() -> Int {
        var literalsSent = DeflateAlphabet.literalLengthSymbols
        while literalsSent > 257, literalLengths.lengths[literalsSent - 1] == 0 { literalsSent -= 1 }
        var distancesSent = DeflateAlphabet.distanceSymbols
        while distancesSent > 1, distances.lengths[distancesSent - 1] == 0 { distancesSent -= 1 }
        literalLengthsSent = literalsSent
        self.distancesSent = distancesSent
        lengths.update(from: literalLengths.lengths, count: literalsSent)
        (lengths + literalsSent).update(from: distances.lengths, count: distancesSent)
        let total = literalsSent + distancesSent

        var runs = 0
        func emit(_ symbol: UInt8, _ extra: Int = 0) {
            runSymbols[runs] = symbol
            runExtras[runs] = UInt8(extra)
            runs += 1
        }
        var index = 0
        while index < total {
            let value = lengths[index]
            var run = 1
            while index + run < total, lengths[index + run] == value { run += 1 }
            index += run
            if value == 0 {
                while run >= 11 {
                    let taken = min(run, 138)
                    emit(18, taken - 11)
                    run -= taken
                }
                if run >= 3 {
                    emit(17, run - 3)
                    run = 0
                }
            } else {
                emit(value)
                run -= 1
                while run >= 3 {
                    let taken = min(run, 6)
                    emit(16, taken - 3)
                    run -= taken
                }
            }
            while run > 0 {
                emit(value)
                run -= 1
            }
        }
        runCount = runs

        let frequencies = codeLengths.frequencies
        frequencies.update(repeating: 0, count: 19)
        for run in 0..<runs { frequencies[Int(runSymbols[run])] += 1 }
        builder.build(codeLengths, limit: 7)
        var sent = 19
        while sent > 4, codeLengths.lengths[Self.codeLengthOrder[sent - 1]] == 0 { sent -= 1 }
        codeLengthsSent = sent
        var bits = 5 + 5 + 4 + 3 * sent
        for symbol in 0..<19 {
            bits += Int(frequencies[symbol]) * (Int(codeLengths.lengths[symbol]) + Int(extraBits[symbol]))
        }
        return bits
    }

    private func writeDynamicHeader(to bits: inout BitWriter) {
        bits.write(UInt64(literalLengthsSent - 257), count: 5)  // HLIT
        bits.write(UInt64(distancesSent - 1), count: 5)  // HDIST
        bits.write(UInt64(codeLengthsSent - 4), count: 4)  // HCLEN
        for position in 0..<codeLengthsSent {
            bits.write(UInt64(codeLengths.lengths[Self.codeLengthOrder[position]]), count: 3)
        }
        for run in 0..<runCount {
            let symbol = Int(runSymbols[run])
            bits.write(UInt64(codeLengths.codes[symbol]), count: Int(codeLengths.lengths[symbol]))
            let extra = Int(extraBits[symbol])
            if extra > 0 { bits.write(UInt64(runExtras[run]), count: extra) }
        }
    }

    private func writeTokens(literals: HuffmanTable, distances: HuffmanTable, to bits: inout BitWriter) {
        let literalCodes = literals.codes
        let literalLengths = literals.lengths
        let distanceCodes = distances.codes
        let distanceLengths = distances.lengths
        // The finder's and the alphabet's tables are read in the loop, not
        // bound before it: fewer registers held, fewer instructions (callgrind).
        for index in 0..<matchFinder.tokenCount {
            let token = matchFinder.tokens[index]
            if token < 256 {
                bits.write(UInt64(literalCodes[Int(token)]), count: Int(literalLengths[Int(token)]))
                continue
            }
            let lengthMinus3 = Int(token & 0xFF)
            let distance = Int(token >> 8)
            let length = Int(alphabet.lengthCode[lengthMinus3])
            bits.write(UInt64(literalCodes[257 + length]), count: Int(literalLengths[257 + length]))
            let lengthExtra = Int(DeflateAlphabet.lengthExtra[length])
            if lengthExtra > 0 {
                bits.write(UInt64(lengthMinus3 + 3 - Int(DeflateAlphabet.lengthBase[length])), count: lengthExtra)
            }
            let code = Int(alphabet.distanceCode[distance <= 256 ? distance - 1 : 256 + (distance - 1) >> 7])
            bits.write(UInt64(distanceCodes[code]), count: Int(distanceLengths[code]))
            let distanceExtra = Int(DeflateAlphabet.distanceExtra[code])
            if distanceExtra > 0 {
                bits.write(UInt64(distance - Int(DeflateAlphabet.distanceBase[code])), count: distanceExtra)
            }
        }
        bits.write(UInt64(literalCodes[DeflateAlphabet.endOfBlock]), count: Int(literalLengths[DeflateAlphabet.endOfBlock]))
    }
}

// Not Sendable: its tables change with every block it compresses.
@available(*, unavailable)
extension Deflater: Sendable {}
