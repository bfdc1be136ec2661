// swift-tools-version: 6.2
import PackageDescription

// A new user's app: SockStatLog by its git URL and a version tag, as any
// other package. SockStatLog has no public URL yet, so the URL comes from
// SOCKSTATLOG_URL; Examples/run.sh points it at a clone of this checkout
// tagged 0.15.0. SwiftPM names the package after the URL's last path
// component ("…/sockstatlog" or "…/sockstatlog.git": "sockstatlog").
guard let sockStatLogURL = Context.environment["SOCKSTATLOG_URL"] else {
    fatalError("FirstApp: set SOCKSTATLOG_URL to SockStatLog's git URL (Examples/run.sh does)")
}

let package = Package(
    name: "FirstApp",
    dependencies: [
        .package(url: sockStatLogURL, from: "0.15.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "FirstApp",
            dependencies: [
                .product(name: "SockStatNIO", package: "sockstatlog"),
                .product(name: "SockStatRecorder", package: "sockstatlog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
