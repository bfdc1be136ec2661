// swift-tools-version: 6.1
// Benchmarks live in their own package so that users' builds stay lean:
// `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "SockStatLogBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SockStatLog", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RecorderBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SockStatRecorder", package: "SockStatLog"),
                .product(name: "SockStatFormat", package: "SockStatLog"),
            ],
            path: "Benchmarks/RecorderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "NIOHandlerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SockStatNIO", package: "SockStatLog"),
                .product(name: "SockStatRecorder", package: "SockStatLog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Benchmarks/NIOHandlerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain executable (not ordo-one benchmarks) that library-figures.sh
        // runs: loopback echo throughput with and without the handler, and the
        // recorder's CPU and memory with many in-process labels.
        .executableTarget(
            name: "LibraryFigures",
            dependencies: [
                .product(name: "SockStatNIO", package: "SockStatLog"),
                .product(name: "SockStatRecorder", package: "SockStatLog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/LibraryFigures"
        ),
    ]
)
