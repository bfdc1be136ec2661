/// DEFLATE's literal/length and distance alphabets (RFC 1951, 3.2.5), and
/// lookups from a match's length and distance to their symbols.
///
/// Both the match finder (counting symbols as it parses) and the Deflater
/// (writing them) turn lengths and distances into symbols, so the tables
/// live here, built once per Deflater and shared.
///
/// A class because it owns the lookup tables, which must be freed once.
final class DeflateAlphabet {
    static let literalLengthSymbols = 286
    static let distanceSymbols = 30
    static let endOfBlock = 256

    /// RFC 1951, 3.2.5: length codes 257…285 and distance codes 0…29.
    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Length − 3 → length code index (0…28); (distance − 1), or 256 +
    /// ((distance − 1) >> 7) past 256 → distance code (as zlib's _dist_code).
    let lengthCode: UnsafeMutablePointer<UInt8>
    let distanceCode: UnsafeMutablePointer<UInt8>

    init() {
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
    }

    deinit {
        lengthCode.deallocate()
        distanceCode.deallocate()
    }
}
