// swift-tools-version: 6.2
// A separate package so that the main build, its tests and CI never compile the benchmarks.
import PackageDescription

let package = Package(
    name: "MessagerieBenchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loadgen", targets: ["loadgen"]),
        .executable(name: "ceiling", targets: ["ceiling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Pure code (settings, frame codecs, histogram summaries, reports): unit tested.
        .target(
            name: "BenchCore",
            dependencies: [
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "loadgen",
            dependencies: [
                "BenchCore",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The framework's own limit: WebSocket broadcast with no GraphQL and no database.
        .executableTarget(
            name: "ceiling",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        ),
        .testTarget(name: "BenchCoreTests", dependencies: ["BenchCore"]),
    ],
    swiftLanguageModes: [.v6]
)
