/// A fixed-size byte buffer that hands its contents to a sink when full.
///
/// Output is built in one large buffer and written with few calls; the sink
/// (a file descriptor, an array in tests) is the caller's. A class because the
/// buffer memory is owned and freed once.
public final class OutputBuffer {
    /// Where full buffers go.
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

    /// Returns a pointer with room for `bytes` bytes, draining first if needed.
    @inlinable
    public func reserve(_ bytes: Int) throws -> UnsafeMutablePointer<UInt8> {
        if capacity - count < bytes {
            try flush()
            // A single request larger than the buffer cannot happen: callers
            // bound their requests well below 64 KiB per label.
            precondition(bytes <= capacity, "OutputBuffer request of \(bytes) bytes exceeds capacity")
        }
        return storage + count
    }

    /// Marks `bytes` bytes after the last `reserve` as written.
    @inlinable
    public func commit(_ bytes: Int) {
        count &+= bytes
    }

    /// Appends bytes.
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

    /// Hands everything buffered to the sink.
    public func flush() throws {
        guard count > 0 else { return }
        let pending = count
        count = 0
        try sink(UnsafeRawBufferPointer(start: storage, count: pending))
    }
}
