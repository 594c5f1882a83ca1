// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: prerender (CLI) -> Pipeline -> RedisClient, HTTPClient, AudioIO -> C libraries.
let package = Package(
    name: "prerender",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "prerender", targets: ["prerender"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Thin C bindings: only a module map and a shim header each.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Clients: one Swift file owns each C handle.
        .target(name: "RedisClient", dependencies: ["CHiredis"]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        .target(name: "AudioIO", dependencies: ["CSndfile"]),

        // The pipeline's domain: lessons, jobs, queue, synthesizers, validation, cache, manifest, build.
        .target(
            name: "Pipeline",
            dependencies: [
                "RedisClient", "HTTPClient", "AudioIO", "CZlib",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The command-line tool.
        .executableTarget(
            name: "prerender",
            dependencies: [
                "Pipeline", "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Benchmarks (`make bench-limits`): measurements, not tests.
        .executableTarget(
            name: "bench",
            dependencies: ["PrerenderTesting"],
            path: "Benchmarks/bench"
        ),

        // Test support: a fake Murf server on loopback, a private redis-server, fixtures.
        .target(
            name: "PrerenderTesting",
            dependencies: ["Pipeline", "AudioIO", "RedisClient"],
            path: "Tests/PrerenderTesting"
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "PrerenderTesting", "RedisClient", "HTTPClient", "AudioIO",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Pipeline", "PrerenderTesting", "RedisClient"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
