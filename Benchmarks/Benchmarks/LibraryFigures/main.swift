#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The library figures of Benchmarks/library-figures.sh (issue 15):
//   LibraryFigures echo MIB_PER_ROUND ROUNDS
//   LibraryFigures recorder timed LABELS SECONDS [--no-recorder]
//   LibraryFigures recorder polls LABELS POLLS
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "echo":
    try echoThroughput(Array(arguments.dropFirst()))
case "recorder":
    try recorderLoad(Array(arguments.dropFirst()))
default:
    usage()
}

func usage() -> Never {
    print("""
        usage: LibraryFigures echo MIB_PER_ROUND ROUNDS
               LibraryFigures recorder timed LABELS SECONDS [--no-recorder]
               LibraryFigures recorder polls LABELS POLLS
        """)
    exit(64)
}
