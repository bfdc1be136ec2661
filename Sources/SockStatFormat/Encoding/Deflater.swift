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
/// A class because it owns its tables, which must be freed once.
public final class Deflater {
    /// Symbols per DEFLATE block: keeping every frequency below 65,536 lets
    /// them sort in two radix passes.
    static let maximumTokens = 65_534
    /// Bytes per stored DEFLATE block (RFC 1951, 3.2.4).
    static let storedBlockBytes = 65_535

    private static let literalLengthSymbols = 286
    private static let distanceSymbols = 30
    private static let endOfBlock = 256
    private static let minimumMatch = 4
    private static let maximumMatch = 258
    private static let window = 32_768
    private static let hashBits = 12

    /// RFC 1951, 3.2.5: length codes 257…285 and distance codes 0…29.
    private static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// The order code-length code lengths are sent in (RFC 1951, 3.2.7).
    private static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private let literalLengths = HuffmanTable(symbols: literalLengthSymbols)
    private let distances = HuffmanTable(symbols: distanceSymbols)
    private let fixedLiteralLengths = HuffmanTable(symbols: 288)
    private let fixedDistances = HuffmanTable(symbols: distanceSymbols)
    private let codeLengths = HuffmanTable(symbols: 19)
    private let builder = HuffmanBuilder(maxSymbols: literalLengthSymbols)

    /// Length − 3 → length code index (0…28); (distance − 1), or 256 +
    /// ((distance − 1) >> 7) past 256 → distance code (as zlib's _dist_code).
    private let lengthCode: UnsafeMutablePointer<UInt8>
    private let distanceCode: UnsafeMutablePointer<UInt8>
    /// Lengths and extra bits of the code-length symbols 0…18.
    private let extraBits: UnsafeMutablePointer<UInt8>
    /// Last position of each 4-byte hash, as `pieceOffset` + position + 1
    /// (0: none). Entries at or below the current piece's offset are from
    /// earlier pieces and count as none, so the table is cleared only when
    /// offsets near Int32.max, not for every piece.
    private let recent: UnsafeMutablePointer<Int32>
    /// Internal, not private, for the tests that start it near its limit.
    var pieceOffset = 0
    /// The largest offset a piece may start at: its entries stay below Int32.max.
    static let maximumPieceOffset = Int(Int32.max) - maximumTokens * maximumMatch - 1
    /// One piece parsed: a literal byte (distance 0), or distance << 8 | length − 3.
    private var tokens: UnsafeMutablePointer<UInt32>
    private var tokenCapacity = 0
    private var tokenCount = 0
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
        lengthCode = .allocate(capacity: 256)
        distanceCode = .allocate(capacity: 512)
        for code in 0..<28 {
            for length in Int(Self.lengthBase[code])..<(Int(Self.lengthBase[code]) + 1 << Int(Self.lengthExtra[code])) where length <= 257 {
                lengthCode[length - 3] = UInt8(code)
            }
        }
        lengthCode[258 - 3] = 28
        for code in 0..<Self.distanceSymbols {
            let base = Int(Self.distanceBase[code])
            for distance in base..<(base + 1 << Int(Self.distanceExtra[code])) {
                distanceCode[distance <= 256 ? distance - 1 : 256 + (distance - 1) >> 7] = UInt8(code)
            }
        }
        extraBits = .allocate(capacity: 19)
        extraBits.initialize(repeating: 0, count: 19)
        extraBits[16] = 2
        extraBits[17] = 3
        extraBits[18] = 7
        recent = .allocate(capacity: 1 << Self.hashBits)
        recent.initialize(repeating: 0, count: 1 << Self.hashBits)
        tokens = .allocate(capacity: 0)
        let sent = Self.literalLengthSymbols + Self.distanceSymbols
        lengths = .allocate(capacity: sent)
        runSymbols = .allocate(capacity: sent)
        runExtras = .allocate(capacity: sent)
        // RFC 1951, 3.2.6: all 288 literal/length symbols (their canonical
        // numbering counts the two never sent), distances in 5 bits.
        for symbol in 0..<288 {
            fixedLiteralLengths.lengths[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
        }
        fixedLiteralLengths.assignCodes()
        for symbol in 0..<Self.distanceSymbols { fixedDistances.lengths[symbol] = 5 }
        fixedDistances.assignCodes()
    }

    deinit {
        lengthCode.deallocate()
        distanceCode.deallocate()
        extraBits.deallocate()
        recent.deallocate()
        tokens.deallocate()
        lengths.deallocate()
        runSymbols.deallocate()
        runExtras.deallocate()
    }

    /// Compresses `input` as one complete raw DEFLATE stream appended to `output`.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        // No piece costs more than stored: per stored block of up to 65,535
        // bytes, 3 header bits, up to 7 to align and 4 length bytes. A piece
        // but the last spans at least 65,534 bytes.
        let bound = input.count + 12 * (input.count / Self.maximumTokens + 1) + 8
        let start = output.count
        output.reserveCapacity(start + bound)
        output.append(contentsOf: repeatElement(0, count: bound))
        let wanted = min(input.count, Self.maximumTokens)
        if wanted > tokenCapacity {
            tokens.deallocate()
            tokenCapacity = min(max(wanted, 2 * tokenCapacity), Self.maximumTokens)
            tokens = .allocate(capacity: tokenCapacity)
        }
        let written = output.withUnsafeMutableBytes { out in
            var bits = BitWriter(out.baseAddress! + start)
            var position = 0
            repeat {
                let end = parse(input, from: position)
                compressPiece(input, position..<end, isLast: end == input.count, to: &bits)
                position = end
            } while position < input.count
            return bits.finish()
        }
        precondition(written <= bound, "DEFLATE output past its bound")
        output.removeLast(bound - written)
    }

    private func compressPiece(_ input: UnsafeRawBufferPointer, _ range: Range<Int>, isLast: Bool, to bits: inout BitWriter) {
        literalLengths.frequencies[Self.endOfBlock] = 1
        builder.build(literalLengths, limit: 15)
        builder.build(distances, limit: 15)
        let headerBits = prepareDynamicHeader()
        var dynamicBits = 3 + headerBits
        var fixedBits = 3
        for symbol in 0..<Self.literalLengthSymbols {
            let count = Int(literalLengths.frequencies[symbol])
            guard count != 0 else { continue }
            let extra = symbol > 256 ? Int(Self.lengthExtra[symbol - 257]) : 0
            dynamicBits += count * (Int(literalLengths.lengths[symbol]) + extra)
            fixedBits += count * (Int(fixedLiteralLengths.lengths[symbol]) + extra)
        }
        for symbol in 0..<Self.distanceSymbols {
            let count = Int(distances.frequencies[symbol])
            guard count != 0 else { continue }
            let extra = Int(Self.distanceExtra[symbol])
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

    /// Greedy LZ77 from `start` into `tokens`, counting symbols, until the
    /// input ends or the piece has `maximumTokens` symbols; returns where it
    /// stopped. One probe of a 4-byte hash per position, matches within the piece.
    private func parse(_ input: UnsafeRawBufferPointer, from start: Int) -> Int {
        literalLengths.frequencies.update(repeating: 0, count: Self.literalLengthSymbols)
        distances.frequencies.update(repeating: 0, count: Self.distanceSymbols)
        tokenCount = 0
        guard start < input.count else { return start }
        // A piece spans at most 65,534 matches of 258 bytes.
        if pieceOffset > Self.maximumPieceOffset {
            recent.update(repeating: 0, count: 1 << Self.hashBits)
            pieceOffset = 0
        }
        let offset = pieceOffset
        let base = input.baseAddress! + start
        let literalFrequencies = literalLengths.frequencies
        let distanceFrequencies = distances.frequencies
        var count = 0
        var position = 0
        let end = input.count - start
        let maximumTokens = min(tokenCapacity, Self.maximumTokens)
        while position < end, count < maximumTokens {
            if end - position >= Self.minimumMatch {
                // Little-endian on every host, so the output is the same everywhere.
                let word = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
                let hash = Int((word &* 2_654_435_761) >> (32 - UInt32(Self.hashBits)))
                let candidate = Int(recent[hash]) - offset - 1  // negative: none in this piece
                recent[hash] = Int32(offset + position + 1)
                // One unsigned compare keeps the candidate behind the position
                // and inside the window, even for an entry from a later offset
                // (only a test that moves pieceOffset back can leave one).
                if candidate >= 0, UInt(bitPattern: position &- candidate &- 1) < UInt(Self.window),
                   UInt32(littleEndian: base.loadUnaligned(fromByteOffset: candidate, as: UInt32.self)) == word {
                    let longest = min(Self.maximumMatch, end - position)
                    var length = Self.minimumMatch
                    while length < longest,
                          base.load(fromByteOffset: candidate + length, as: UInt8.self)
                            == base.load(fromByteOffset: position + length, as: UInt8.self) {
                        length += 1
                    }
                    // The match's last positions go in the table, so data
                    // with a short period keeps matching at a short distance.
                    for inside in max(position + 1, position + length - 3)..<(position + length) where end - inside >= Self.minimumMatch {
                        let word = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: inside, as: UInt32.self))
                        recent[Int((word &* 2_654_435_761) >> (32 - UInt32(Self.hashBits)))] = Int32(offset + inside + 1)
                    }
                    let distance = position - candidate
                    tokens[count] = UInt32(distance) << 8 | UInt32(length - 3)
                    count += 1
                    literalFrequencies[257 + Int(lengthCode[length - 3])] += 1
                    distanceFrequencies[Int(distanceCode[distance <= 256 ? distance - 1 : 256 + (distance - 1) >> 7])] += 1
                    position += length
                    continue
                }
            }
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            tokens[count] = UInt32(byte)
            count += 1
            literalFrequencies[Int(byte)] += 1
            position += 1
        }
        tokenCount = count
        // Every entry this piece wrote is at most offset + position.
        pieceOffset = offset + position
        return start + position
    }

    /// Run-length codes the literal/length and distance code lengths
    /// (RFC 1951, 3.2.7), builds the code-length code, and returns the
    /// header's size in bits.
    private func prepareDynamicHeader() -> Int {
        var literalsSent = Self.literalLengthSymbols
        while literalsSent > 257, literalLengths.lengths[literalsSent - 1] == 0 { literalsSent -= 1 }
        var distancesSent = Self.distanceSymbols
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
        for index in 0..<tokenCount {
            let token = tokens[index]
            if token < 256 {
                bits.write(UInt64(literalCodes[Int(token)]), count: Int(literalLengths[Int(token)]))
                continue
            }
            let lengthMinus3 = Int(token & 0xFF)
            let distance = Int(token >> 8)
            let length = Int(lengthCode[lengthMinus3])
            bits.write(UInt64(literalCodes[257 + length]), count: Int(literalLengths[257 + length]))
            let lengthExtra = Int(Self.lengthExtra[length])
            if lengthExtra > 0 {
                bits.write(UInt64(lengthMinus3 + 3 - Int(Self.lengthBase[length])), count: lengthExtra)
            }
            let code = Int(distanceCode[distance <= 256 ? distance - 1 : 256 + (distance - 1) >> 7])
            bits.write(UInt64(distanceCodes[code]), count: Int(distanceLengths[code]))
            let distanceExtra = Int(Self.distanceExtra[code])
            if distanceExtra > 0 {
                bits.write(UInt64(distance - Int(Self.distanceBase[code])), count: distanceExtra)
            }
        }
        bits.write(UInt64(literalCodes[Self.endOfBlock]), count: Int(literalLengths[Self.endOfBlock]))
    }
}

/// A Huffman code over `symbols` symbols: frequencies in, lengths and
/// (bit-reversed, as DEFLATE sends them) codes out.
final class HuffmanTable {
    let symbols: Int
    let frequencies: UnsafeMutablePointer<UInt32>
    let lengths: UnsafeMutablePointer<UInt8>
    let codes: UnsafeMutablePointer<UInt16>

    init(symbols: Int) {
        self.symbols = symbols
        frequencies = .allocate(capacity: symbols)
        frequencies.initialize(repeating: 0, count: symbols)
        lengths = .allocate(capacity: symbols)
        lengths.initialize(repeating: 0, count: symbols)
        codes = .allocate(capacity: symbols)
        codes.initialize(repeating: 0, count: symbols)
    }

    deinit {
        frequencies.deallocate()
        lengths.deallocate()
        codes.deallocate()
    }

    /// Canonical codes from the lengths (RFC 1951, 3.2.2), bit-reversed.
    func assignCodes() {
        var countOfLength = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var next = countOfLength
        withUnsafeMutableBytes(of: &countOfLength) { raw in
            let count = raw.bindMemory(to: Int.self)
            for symbol in 0..<symbols { count[Int(lengths[symbol])] += 1 }
            count[0] = 0
            withUnsafeMutableBytes(of: &next) { raw in
                let next = raw.bindMemory(to: Int.self)
                var code = 0
                for length in 1..<16 {
                    code = (code + count[length - 1]) << 1
                    next[length] = code
                }
                for symbol in 0..<symbols {
                    let length = Int(lengths[symbol])
                    guard length > 0 else { continue }
                    let code = next[length]
                    next[length] += 1
                    codes[symbol] = UInt16(truncatingIfNeeded: code).bitReversed(length)
                }
            }
        }
    }
}

extension UInt16 {
    /// The low `count` (1…15) bits in reverse order.
    fileprivate func bitReversed(_ count: Int) -> UInt16 {
        return (UInt16(reverseByte(UInt8(truncatingIfNeeded: self))) << 8
            | UInt16(reverseByte(UInt8(truncatingIfNeeded: self >> 8)))) >> (16 - count)
    }
}

@inline(__always)
private func reverseByte(_ byte: UInt8) -> UInt8 {
    // Swap nibbles, pairs, then bits.
    var value = byte
    value = value >> 4 | value << 4
    value = (value & 0xCC) >> 2 | (value & 0x33) << 2
    value = (value & 0xAA) >> 1 | (value & 0x55) << 1
    return value
}

/// Builds length-limited Huffman codes without allocating: symbols sorted by
/// frequency (two radix passes), code lengths by Moffat and Katajainen's
/// in-place method, lengths over the limit folded back (as miniz does), the
/// shortest lengths to the most frequent symbols, ties by symbol.
final class HuffmanBuilder {
    private let keys: UnsafeMutablePointer<UInt32>
    private let order: UnsafeMutablePointer<UInt16>
    private let scratchKeys: UnsafeMutablePointer<UInt32>
    private let scratchOrder: UnsafeMutablePointer<UInt16>
    /// Codes per length; a Huffman tree over n symbols is at most n − 1
    /// deep, and lengths up to the limit (at most 15) are read.
    private let perLength: UnsafeMutablePointer<Int>
    private let buckets: UnsafeMutablePointer<Int>
    private let maxSymbols: Int

    init(maxSymbols: Int) {
        self.maxSymbols = maxSymbols
        keys = .allocate(capacity: maxSymbols)
        order = .allocate(capacity: maxSymbols)
        scratchKeys = .allocate(capacity: maxSymbols)
        scratchOrder = .allocate(capacity: maxSymbols)
        perLength = .allocate(capacity: maxSymbols + 16)
        buckets = .allocate(capacity: 256)
    }

    deinit {
        keys.deallocate()
        order.deallocate()
        scratchKeys.deallocate()
        scratchOrder.deallocate()
        perLength.deallocate()
        buckets.deallocate()
    }

    /// Sets `table`'s lengths (at most `limit`) and codes from its
    /// frequencies, each of which must be below 65,536. At least two symbols
    /// get a code, so the code is always complete.
    func build(_ table: HuffmanTable, limit: Int) {
        let symbols = table.symbols
        precondition(symbols <= maxSymbols && symbols >= 2)
        var used = 0
        for symbol in 0..<symbols where table.frequencies[symbol] != 0 {
            precondition(table.frequencies[symbol] < 65_536)
            scratchKeys[used] = table.frequencies[symbol]
            scratchOrder[used] = UInt16(symbol)
            used += 1
        }
        // Fewer than two: add unused symbols (the first ones) as if seen once.
        var filler = 0
        while used < 2 {
            if table.frequencies[filler] == 0, used == 0 || Int(scratchOrder[0]) != filler {
                scratchKeys[used] = 1
                scratchOrder[used] = UInt16(filler)
                used += 1
            }
            filler += 1
        }
        sortByKey(used)

        minimumRedundancyLengths(used)
        perLength.update(repeating: 0, count: max(used, limit) + 1)
        for index in 0..<used { perLength[Int(keys[index])] += 1 }
        limitLengths(used: used, limit: limit)

        table.lengths.update(repeating: 0, count: symbols)
        var index = used
        for length in 1...limit {
            for _ in 0..<perLength[length] {
                index -= 1
                table.lengths[Int(order[index])] = UInt8(length)
            }
        }
        table.assignCodes()
    }

    /// Stable sort of the first `count` scratch entries by key (below
    /// 65,536) into `keys`/`order`: low byte, then high byte.
    private func sortByKey(_ count: Int) {
        // Few symbols (the code-length code, most distance codes): insertion
        // sort, which is as stable as the radix passes.
        if count <= 32 {
            for index in 0..<count {
                let key = scratchKeys[index]
                let symbol = scratchOrder[index]
                var slot = index
                while slot > 0, keys[slot - 1] > key {
                    keys[slot] = keys[slot - 1]
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                keys[slot] = key
                order[slot] = symbol
            }
            return
        }
        let start = buckets
        func pass(_ fromKeys: UnsafeMutablePointer<UInt32>, _ fromOrder: UnsafeMutablePointer<UInt16>,
                  _ toKeys: UnsafeMutablePointer<UInt32>, _ toOrder: UnsafeMutablePointer<UInt16>, shift: UInt32) {
            start.update(repeating: 0, count: 256)
            for index in 0..<count { start[Int(fromKeys[index] >> shift & 0xFF)] += 1 }
            var total = 0
            for bucket in 0..<256 {
                let size = start[bucket]
                start[bucket] = total
                total += size
            }
            for index in 0..<count {
                let bucket = Int(fromKeys[index] >> shift & 0xFF)
                toKeys[start[bucket]] = fromKeys[index]
                toOrder[start[bucket]] = fromOrder[index]
                start[bucket] += 1
            }
        }
        pass(scratchKeys, scratchOrder, keys, order, shift: 0)
        // In a small block every frequency is below 256: the low byte sorted
        // them all, and the high-byte pass would keep the order.
        var highBytes: UInt32 = 0
        for index in 0..<count { highBytes |= keys[index] }
        guard highBytes >= 256 else { return }
        pass(keys, order, scratchKeys, scratchOrder, shift: 8)
        keys.update(from: scratchKeys, count: count)
        order.update(from: scratchOrder, count: count)
    }

    /// Replaces the `count` ascending frequencies in `keys` by the code
    /// lengths of an optimal prefix code (A. Moffat and J. Katajainen, "In-place
    /// calculation of minimum-redundancy codes", 1995), longest first.
    private func minimumRedundancyLengths(_ count: Int) {
        let a = keys
        if count == 1 {
            a[0] = 1
            return
        }
        // Phase 1: build the tree, parents' weights and then indices in place.
        a[0] += a[1]
        var root = 0
        var leaf = 2
        for next in 1..<(count - 1) {
            if leaf >= count || a[root] < a[leaf] {
                a[next] = a[root]
                a[root] = UInt32(next)
                root += 1
            } else {
                a[next] = a[leaf]
                leaf += 1
            }
            if leaf >= count || (root < next && a[root] < a[leaf]) {
                a[next] += a[root]
                a[root] = UInt32(next)
                root += 1
            } else {
                a[next] += a[leaf]
                leaf += 1
            }
        }
        // Phase 2: internal node depths.
        a[count - 2] = 0
        if count >= 3 {
            for next in stride(from: count - 3, through: 0, by: -1) {
                a[next] = a[Int(a[next])] + 1
            }
        }
        // Phase 3: leaf depths.
        var available = 1
        var usedNodes = 0
        var depth: UInt32 = 0
        var rootIndex = count - 2
        var next = count - 1
        while available > 0 {
            while rootIndex >= 0, a[rootIndex] == depth {
                usedNodes += 1
                rootIndex -= 1
            }
            while available > usedNodes {
                a[next] = depth
                next -= 1
                available -= 1
            }
            available = 2 * usedNodes
            depth += 1
            usedNodes = 0
        }
    }

    /// Folds codes longer than `limit` back in, keeping the Kraft sum exactly
    /// one, so the code stays complete.
    private func limitLengths(used: Int, limit: Int) {
        guard used > 1 else { return }
        if used > limit {
            for length in (limit + 1)...used { perLength[limit] += perLength[length]; perLength[length] = 0 }
        }
        var total = 0
        for length in 1...limit { total += perLength[length] << (limit - length) }
        while total != 1 << limit {
            perLength[limit] -= 1
            for length in stride(from: limit - 1, through: 1, by: -1) where perLength[length] != 0 {
                perLength[length] -= 1
                perLength[length + 1] += 2
                break
            }
            total -= 1
        }
    }
}

/// Writes bits least significant first, as DEFLATE packs them, into memory
/// the caller has sized.
struct BitWriter {
    private let start: UnsafeMutableRawPointer
    private var position = 0
    private var buffer: UInt64 = 0
    private(set) var pendingBits = 0

    init(_ start: UnsafeMutableRawPointer) {
        self.start = start
    }

    /// Appends the low `count` (at most 32) bits of `value`.
    @inline(__always)
    mutating func write(_ value: UInt64, count: Int) {
        buffer |= value << UInt64(pendingBits)
        pendingBits += count
        if pendingBits >= 32 {
            (start + position).storeBytes(of: UInt32(truncatingIfNeeded: buffer).littleEndian, as: UInt32.self)
            position += 4
            buffer >>= 32
            pendingBits -= 32
        }
    }

    /// Pads with zero bits to a byte boundary and writes the whole bytes held.
    mutating func alignToByte() {
        while pendingBits > 0 {
            start.storeBytes(of: UInt8(truncatingIfNeeded: buffer), toByteOffset: position, as: UInt8.self)
            position += 1
            buffer >>= 8
            pendingBits = max(pendingBits - 8, 0)
        }
        buffer = 0
    }

    /// Copies bytes; the writer must be byte-aligned.
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        (start + position).copyMemory(from: base, byteCount: bytes.count)
        position += bytes.count
    }

    /// Pads to a byte and returns the number of bytes written.
    mutating func finish() -> Int {
        alignToByte()
        return position
    }
}
