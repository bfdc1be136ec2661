/// Several segments as one byte stream (`Spec/FORMAT.md` 16): whole
/// segments back to back, as `sockstat-convert export -o -` writes them and
/// as `cat *.sslog` would. A segment's length is not in its header, so a
/// reader splits the stream where a segment header starts.
public enum SegmentStream: Sendable {
    /// The pieces of `bytes`, each to be read as one segment (section 10.1):
    /// a new piece starts at every offset after 0 where an **intact**
    /// segment header starts (the magic, a header length in range and the
    /// header CRC, section 10.4). Bytes that are not a segment, or a single
    /// segment, are one piece.
    public static func pieces(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var starts = [0]
        let magic = SegmentHeader.magic
        let last = bytes.count - SegmentHeader.encodedSize
        // Horspool's search for the magic (most bytes of a segment are not
        // in it, so about one look per 8 bytes): every file read goes through here.
        shifts.withUnsafeBufferPointer { shifts in
            var offset = 1
            while offset <= last {
                let end = bytes[offset + magic.count - 1]
                if end == magic[magic.count - 1], bytes[offset] == magic[0],
                   SegmentHeader.intactSequence(UnsafeRawBufferPointer(rebasing: bytes[offset...])) != nil {
                    starts.append(offset)
                    // The next header cannot start inside this one.
                    offset += SegmentHeader.encodedSize
                } else {
                    offset += Int(shifts[Int(end)])
                }
            }
        }
        return zip(starts, Array(starts.dropFirst()) + [bytes.count]).map { $0..<$1 }
    }

    /// How far the search may move on, by the byte at the end of the
    /// 8-byte window: its distance from the end of the magic's last
    /// occurrence of it (before the end), or 8 for a byte not in it.
    private static let shifts: [UInt8] = {
        let magic = SegmentHeader.magic
        var table = [UInt8](repeating: UInt8(magic.count), count: 256)
        for index in 0..<(magic.count - 1) { table[Int(magic[index])] = UInt8(magic.count - 1 - index) }
        return table
    }()
}
