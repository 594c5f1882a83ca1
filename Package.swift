// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: prerender (CLI) -> Pipeline -> RedisClient, HTTPClient, AudioIO -> C libraries.
// The CLI also serves metrics (HTTPServer, swift-prometheus); the pipeline only counts (swift-metrics' API).
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
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Thin C bindings: only a module map and a shim header each.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CEbur128", providers: [.apt(["libebur128-dev"])]),
        .systemLibrary(name: "CSamplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),

        // Clients: one Swift file owns each C handle.
        .target(name: "RedisClient", dependencies: ["CHiredis"]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        .target(name: "AudioIO", dependencies: ["CSndfile", "CEbur128", "CSamplerate"]),
        // A small blocking HTTP server: a worker's /metrics and /health/queue, the tests' fake Murf API.
        .target(name: "HTTPServer"),

        // The pipeline's domain: lessons, jobs, queue, synthesizers, validation, cache, manifest, build.
        .target(
            name: "Pipeline",
            dependencies: [
                "RedisClient", "HTTPClient", "AudioIO", "CZlib", "CCrypto",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),

        // The command-line tool.
        .executableTarget(
            name: "prerender",
            dependencies: [
                "Pipeline", "RedisClient", "HTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // Benchmarks (`make bench-limits`): measurements, not tests.
        .executableTarget(
            name: "bench",
            dependencies: ["PrerenderTesting", "Pipeline", "AudioIO"],
            path: "Benchmarks/bench"
        ),

        // Test support: a fake Murf server on loopback, a private redis-server, fixtures.
        .target(
            name: "PrerenderTesting",
            dependencies: ["Pipeline", "AudioIO", "RedisClient", "HTTPServer"],
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
            dependencies: ["Pipeline", "PrerenderTesting", "RedisClient", "HTTPClient"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
