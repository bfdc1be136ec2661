// swift-tools-version: 6.1
// libFuzzer targets in their own package, so that the main build never needs
// the fuzzer runtime: see Fuzz/README.md and Fuzz/run.sh.
import PackageDescription

// The checks are not what is being fuzzed: run.sh sets FUZZ_HARNESS_COVERAGE
// so that they get edge counters only, not comparison tracing, which swiftc's
// -sanitize=fuzzer adds to every module (a __sanitizer_cov_trace_*cmp call
// at each comparison; in the checks' own loops that was a sixth of each run,
// and gives libFuzzer nothing about the code under test). Product modules
// keep it. An environment variable because the plain (non-fuzzer) build
// must not get the option: swiftc needs -sanitize= with it.
let harnessSettings: [SwiftSetting] = Context.environment["FUZZ_HARNESS_COVERAGE"].map {
    [.unsafeFlags(["-sanitize-coverage=\($0)"])]
} ?? []

let package = Package(
    name: "SockStatLogFuzz",
    dependencies: [
        .package(name: "SockStatLog", path: ".."),
    ],
    targets: [
        // The checks, shared with the main package's FuzzRegressionTests:
        // Sources/FuzzChecks/FuzzChecks.swift is a symlink to
        // Tests/SockStatRecorderTests/FuzzChecks.swift.
        .target(
            name: "FuzzChecks",
            dependencies: [
                .product(name: "SockStatFormat", package: "SockStatLog"),
                .product(name: "SockStatStore", package: "SockStatLog"),
                .product(name: "SockStatRecorder", package: "SockStatLog"),
            ],
            swiftSettings: harnessSettings
        ),
        .executableTarget(name: "SegmentReaderFuzzer", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "JSONLinesFuzzer", dependencies: ["FuzzChecks"]),
    ]
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
