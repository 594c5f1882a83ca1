import AudioIO
import Foundation
import Pipeline
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
        case "mastering":
            try MasteringBenchmark(files: Int(arguments.dropFirst().first ?? "") ?? 40).run()
        default:
            print("usage: bench limits [jobs]      200 jobs at 120 a minute against the fake Murf server")
            print("       bench mastering [files]  mastering cost per minute of audio, against sox on the same files")
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

/// Mastering cost per minute of audio, this pipeline against sox doing the same work on the same files
/// (trim leading and trailing silence, normalize, resample to 24 kHz, write 16-bit WAV). Medians of 3 runs.
struct MasteringBenchmark {
    let files: Int

    func run() throws {
        let lines = ["Dzień dobry, jak się masz?", "Poproszę kawę z mlekiem i kawałek sernika.", "Gdzie jest dworzec kolejowy?",
                     "Ile kosztuje bilet do Krakowa?", "Mam na imię Piotr i mieszkam w Warszawie.", "Do zobaczenia jutro rano!",
                     "Czy mogę zapłacić kartą?", "To jest moja siostra, a to mój brat."]
        let directory = try TemporaryDirectory()
        var inputs: [[UInt8]] = []
        var seconds = 0.0
        for i in 0..<files {
            let bytes = try AudioFixtures.speech(lines[i % lines.count] + String(repeating: " Tak.", count: i / lines.count))
            inputs.append(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(directory.path)/in-\(i).wav"))
            seconds += try SoundFile(bytes: bytes).info.durationSeconds
        }
        var settings = MasteringSettings()
        settings.sampleRate = 24_000
        let minutes = seconds / 60
        print(String(format: "mastering %d files, %.1f s of speech (espeak-ng), 3 runs each...", files, seconds))

        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        var ours: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            for input in inputs { _ = try Mastering.master(input, settings: settings) }
            ours.append(Date().timeIntervalSince(start))
        }
        var sox: [Double] = []
        let soxPath = ["/usr/bin/sox", "/usr/local/bin/sox"].first { FileManager.default.isExecutableFile(atPath: $0) }
        if let soxPath {
            for _ in 0..<3 {
                let start = Date()
                for i in 0..<files {
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: soxPath)
                    p.arguments = ["\(directory.path)/in-\(i).wav", "-b", "16", "\(directory.path)/out-\(i).wav",
                                   "silence", "1", "0.01", "-50d", "reverse", "silence", "1", "0.01", "-50d", "reverse",
                                   "norm", "-1", "rate", "24000"]
                    try p.run()
                    p.waitUntilExit()
                }
                sox.append(Date().timeIntervalSince(start))
            }
        }
        let oursPerMinute = median(ours) / minutes * 1000
        print("")
        print("| mastering, per minute of audio | median | min | max |")
        print("|---|---|---|---|")
        print(String(format: "| prerender (BS.1770 loudness, true-peak limiter, trim, libsamplerate) | %.0f ms | %.0f ms | %.0f ms |",
                     oursPerMinute, ours.min()! / minutes * 1000, ours.max()! / minutes * 1000))
        var json: [String: Any] = ["benchmark": "mastering", "files": files, "audio_seconds": (seconds * 10).rounded() / 10,
                                   "prerender_ms_per_audio_minute": oursPerMinute.rounded()]
        if !sox.isEmpty {
            let soxPerMinute = median(sox) / minutes * 1000
            print(String(format: "| sox norm + silence + rate (a process per file) | %.0f ms | %.0f ms | %.0f ms |",
                         soxPerMinute, sox.min()! / minutes * 1000, sox.max()! / minutes * 1000))
            print(String(format: "\nprerender is %.1fx %@ than sox for this work", max(soxPerMinute, oursPerMinute) / min(soxPerMinute, oursPerMinute),
                         oursPerMinute < soxPerMinute ? "faster" : "slower"))
            json["sox_ms_per_audio_minute"] = soxPerMinute.rounded()
            json["ratio"] = ((soxPerMinute / oursPerMinute) * 100).rounded() / 100
        } else {
            print("sox is not installed (apt-get install sox): no comparison")
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: "bench-mastering.json"))
        print("wrote bench-mastering.json")
    }
}
