import AudioIO
import Foundation
import Pipeline
import PrerenderTesting

/// `bench`: measurements that are not tests (`make bench-limits`, and more to come). Each prints a table
/// for people and writes JSON for machines. Run the release build: `swift run -c release bench limits`.
@main
struct Bench {
    static func main() {
        do {
            try run(CommandLine.arguments.dropFirst())
        } catch {
            // A benchmark that cannot run says why in one line (a missing reference, a failed build), not with a crash report.
            FileHandle.standardError.write(Data("bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ arguments: ArraySlice<String>) throws {
        let count = Int(arguments.dropFirst().first ?? "")
        switch arguments.first {
        case "all":
            // `make bench`: every figure of the comparison, one summary table, bench.json.
            var rows: [Row] = []
            rows += try ThroughputBenchmark(lines: count ?? 20_000).run()
            rows += try EnqueueBenchmark(jobs: 100_000).run()
            rows += try ScaleBenchmark(sizes: [1_000, 10_000, 100_000]).run()
            rows += try EspeakBenchmark(lines: 64).run()
            rows += try RedisCostBenchmark(jobs: 2_000).run()
            rows += try MasteringBenchmark(files: 40).run()
            try Report.print(rows, title: "prerender against the Python RQ design, this machine", file: "bench.json")
        case "throughput":
            try Report.print(try ThroughputBenchmark(lines: count ?? 20_000).run(), title: "throughput", file: "bench-throughput.json")
        case "scale":
            let sizes = arguments.dropFirst().compactMap { Int($0) }
            try Report.print(try ScaleBenchmark(sizes: sizes.isEmpty ? [1_000, 10_000, 100_000] : sizes).run(), title: "scale",
                             file: "bench-scale.json")
        case "espeak":
            try Report.print(try EspeakBenchmark(lines: count ?? 64).run(), title: "espeak-ng", file: "bench-espeak.json")
        case "limits":
            try RateLimitBenchmark(jobs: count ?? 200, perMinute: 120).run()
        case "mastering":
            try Report.print(try MasteringBenchmark(files: count ?? 40).run(), title: "mastering", file: "bench-mastering.json")
        case "enqueue":
            try Report.print(try EnqueueBenchmark(jobs: count ?? 100_000).run(), title: "enqueue", file: "bench-enqueue.json")
        case "redis-cost":
            try Report.print(try RedisCostBenchmark(jobs: count ?? 2_000).run(), title: "Redis cost", file: "bench-redis-cost.json")
        case "serve-murf":
            // The fake Murf server on its own, for trying a reference or a worker by hand.
            let server = try FakeMurfServer(apiKey: arguments.dropFirst().first ?? "bench-key", audio: try AudioFixtures.murfAudio(), recordingRequests: false)
            FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
            while true { sleep(3600) }
        default:
            print("""
                usage: bench all [lines]          everything below but limits: one summary table, bench.json (make bench)
                       bench throughput [lines]   end to end through the fake Murf server, against RQ SimpleWorker pools of 2 and 4
                       bench enqueue [jobs]       enqueueing, against RQ's enqueue_many and redis-benchmark's pipelined RPUSH
                       bench scale [sizes...]     builds from nothing (peak RSS) and no-op rebuilds of 1k, 10k, 100k lines
                       bench espeak [lines]       espeak-ng audio seconds per wall second, default workers against one
                       bench redis-cost [jobs]    Redis commands a job over a whole build, against RQ's pool
                       bench mastering [files]    mastering cost per minute of audio, against sox on the same files
                       bench limits [jobs]        200 jobs at 120 a minute against the fake Murf server (100 s)
                       bench serve-murf [key]     run the fake Murf server alone and print its URL
                """)
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
        let server = try FakeMurfServer(apiKey: "bench-key", audio: try AudioFixtures.murfAudio(), recordingRequests: false)
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

    func run() throws -> [Row] {
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

        var ours: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            for input in inputs { _ = try Mastering.master(input, settings: settings) }
            ours.append(Date().timeIntervalSince(start))
        }
        var sox: [Double] = []
        let soxPath = ChildProcess.find("sox")
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
        let perMinute = Spread(values: ours.map { $0 / minutes * 1000 })
        print(String(format: "prerender (BS.1770 loudness, true-peak limiter, trim, libsamplerate): %.0f ms per minute of audio", perMinute.median))
        guard !sox.isEmpty else {
            print("sox is not installed (apt-get install sox): no comparison")
            return [Row(name: "mastering, per minute of audio", unit: "ms", ours: perMinute, higherIsBetter: false, target: "faster than sox", met: nil)]
        }
        let soxPerMinute = Spread(values: sox.map { $0 / minutes * 1000 })
        print(String(format: "sox norm + silence + rate (a process per file): %.0f ms per minute of audio", soxPerMinute.median))
        return [Row(name: "mastering, per minute of audio (\(files) espeak-ng files)", unit: "ms", ours: perMinute, reference: soxPerMinute,
                    referenceName: "sox silence + norm + rate", higherIsBetter: false, target: "faster than sox",
                    met: perMinute.median < soxPerMinute.median)]
    }
}

/// The median of repeated measurements, with min and max.
struct Spread {
    var values: [Double]
    var median: Double { values.sorted()[values.count / 2] }
    var min: Double { values.min() ?? 0 }
    var max: Double { values.max() ?? 0 }
}

/// Expanding and enqueueing lines, against RQ's `Queue.enqueue_many` (JSON serializer) on the same private
/// Redis, redis-benchmark's pipelined RPUSH as the limit, and redis-benchmark sending the writes one of our jobs
/// makes (dedup entry, job hash, expiry) as plain pipelined commands: the limit with real data. Medians of 3 runs.
struct EnqueueBenchmark {
    let jobs: Int

    func run() throws -> [Row] {
        let redis = try TestRedis()
        var config = PipelineConfig()
        config.synthesizer = .murf
        let lesson = Lesson(id: "bench", title: "Bench", source: "bench.yaml", items: (0..<jobs).map {
            LessonItem(id: "line-\($0)", text: "Zdanie numer \($0) do nauki.", voice: "pl-PL-kasia")
        })
        var ours: [Double] = []
        for _ in 0..<3 {
            _ = try redis.connect().command("FLUSHALL")
            _ = try redis.connect().command("CONFIG", "RESETSTAT")
            let start = Date()
            let plan = BuildPlan(lessons: [lesson], config: config)  // expansion and keys are part of the work
            let planned = Date()
            _ = try JobQueue(connection: try redis.connect(), settings: config.queue).enqueue(plan.jobs, build: "bench")
            ours.append(Date().timeIntervalSince(start))
            let usec = BenchSupport.stat(try BenchSupport.info(redis, "commandstats")["cmdstat_evalsha"], "usec") ?? 0
            print(String(format: "  prerender: plan %.2f s, enqueue %.2f s, of which Redis busy %.2f s", planned.timeIntervalSince(start),
                         Date().timeIntervalSince(planned), usec / 1e6))
        }
        // What one of our jobs leaves in Redis (the last run's), for the writes-only reference below.
        let probe = try redis.connect()
        let sampleID = try probe.command("LINDEX", "rq:queue:\(config.queue.name)", 0).string ?? ""
        let sampleHash = try probe.command("HGETALL", "rq:job:\(sampleID)").array?.compactMap(\.string) ?? []
        let sampleKey = try probe.command("HGET", "rq:job:\(sampleID)", "prerender_key").string ?? ""
        guard !sampleHash.isEmpty, sampleKey.count == 64 else { throw FixtureError("no job of the enqueue run was found in Redis") }

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("reference/rq_enqueue.py").path
        var reference: [Double] = []
        for _ in 0..<3 {
            _ = try redis.connect().command("FLUSHALL")
            let result = try CommandRunner.run("/usr/bin/env", [CommandRunner.python, script, redis.url, String(jobs)], timeout: 600)
            guard result.status == 0, let seconds = Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw FixtureError("the RQ reference failed (is rq installed for \(CommandRunner.python)?): \(result.output)")
            }
            reference.append(seconds)
        }
        /// Seconds redis-benchmark takes to send `jobs` of one command, 16 pipelined, on one connection; __rand_int__
        /// in an argument becomes a random number (a new key each time).
        func redisBenchmark(_ command: [String]) throws -> Double {
            _ = try redis.connect().command("FLUSHALL")
            let result = try CommandRunner.run("/usr/bin/env", ["redis-benchmark", "-p", String(redis.port), "-n", String(jobs), "-P", "16",
                                                                "-c", "1", "-q", "-r", "1000000000"] + command, timeout: 600)
            // The last line: "RPUSH ...: 612745.12 requests per second, p50=..." (arguments may hold numbers too).
            let line = result.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last { $0.contains(" requests per second") } ?? ""
            let rate = line.components(separatedBy: " requests per second").first?.split(separator: " ").last.flatMap { Double($0) } ?? 0
            guard rate > 0 else { throw FixtureError("redis-benchmark answered: \(result.output)") }
            return Double(jobs) / rate
        }
        var limit: [Double] = []
        var writes: [Double] = []
        let job = "rq:job:" + String(sampleID.prefix(24)) + "__rand_int__"
        for _ in 0..<3 {
            limit.append(try redisBenchmark(["-t", "rpush"]))  // its own RPUSH test, as before
            // The same writes a new job needs, as plain commands without Lua (and so without deduplication, which
            // needs the first one's answer before the others): its dedup entry, its hash, the hash's expiry.
            writes.append(try redisBenchmark(["SET", "prerender:dedup:\(config.queue.name):" + String(sampleKey.prefix(52)) + "__rand_int__",
                                              sampleID, "NX", "EX", String(config.queue.dedupTTL)])
                          + redisBenchmark(["HSET", job] + sampleHash)
                          + redisBenchmark(["EXPIRE", job, String(config.queue.jobTTL)]))
        }
        let o = Spread(values: ours), r = Spread(values: reference), l = Spread(values: limit), w = Spread(values: writes)
        print(String(format: "prerender %.2f s, RQ enqueue_many %.2f s, pipelined RPUSH %.2f s, a job's three writes pipelined %.2f s",
                     o.median, r.median, l.median, w.median))
        let rate = { (s: Spread) in Spread(values: s.values.map { Double(jobs) / $0 }) }
        return [
            Row(name: "enqueue \(jobs) lines (expand, key, enqueue)", unit: "jobs/s", ours: rate(o), reference: rate(r),
                referenceName: "RQ Queue.enqueue_many", target: ">= 5x", met: r.median / o.median >= 5),
            Row(name: "enqueue \(jobs) lines against the limit", unit: "jobs/s", ours: rate(o), reference: rate(l),
                referenceName: "redis-benchmark RPUSH -P 16", target: "within 3x (ratio >= 0.33)", met: l.median / o.median >= 1.0 / 3),
            Row(name: "enqueue \(jobs) lines against redis-benchmark sending each job's writes", unit: "jobs/s", ours: rate(o), reference: rate(w),
                referenceName: "redis-benchmark -P 16: SET NX EX + HSET (the job's fields) + EXPIRE", target: "(what the limit costs with this data)",
                met: nil),
        ]
    }
}

/// Redis commands a job costs over a whole `prerender build` (enqueue, take, finish, collect, heartbeats),
/// counted with INFO commandstats before and after, against a private Redis and the fake Murf server.
struct RedisCostBenchmark {
    let jobs: Int

    func run() throws -> [Row] {
        let redis = try TestRedis()
        let server = try FakeMurfServer(apiKey: "cost-key", audio: try AudioFixtures.murfAudio(), recordingRequests: false)
        defer { server.stop() }
        let project = try MurfProject.make(server: server, items: 0, murf: ["rate_limit: none", "circuit_breaker: {failures: 0}"],
                                           lesson: "id: cost\ntitle: Cost\nitems:\n" + (0..<jobs).map {
                                               "  - id: line-\($0)\n    text: Zdanie numer \($0) do nauki.\n"
                                           }.joined())
        try project.write("pipeline.yaml", (project.read("pipeline.yaml") ?? "") + "mastering: off\n")
        func calls() throws -> [String: Int] {
            var result: [String: Int] = [:]
            for (name, value) in try BenchSupport.info(redis, "commandstats") where name.hasPrefix("cmdstat_") {
                if let calls = BenchSupport.stat(value, "calls") { result[String(name.dropFirst("cmdstat_".count))] = Int(calls) }
            }
            return result
        }
        let prerender = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("prerender").path
        let before = try calls()
        let result = try CommandRunner.run(prerender, ["build", "--redis", redis.url, "--workers", "2", "--json"], in: project.path,
                                           environment: ["MURF_API_KEY": "cost-key"], timeout: 600)
        let sent = ((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any])?["redis_commands"] as? Int ?? 0
        let after = try calls()
        guard result.status == 0 else { throw FixtureError("the build failed: \(result.output)") }
        var perCommand: [(String, Int)] = []
        for (name, count) in after {
            let delta = count - (before[name] ?? 0)
            if delta > 0 { perCommand.append((name, delta)) }
        }
        perCommand.sort { $0.1 > $1.1 }
        let total = perCommand.reduce(0) { $0 + $1.1 }
        print("Redis commands over a build of \(jobs) jobs (2 workers, fake Murf, no rate limit, mastering off):")
        for (name, count) in perCommand { print(String(format: "  %-16@ %7d  (%.2f a job)", name as NSString, count, Double(count) / Double(jobs))) }
        print(String(format: "Redis executed %d commands: %.2f a job, counting every call inside the Lua scripts", total, Double(total) / Double(jobs)))
        print(String(format: "the build and its workers sent %d commands: %.2f a job (the Python RQ reference: about 60; target: at most 6)",
                     sent, Double(sent) / Double(jobs)))
        // The reference: the RQ pool doing the same jobs on the same Redis (no Lua: what it sends is what Redis runs).
        _ = try redis.connect().command("FLUSHALL")
        let output = try BenchSupport.scratch()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let rqBefore = try calls()
        let reference = try CommandRunner.run("/usr/bin/env", [CommandRunner.python, BenchSupport.referenceFolder + "/rq_pipeline.py", redis.url,
                                                               server.baseURL, output, String(jobs), "2"],
                                              environment: ["MURF_API_KEY": "cost-key"], timeout: 1_800)
        guard reference.status == 0 else { throw FixtureError("the RQ reference failed: \(reference.output)") }
        let rqAfter = try calls()
        let rqTotal = rqAfter.reduce(0) { $0 + $1.value - (rqBefore[$1.key] ?? 0) }
        print(String(format: "the RQ pool: Redis executed %d commands: %.2f a job", rqTotal, Double(rqTotal) / Double(jobs)))
        let reference_ = Spread(values: [Double(rqTotal) / Double(jobs)])
        return [
            Row(name: "Redis commands sent a job (whole build, \(jobs) jobs)", unit: "", ours: Spread(values: [Double(sent) / Double(jobs)]),
                reference: reference_, referenceName: "RQ pool", higherIsBetter: false, target: "<= 6",
                met: Double(sent) / Double(jobs) <= 6),
            Row(name: "Redis commands executed a job, Lua's own calls included", unit: "", ours: Spread(values: [Double(total) / Double(jobs)]),
                reference: reference_, referenceName: "RQ pool", higherIsBetter: false, target: "(for comparison)", met: nil),
        ]
    }
}
