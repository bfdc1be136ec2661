// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "SockStatLog",
    // Synchronization's Atomic (the counters, the recorder's state) is there
    // from macOS 15 / iOS 18 and the releases of the same year on the others:
    // an Apple app below these gets one clear requirement, not compile errors.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "SockStatFormat", targets: ["SockStatFormat"]),
        .library(name: "SockStatStore", targets: ["SockStatStore"]),
        .library(name: "SockStatRecorder", targets: ["SockStatRecorder"]),
        .library(name: "SockStatAnalysis", targets: ["SockStatAnalysis"]),
        .library(name: "SockStatNIO", targets: ["SockStatNIO"]),
        .library(name: "SockStatServiceLifecycle", targets: ["SockStatServiceLifecycle"]),
        .library(name: "SockStatMetrics", targets: ["SockStatMetrics"]),
        .executable(name: "sockstat-convert", targets: ["sockstat-convert"]),
        .executable(name: "sockstat-record", targets: ["sockstat-record"]),
    ],
    // Each integration is behind a trait, on by default: an app that uses only
    // the recorder depends on this package with `traits: []` and resolves
    // none of swift-nio, swift-service-lifecycle or swift-metrics (README
    // "Using the library in an app").
    traits: [
        .trait(name: "NIO", description: "SockStatNIO: handlers that count SwiftNIO channels' bytes (swift-nio)."),
        .trait(name: "ServiceLifecycle", description: "SockStatServiceLifecycle: the recorder as a swift-service-lifecycle Service."),
        .trait(name: "Metrics", description: "SockStatMetrics: the recorder's own metrics through swift-metrics."),
        .default(enabledTraits: ["NIO", "ServiceLifecycle", "Metrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // zlib from the system (Debian: zlib1g-dev), behind a tiny shim because
        // deflateInit2/inflateInit2 are macros Swift cannot call.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Bytes only: varints, records, blocks, checksums, deflate, JSON. No Foundation, no files.
        .target(
            name: "SockStatFormat",
            dependencies: ["CZlib"]
        ),
        // Looking at decoded blocks: totals, rates, gaps and buckets (summary,
        // report), label names. Bytes in, figures out: no files, no clocks.
        .target(
            name: "SockStatAnalysis",
            dependencies: ["SockStatFormat"]
        ),
        // Segment files and directories: writing, rotation, reading in order.
        .target(
            name: "SockStatStore",
            dependencies: [
                "SockStatFormat",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Sources of counters, clocks, the poller and its deltas, retention, draining.
        .target(
            name: "SockStatRecorder",
            dependencies: [
                "SockStatStore",
                "SockStatFormat",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // A SwiftNIO channel handler that counts a channel's bytes into an
        // InProcessCounters counter. Only this target (and its tests) use
        // swift-nio; its sources are under `#if NIO`.
        .target(
            name: "SockStatNIO",
            dependencies: [
                "SockStatRecorder",
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["NIO"])),
            ]
        ),
        // The recorder as a swift-service-lifecycle Service. Sources under
        // `#if ServiceLifecycle`.
        .target(
            name: "SockStatServiceLifecycle",
            dependencies: [
                "SockStatRecorder",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["ServiceLifecycle"])),
            ]
        ),
        // The recorder's own metrics through swift-metrics (CoreMetrics, the
        // API only: the app bootstraps its backend). Sources under `#if Metrics`.
        .target(
            name: "SockStatMetrics",
            dependencies: [
                "SockStatRecorder",
                .product(name: "CoreMetrics", package: "swift-metrics", condition: .when(traits: ["Metrics"])),
            ]
        ),
        .executableTarget(
            name: "sockstat-record",
            dependencies: [
                "SockStatRecorder",
                "SockStatStore",
                "SockStatFormat",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sockstat-convert",
            dependencies: [
                "SockStatStore",
                "SockStatFormat",
                "SockStatAnalysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What several test suites share (the seeded generator); no product has it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // CZlib: zlib's own deflate is the yardstick for ours.
        .testTarget(name: "SockStatFormatTests", dependencies: ["SockStatFormat", "CZlib", "TestSupport"]),
        .testTarget(name: "SockStatAnalysisTests", dependencies: ["SockStatAnalysis", "SockStatFormat", "TestSupport"]),
        .testTarget(
            name: "SockStatStoreTests",
            dependencies: [
                "SockStatStore", "SockStatFormat",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "SockStatRecorderTests",
            dependencies: [
                "SockStatRecorder", "SockStatStore", "SockStatFormat", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Real NIO channels on loopback (NIOPosix), recorded by a real Recorder.
        .testTarget(
            name: "SockStatNIOTests",
            dependencies: [
                "SockStatNIO", "SockStatRecorder", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // A Recorder run by a ServiceGroup, shut down gracefully or cancelled;
        // the README's server example (lifecycle and metrics), compiled and run.
        .testTarget(
            name: "SockStatServiceLifecycleTests",
            dependencies: [
                "SockStatServiceLifecycle", "SockStatMetrics", "SockStatRecorder", "SockStatFormat",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The reported metrics against recorder.metrics, through MetricsTestKit.
        .testTarget(
            name: "SockStatMetricsTests",
            dependencies: [
                "SockStatMetrics", "SockStatRecorder", "SockStatStore", "SockStatFormat",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // The DocC articles' code (Sources/*/*.docc), compiled and run; a test
        // checks that every Swift block of the articles is in these sources.
        .testTarget(
            name: "DocumentationTests",
            dependencies: [
                "SockStatRecorder", "SockStatNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Units of sockstat-convert's own code (the progress line's timing),
        // imported from the executable target.
        .testTarget(name: "ConvertToolTests", dependencies: ["sockstat-convert"]),
        .testTarget(
            name: "CommandLineTests",
            dependencies: ["SockStatStore", "SockStatFormat", "TestSupport"],
            resources: []
        ),
    ]
)

// Release builds of the tools on Linux are fully static executables: the
// binary runs on a device with no Swift runtime installed, and a recorder
// maps only the runtime pages it touches (peak RSS 7.8 MB instead of 14 MB,
// Benchmarks/README.md). Debug builds and the libraries are untouched.
// SOCKSTAT_DYNAMIC_LIBC=1 leaves them dynamic, for valgrind (Benchmarks/heap.sh).
let staticExecutables = Context.environment["SOCKSTAT_DYNAMIC_LIBC"] == nil
for target in package.targets where target.type == .executable && staticExecutables {
    var settings = target.linkerSettings ?? []
    settings.append(.unsafeFlags(["-static-executable", "-l_FoundationCollections", "-l_FoundationCShims"], .when(platforms: [.linux], configuration: .release)))
    target.linkerSettings = settings
}

// Strict settings for every Swift target, in one place (as swift-log does).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    // Every public type says whether it is Sendable (as swift-log does).
    settings.append(.unsafeFlags(["-Xfrontend", "-require-explicit-sendable"]))
    target.swiftSettings = settings
}

// The documentation (Sources/*/*.docc, .ci/run) is built with swift-docc-plugin,
// added only when SOCKSTAT_DOCS is set: an app that depends on this package
// never resolves the plugin or its swift-docc-symbolkit.
//     SOCKSTAT_DOCS=1 swift package generate-documentation --target SockStatRecorder --target SockStatNIO --target SockStatServiceLifecycle --target SockStatMetrics
if Context.environment["SOCKSTAT_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
