import SockStatFormat
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why `JSONLinesReader` could not give the next line's event.
public struct JSONLinesReadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The input could not be read (its `errno` is in the reason).
        public static let cannotRead = Code("cannot read")
        /// A line is longer than the reader's limit.
        public static let lineTooLong = Code("line too long")
        /// A line is not an event the parser accepts (`parseError` says why and where).
        public static let invalidLine = Code("invalid line")

        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The 1-based number of the line concerned.
    public var line: Int
    /// The parser's error, for `.invalidLine`.
    public var parseError: JSONLineError?
    /// A one-line explanation.
    public var reason: String

    init(_ code: Code, line: Int, _ reason: String, parseError: JSONLineError? = nil) {
        self.code = code
        self.line = line
        self.reason = reason
        self.parseError = parseError
    }

    /// "line N: reason", or the parser's "line N, column C: reason".
    public var description: String { parseError?.description ?? "line \(line): \(reason)" }
}

/// Reads "\n"-separated JSON lines into events, one line at a time through a
/// buffer, from a file descriptor or bytes in memory: the one line reader of
/// `sockstat-convert encode` and `sockstat-record --replay`.
///
/// Memory is one line plus a read chunk (the buffer grows for a long line,
/// up to the limit). A last line without "\n" still counts. After an
/// invalid line the next call goes on with the line after it, so a caller
/// may skip bad lines; a read error or a line over the limit ends the input.
/// Plain canonical lines parse on `JSONLinesParser`'s fast path without
/// allocating: the caller's parser and event are reused from line to line.
public struct JSONLinesReader: Sendable {
    /// The longest line accepted by default: 64 MiB, far above the largest
    /// event the format holds.
    public static let defaultMaxLineBytes = 64 << 20

    private var fileDescriptor: FileDescriptor?
    private let closes: Bool
    private let maxLineBytes: Int
    /// Bytes read and not yet consumed are `buffer[start..<end]`.
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF: Bool
    /// The number of the last line read.
    public private(set) var lineNumber = 0

    private static let chunkBytes = 64 * 1024

    /// Reads `fileDescriptor`, closing it at `close()` if `closes`.
    public init(fileDescriptor: FileDescriptor, closes: Bool, maxLineBytes: Int = defaultMaxLineBytes) {
        self.fileDescriptor = fileDescriptor
        self.closes = closes
        self.maxLineBytes = maxLineBytes
        buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        atEOF = false
    }

    /// Reads the lines of `bytes`.
    public init(bytes: [UInt8], maxLineBytes: Int = defaultMaxLineBytes) {
        fileDescriptor = nil
        closes = false
        self.maxLineBytes = maxLineBytes
        buffer = bytes
        end = bytes.count
        atEOF = true
    }

    /// Closes the file descriptor, if this reader owns it.
    public mutating func close() {
        if closes, let fileDescriptor {
            try? fileDescriptor.close()
        }
        fileDescriptor = nil
    }

    /// Reads the next line into `event` with `parser` (keep one parser for
    /// every line: it reuses the labels it has seen).
    ///
    /// - Returns: nil at the end of the input, false for a blank line
    ///   (`event` is then empty), true for an event.
    /// - Throws: `JSONLinesReadError`.
    public mutating func next(parsingWith parser: inout JSONLinesParser, into event: inout Event) throws(JSONLinesReadError) -> Bool? {
        var scanned = 0
        while true {
            if let newline = findNewline(from: start + scanned) {
                guard newline - start <= maxLineBytes else { throw tooLong() }
                let line = start..<newline
                start = newline + 1
                return try parse(line, with: &parser, into: &event)
            }
            scanned = end - start
            guard scanned <= maxLineBytes else { throw tooLong() }
            if atEOF {
                guard start < end else { return nil }
                let line = start..<end
                start = end
                return try parse(line, with: &parser, into: &event)
            }
            try fill()
        }
    }

    private func tooLong() -> JSONLinesReadError {
        JSONLinesReadError(.lineTooLong, line: lineNumber + 1, "longer than \(maxLineBytes) bytes")
    }

    private func findNewline(from index: Int) -> Int? {
        guard index < end else { return nil }
        return buffer.withUnsafeBytes { bytes -> Int? in
            guard let base = bytes.baseAddress,
                  let found = memchr(base + index, Int32(UInt8(ascii: "\n")), end - index)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }

    private mutating func parse(_ line: Range<Int>, with parser: inout JSONLinesParser,
                                into event: inout Event) throws(JSONLinesReadError) -> Bool {
        lineNumber += 1
        let number = lineNumber
        let result: Result<Bool, JSONLineError> = buffer.withUnsafeBytes { bytes in
            Result { () throws(JSONLineError) -> Bool in
                try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[line]), lineNumber: number, into: &event)
            }
        }
        switch result {
        case .success(let found): return found
        case .failure(let error): throw JSONLinesReadError(.invalidLine, line: number, error.reason, parseError: error)
        }
    }

    /// Reads more bytes after `end`, first moving the unconsumed bytes to the
    /// front and growing the buffer when a long line fills it.
    private mutating func fill() throws(JSONLinesReadError) {
        guard let fileDescriptor else {
            atEOF = true
            return
        }
        if start > 0 {
            let count = end - start
            buffer.withUnsafeMutableBufferPointer { bytes in
                guard let base = bytes.baseAddress else { return }
                base.update(from: base + start, count: count)
            }
            start = 0
            end = count
        }
        if end == buffer.count {
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        let readEnd = end
        let result: Result<Int, Errno> = buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(Errno) -> Int in
                do {
                    return try fileDescriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[readEnd...]),
                                                   retryOnInterrupt: true)
                } catch let error as Errno {
                    throw error
                } catch {
                    throw Errno.ioError
                }
            }
        }
        switch result {
        case .success(let count):
            if count == 0 {
                atEOF = true
            } else {
                end += count
            }
        case .failure(let errno):
            throw JSONLinesReadError(.cannotRead, line: lineNumber + 1, "cannot read: \(errno)")
        }
    }
}
