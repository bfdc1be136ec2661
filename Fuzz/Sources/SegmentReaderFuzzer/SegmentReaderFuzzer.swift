// libFuzzer target: arbitrary bytes as a segment file (and as a block
// payload); the properties are SegmentReaderChecks in FuzzChecks.swift.
import FuzzChecks

/// Kept between inputs, as its decoders are expensive to set up; libFuzzer
/// calls the target from one thread.
nonisolated(unsafe) private let checks = SegmentReaderChecks()

@_cdecl("LLVMFuzzerTestOneInput")
public func segmentReaderTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    do {
        try checks.check(bytes)
    } catch {
        // A trap is what libFuzzer reports and keeps the input for.
        fatalError("segment reader property violated: \(error)")
    }
    return 0
}

#if !FUZZING
/// Without libFuzzer: checks each file or directory of files given.
@main
enum SegmentReaderFuzzerMain {
    static func main() {
        runEachInput(CommandLine.arguments.dropFirst()) { bytes throws in try checks.check(bytes) }
    }
}
#endif
