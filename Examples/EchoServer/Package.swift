// swift-tools-version: 6.2
import PackageDescription

// A SwiftNIO TCP echo server that records its traffic per client with
// SockStatLog and exports the recorded segments on SIGUSR1 (Examples/README.md).
// It depends on the SockStatLog checkout it sits in, so it always builds
// against the code beside it; an app of your own depends on SockStatLog by
// URL and version, as Examples/FirstApp does.
// SwiftPM names a path dependency after its directory (lowercased): here
// whatever the checkout two levels up is called ("sockstatlog", a worktree).
let sockStatLog = Context.packageDirectory.split(separator: "/").dropLast(2).last.map { $0.lowercased() } ?? "sockstatlog"

let package = Package(
    name: "EchoServer",
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "EchoServer",
            dependencies: [
                .product(name: "SockStatNIO", package: sockStatLog),
                .product(name: "SockStatRecorder", package: sockStatLog),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
