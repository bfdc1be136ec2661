// libFuzzer target: arbitrary bytes as JSON lines; the properties are
// JSONLinesChecks in FuzzChecks.swift.
import FuzzChecks

/// Kept between inputs, as its decoders are expensive to set up; libFuzzer
/// calls the target from one thread.
nonisolated(unsafe) private let checks = JSONLinesChecks()

@_cdecl("LLVMFuzzerTestOneInput")
public func jsonLinesTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    do {
        try checks.check(bytes)
    } catch {
        // A trap is what libFuzzer reports and keeps the input for.
        fatalError("JSON lines property violated: \(error)")
    }
    return 0
}

#if !FUZZING
/// Without libFuzzer: checks each file or directory of files given.
@main
enum JSONLinesFuzzerMain {
    static func main() {
        runEachInput(CommandLine.arguments.dropFirst()) { bytes throws in try checks.check(bytes) }
    }
}
#endif
