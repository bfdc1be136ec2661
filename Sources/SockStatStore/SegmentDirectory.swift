import SockStatFormat
import SystemPackage

/// A segment file found in a directory.
public struct SegmentFile: Hashable, Sendable {
    /// Full path.
    public var path: String
    /// Sequence number from the file's header, or from its name when the
    /// header cannot be read.
    public var sequence: UInt64?
}

/// Finding and reading segments.
public enum SegmentDirectory {
    /// Whether `path` names a directory.
    public static func isDirectory(_ path: String) -> Bool {
        FileIO.isDirectory(path)
    }

    /// The segment files (`*.sslog`) in `directory`, in sequence order.
    ///
    /// Order (Spec 10.4): the sequence number of an intact header, else the
    /// number in a `sockstat-<20 digits>.sslog` name, else after all others;
    /// ties in bytewise name order. Other files are ignored.
    public static func segments(in directory: String) throws(StoreError) -> [SegmentFile] {
        let names = try FileIO.listDirectory(directory).filter { $0.hasSuffix(SegmentName.suffix) && !$0.hasPrefix(".") }
        var files: [SegmentFile] = []
        for name in names {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var sequence = SegmentName.sequence(fromFileName: name)
            if let prefix = try? FileIO.readPrefix(path, count: FormatLimits.maxHeaderBytes),
               let fromHeader = prefix.withUnsafeBytes({ SegmentHeader.intactSequence($0) }) {
                sequence = fromHeader
            }
            files.append(SegmentFile(path: path, sequence: sequence))
        }
        files.sort { lhs, rhs in
            switch (lhs.sequence, rhs.sequence) {
            case let (left?, right?) where left != right: return left < right
            case (nil, _?): return false
            case (_?, nil): return true
            default: return lhs.path.utf8.lexicographicallyPrecedes(rhs.path.utf8)
            }
        }
        return files
    }

    /// Reads a whole segment file (at most `FormatLimits.maxSegmentBytes`).
    public static func read(_ path: String) throws(StoreError) -> [UInt8] {
        try FileIO.readFile(path, limit: FormatLimits.maxSegmentBytes)
    }

    /// Reads one segment from standard input.
    public static func readStandardInput() throws(StoreError) -> [UInt8] {
        try FileIO.readAll(.standardInput, path: "-", limit: FormatLimits.maxSegmentBytes)
    }
}
