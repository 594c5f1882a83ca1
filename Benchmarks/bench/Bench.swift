import Foundation
import PrerenderTesting

/// `bench`: measurements that are not tests (`make bench-limits`, and more to come). Each prints a table
/// for people and writes JSON for machines. Run the release build: `swift run -c release bench limits`.
@main
struct Bench {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "limits":
            try RateLimitBenchmark(jobs: Int(arguments.dropFirst().first ?? "") ?? 200, perMinute: 120).run()
        default:
            print("usage: bench limits [jobs]   (200 jobs at 120 a minute against the fake Murf server)")
            exit(2)
        }
    }
}

/// Renders `jobs` lines against the fake Murf server with a limit of `perMinute` and reports what the
/// server saw: achieved requests per minute, the most in any 60 s window, the peak in flight, utilization.
struct RateLimitBenchmark {
    let jobs: Int
    let perMinute: Int
    let concurrency = 4

    func run() throws {
        let redis = try TestRedis()
        let server = try FakeMurfServer(apiKey: "bench-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let project = try TemporaryDirectory()
        try project.write("pipeline.yaml", """
            synthesizer: murf
            synthesizers:
              murf:
                base_url: \(server.baseURL)
                rate_limit: {per_minute: \(perMinute), burst: 1, concurrency: \(concurrency)}
            """)
        try project.write("Lessons/bench.yaml", "id: bench\ntitle: Bench\nitems:\n" + (0..<jobs).map {
            "  - id: line-\($0)\n    text: Zdanie numer \($0) do nauki.\n"
        }.joined())
        // Answers take 0.3 s, as a real API's would; jobs always wait for the limiter, never for the server.
        server.inject(Array(repeating: .delay(seconds: 0.3), count: jobs))
        let prerender = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("prerender").path
        print("rendering \(jobs) lines at \(perMinute)/min, concurrency \(concurrency), 8 workers in 2 processes (about \(jobs * 60 / perMinute) s)...")
        let started = Date()
        let builds = try (0..<2).map { _ in
            try CommandRunner.start(prerender, ["build", "--redis", redis.url, "--workers", "4", "--quiet"], in: project.path,
                                    environment: ["MURF_API_KEY": "bench-key"])
        }
        for build in builds { build.waitUntilExit() }
        let wall = Date().timeIntervalSince(started)
        let times = server.generateTimes.sorted()
        guard times.count >= 2 else { throw FixtureError("the server saw \(times.count) requests") }
        let span = times.last! - times.first!
        let achieved = Double(times.count - 1) / span * 60
        var busiest = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 60 { start += 1 }
            busiest = max(busiest, end - start + 1)
        }
        let utilization = achieved / Double(perMinute)
        let statuses = builds.map(\.terminationStatus)
        print("")
        print("| figure                          | value |")
        print("|---------------------------------|-------|")
        print("| requests the server saw         | \(times.count) |")
        print(String(format: "| achieved requests per minute    | %.1f |", achieved))
        print("| most requests in any 60 s       | \(busiest) (limit \(perMinute), burst 1) |")
        print("| peak in flight                  | \(server.maxInFlight) (limit \(concurrency)) |")
        print(String(format: "| utilization of the limit        | %.1f%% |", utilization * 100))
        print(String(format: "| wall time                       | %.1f s |", wall))
        print("| build exit codes                | \(statuses.map(String.init).joined(separator: ", ")) |")
        let json: [String: Any] = [
            "benchmark": "limits", "jobs": jobs, "per_minute": perMinute, "requests": times.count,
            "achieved_per_minute": (achieved * 10).rounded() / 10, "max_in_60s": busiest, "peak_in_flight": server.maxInFlight,
            "concurrency": concurrency, "utilization": (utilization * 1000).rounded() / 1000, "wall_seconds": (wall * 10).rounded() / 10,
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: "bench-limits.json"))
        print("\nwrote bench-limits.json")
        let withinLimit = busiest <= perMinute + 1 && server.maxInFlight <= concurrency
        print(withinLimit ? "never above the limit" : "ABOVE THE LIMIT")
        print(utilization >= 0.95 ? "target met: at least 95% of the limit used" : "target missed: less than 95% of the limit used")
        if !withinLimit || statuses.contains(where: { $0 != 0 }) { exit(1) }
    }
}
