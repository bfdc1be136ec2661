/// LEB128 unsigned varints, as protobuf writes them: 7 bits a byte, least
/// significant group first, high bit set on every byte but the last.
///
/// Readers cap a varint at 10 bytes, reject a 10th byte above 1 (it would not
/// fit 64 bits) and reject overlong encodings (a last byte of 0 after the
/// first), so every value has exactly one encoding.
public enum Varint: Sendable {
    /// The most bytes a 64-bit varint takes.
    public static let maxBytes = 10

    /// The number of bytes `value` takes.
    @inlinable
    public static func encodedSize(_ value: UInt64) -> Int {
        // 1 + floor(bitWidth - 1) / 7, with 0 taking one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Appends the varint for `value`.
    @inlinable
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: value))
    }

    /// Writes the varint for `value` at `destination` (room for 10 bytes) and
    /// returns the number of bytes written.
    @inlinable
    public static func write(_ value: UInt64, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        var value = value
        var count = 0
        while value >= 0x80 {
            destination[count] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            count += 1
        }
        destination[count] = UInt8(truncatingIfNeeded: value)
        return count + 1
    }
}

/// ZigZag maps signed to unsigned so that small magnitudes stay small:
/// 0, -1, 1, -2, 2 … become 0, 1, 2, 3, 4 ….
public enum ZigZag: Sendable {
    /// Encodes a signed value.
    @inlinable
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value &<< 1) ^ (value >> 63))
    }

    /// Decodes an encoded value.
    @inlinable
    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}

extension Varint {
    /// Reads the varint at `offset` of `bytes` and moves `offset` past it.
    ///
    /// - Throws: `VarintError` (and leaves `offset` alone) for a varint that
    ///   is cut short, longer than 64 bits, or overlong.
    @inlinable
    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(VarintError) -> UInt64 {
        precondition(offset >= 0 && offset <= bytes.count, "offset outside the bytes")
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        let start = cursor.position
        let value = try cursor.readVarint()
        offset += cursor.position - start
        return value
    }
}

/// Why bytes could not be read as a varint.
public struct VarintError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the bytes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline let rawValue: UInt8
        @inlinable init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// The input ended before the last byte (high bit clear).
        @inlinable public static var truncated: Code { Code(0) }
        /// More than 10 bytes, or a 10th byte that overflows 64 bits.
        @inlinable public static var overflow: Code { Code(1) }
        /// A multi-byte encoding whose last byte is 0: a shorter one exists.
        @inlinable public static var overlong: Code { Code(2) }

        public var description: String {
            switch rawValue {
            case 0: "truncated"
            case 1: "overflow"
            default: "overlong"
            }
        }
    }

    /// What is wrong with the bytes.
    public var code: Code

    /// Creates an error.
    @inlinable public init(_ code: Code) { self.code = code }

    /// The input ended before the last byte.
    @inlinable public static var truncated: VarintError { VarintError(.truncated) }
    /// More than 64 bits.
    @inlinable public static var overflow: VarintError { VarintError(.overflow) }
    /// A shorter encoding exists.
    @inlinable public static var overlong: VarintError { VarintError(.overlong) }

    public var description: String { "varint \(code)" }
}

/// A forward-only reader over bytes someone else owns.
///
/// Every read checks the bytes that remain first; a failed read leaves the
/// cursor where it was.
@usableFromInline
struct ByteCursor {
    @usableFromInline var position: UnsafePointer<UInt8>
    @usableFromInline let end: UnsafePointer<UInt8>

    @inlinable
    init(_ buffer: UnsafeRawBufferPointer) {
        // An empty buffer may have a nil base; any non-nil pointer serves, as
        // nothing will be read through it.
        let base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let start = base.assumingMemoryBound(to: UInt8.self)
        self.position = start
        self.end = start + buffer.count
    }

    @inlinable
    var remaining: Int { end - position }

    @inlinable
    var isAtEnd: Bool { position == end }

    @inlinable
    mutating func readVarint() throws(VarintError) -> UInt64 {
        // Fast paths: one byte (ids, gaps, small counts) and two bytes (most
        // byte counts); a two-byte varint ending in 0 is overlong: slow path.
        if position < end {
            let first = position.pointee
            if first < 0x80 {
                position += 1
                return UInt64(first)
            }
            if end - position >= 2 {
                let second = position[1]
                if second < 0x80, second != 0 {
                    position += 2
                    return UInt64(first & 0x7F) | UInt64(second) << 7
                }
            }
        }
        return try readVarintSlow()
    }

    @usableFromInline
    mutating func readVarintSlow() throws(VarintError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var pointer = position
        while true {
            guard pointer < end else { throw .truncated }
            let byte = pointer.pointee
            pointer += 1
            if shift == 63 {
                // The 10th byte holds bit 63 only.
                guard byte <= 1 else { throw .overflow }
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                guard byte != 0 || shift == 0 else { throw .overlong }
                position = pointer
                return value
            }
            shift += 7
        }
    }
}

// Not Sendable: it points into bytes someone else owns, for as long as they lend them.
@available(*, unavailable)
extension ByteCursor: Sendable {}
