// swift-tools-version: 6.1
// libFuzzer targets in their own package, so that the main build never needs
// the fuzzer runtime: see Fuzz/README.md and Fuzz/run.sh.
import PackageDescription

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
            ]
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
