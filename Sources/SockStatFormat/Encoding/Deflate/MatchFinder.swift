/// Parses input into DEFLATE tokens one piece at a time: greedy LZ77 with one
/// probe of a 4-byte hash per position, for a match within the piece and the
/// last 32 KiB, extended as far as it goes.
///
/// Block payloads rarely repeat but in their label text, so one probe finds
/// the matches worth having at a fraction of a chained search's cost. The
/// symbols are counted as they are parsed, for the Huffman codes of the piece.
///
/// A class because it owns its hash table and token buffer, which must be
/// freed once; the table is kept from piece to piece and never cleared
/// between them (see `pieceOffset`).
final class MatchFinder {
    private static let minimumMatch = 4
    private static let maximumMatch = 258
    private static let window = 32_768
    private static let hashBits = 12

    private let alphabet: DeflateAlphabet
    /// Last position of each 4-byte hash, as `pieceOffset` + position + 1
    /// (0: none). Entries at or below the current piece's offset are from
    /// earlier pieces and count as none, so the table is cleared only when
    /// offsets near Int32.max, not for every piece.
    private let recent: UnsafeMutablePointer<Int32>
    /// Where the current piece's entries are numbered from. Only `parse`
    /// moves it, forward by what each piece parsed, back to 0 with the
    /// table cleared before it passes `maximumPieceOffset`.
    private(set) var pieceOffset = 0
    /// The largest offset a piece may start at: its entries stay below Int32.max.
    static let maximumPieceOffset = Int(Int32.max) - Deflater.maximumTokens * maximumMatch - 1
    /// The piece parsed last, `tokens[..<tokenCount]`: a literal byte
    /// (distance 0), or distance << 8 | length − 3.
    private(set) var tokens: UnsafeMutablePointer<UInt32>
    private var tokenCapacity = 0
    private(set) var tokenCount = 0

    /// Creates a match finder whose symbols are those of `alphabet`.
    init(alphabet: DeflateAlphabet) {
        self.alphabet = alphabet
        recent = .allocate(capacity: 1 << Self.hashBits)
        recent.initialize(repeating: 0, count: 1 << Self.hashBits)
        tokens = .allocate(capacity: 0)
    }

    deinit {
        recent.deallocate()
        tokens.deallocate()
    }

    /// Test hook: numbers the next piece's entries from `offset`, so a test
    /// can start a piece near the limit without parsing 2 GiB first, or move
    /// back and leave entries ahead of the position. Production code never
    /// calls it: the output must not depend on the offset, and the hook is how
    /// the tests check that it does not.
    func movePieceOffsetForTesting(to offset: Int) {
        pieceOffset = offset
    }

    /// Makes room for the tokens of the first piece of an input of `count`
    /// bytes (at most `Deflater.maximumTokens`); grows geometrically, so a
    /// stream of similar inputs stops allocating.
    func reserveTokens(forInputOf count: Int) {
        let wanted = min(count, Deflater.maximumTokens)
        if wanted > tokenCapacity {
            tokens.deallocate()
            tokenCapacity = min(max(wanted, 2 * tokenCapacity), Deflater.maximumTokens)
            tokens = .allocate(capacity: tokenCapacity)
        }
    }

    /// Greedy LZ77 from `start` into `tokens`, counting symbols into the
    /// frequencies of `literalLengths` and `distances`, until the input ends
    /// or the piece has `Deflater.maximumTokens` symbols; returns where it
    /// stopped. One probe of a 4-byte hash per position, matches within the piece.
    func parse(_ input: UnsafeRawBufferPointer, from start: Int,
               counting literalLengths: HuffmanTable, _ distances: HuffmanTable) -> Int {
        literalLengths.frequencies.update(repeating: 0, count: DeflateAlphabet.literalLengthSymbols)
        distances.frequencies.update(repeating: 0, count: DeflateAlphabet.distanceSymbols)
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
        let lengthCode = alphabet.lengthCode
        let distanceCode = alphabet.distanceCode
        var count = 0
        var position = 0
        let end = input.count - start
        let maximumTokens = min(tokenCapacity, Deflater.maximumTokens)
        while position < end, count < maximumTokens {
            if end - position >= Self.minimumMatch {
                // Little-endian on every host, so the output is the same everywhere.
                let word = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
                let hash = Int((word &* 2_654_435_761) >> (32 - UInt32(Self.hashBits)))
                let candidate = Int(recent[hash]) - offset - 1  // negative: none in this piece
                recent[hash] = Int32(offset + position + 1)
                // One unsigned compare keeps the candidate behind the position
                // and inside the window, even for an entry from a later offset
                // (only the tests' hook that moves pieceOffset back can leave one).
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
}
