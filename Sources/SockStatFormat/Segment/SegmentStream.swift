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
        let first = SegmentHeader.magic[0]
        var offset = 1
        let last = bytes.count - SegmentHeader.encodedSize
        while offset <= last {
            if bytes[offset] == first,
               SegmentHeader.intactSequence(UnsafeRawBufferPointer(rebasing: bytes[offset...])) != nil {
                starts.append(offset)
                // The next header cannot start inside this one.
                offset += SegmentHeader.encodedSize
            } else {
                offset += 1
            }
        }
        return zip(starts, Array(starts.dropFirst()) + [bytes.count]).map { $0..<$1 }
    }
}
