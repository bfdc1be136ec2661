/// A fixed-size byte buffer that hands its contents to a sink when full.
///
/// Output is built in one large buffer and written with few calls; the sink
/// (a file descriptor, an array in tests) is the caller's. A class because the
/// buffer memory is owned and freed once.
///
/// The sink takes all the bytes it is given or throws. When it throws, the
/// bytes stay in the buffer and the error reaches the caller of the write or
/// `flush` that called it; the next `flush` hands the same bytes again.
public final class OutputBuffer {
    /// Where full buffers go: takes all the bytes, or throws and takes none.
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    @usableFromInline let storage: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0
    private let sink: Sink

    /// Creates a buffer of `capacity` bytes (at least 64 KiB) that drains into `sink`.
    public init(capacity: Int = 1 << 20, sink: @escaping Sink) {
        self.capacity = max(capacity, 1 << 16)
        self.storage = .allocate(capacity: self.capacity)
        self.sink = sink
    }

    deinit { storage.deallocate() }

    /// The most bytes one `write(atMost:_:)` may ask for: the buffer's size.
    public var largestWrite: Int { capacity }

    /// Bytes buffered and not yet handed to the sink.
    public var bufferedCount: Int { count }

    /// Lets `body` write up to `bytes` bytes (at most `largestWrite`) in
    /// place and keeps the number it returns, draining the buffer first if
    /// there is not room.
    ///
    /// - Parameters:
    ///   - bytes: the most `body` may write.
    ///   - body: writes into the room given and returns how many bytes it wrote.
    /// - Throws: what the sink throws when the buffer had to drain first.
    @inlinable
    public func write(atMost bytes: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        precondition(bytes >= 0 && bytes <= capacity, "OutputBuffer write of \(bytes) bytes; at most \(capacity)")
        let room = try reserve(bytes)
        let written = try body(UnsafeMutableRawBufferPointer(start: room, count: bytes))
        precondition(written >= 0 && written <= bytes, "OutputBuffer writer claimed \(written) of \(bytes) bytes")
        commit(written)
    }

    /// Returns a pointer with room for `bytes` bytes, draining first if
    /// needed. Internal: `commit` trusts what it is told (checking it cost
    /// 0.25% of a decode's instructions), so callers outside the module use
    /// `write(atMost:_:)`, which checks.
    @inlinable
    func reserve(_ bytes: Int) throws -> UnsafeMutablePointer<UInt8> {
        if capacity - count < bytes {
            try flush()
            // A single request larger than the buffer cannot happen: callers
            // bound their requests well below 64 KiB per label.
            precondition(bytes <= capacity, "OutputBuffer request of \(bytes) bytes exceeds capacity")
        }
        return storage + count
    }

    /// Marks `bytes` bytes, at most those the last `reserve` made room for,
    /// as written.
    @inlinable
    func commit(_ bytes: Int) {
        count &+= bytes
    }

    /// Appends bytes. If the sink throws on the way, the bytes that fitted
    /// before it was called are buffered and the rest are not.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        var remaining = bytes
        while !remaining.isEmpty {
            if count == capacity { try flush() }
            let piece = min(remaining.count, capacity - count)
            UnsafeMutableRawPointer(storage + count).copyMemory(from: remaining.baseAddress!, byteCount: piece)
            count += piece
            remaining = UnsafeRawBufferPointer(rebasing: remaining[piece...])
        }
    }

    /// Appends bytes.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Hands everything buffered to the sink; if the sink throws, the bytes
    /// stay buffered for the next `flush`.
    public func flush() throws {
        guard count > 0 else { return }
        try sink(UnsafeRawBufferPointer(start: storage, count: count))
        count = 0
    }

    /// Forgets what is buffered without handing it to the sink (after the
    /// sink failed for good, when the caller gives up on the output).
    public func discard() {
        count = 0
    }
}

// Not Sendable: its buffer and count change with every write, from one thread.
@available(*, unavailable)
extension OutputBuffer: Sendable {}
