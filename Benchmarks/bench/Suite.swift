import Foundation
import Pipeline
import PrerenderTesting

/// One line of the summary: this pipeline's figure, the reference's, their ratio, and the target.
struct Row {
    var name: String
    var unit: String
    var ours: Spread
    var reference: Spread? = nil
    var referenceName: String? = nil
    /// The reference's figure divided by ours when smaller is better (seconds), ours by the reference's otherwise.
    var higherIsBetter = true
    var target: String
    var met: Bool?

    var ratio: Double? {
        guard let reference, reference.median > 0, ours.median > 0 else { return nil }
        return higherIsBetter ? ours.median / reference.median : reference.median / ours.median
    }

    var json: [String: Any] {
        var object: [String: Any] = ["name": name, "unit": unit, "median": ours.median, "min": ours.min, "max": ours.max,
                                     "runs": ours.values.count, "target": target]
        if let reference {
            object["reference"] = ["name": referenceName ?? "", "median": reference.median, "min": reference.min, "max": reference.max,
                                   "runs": reference.values.count]
        }
        if let ratio { object["ratio"] = ratio }
        if let met { object["target_met"] = met }
        return object
    }
}

enum Report {
    static func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func spread(_ s: Spread, _ unit: String) -> String {
        "\(format(s.median)) \(unit) (\(format(s.min))-\(format(s.max)))"
    }

    /// A Markdown table of the rows, and the same as JSON in `file`.
    static func print(_ rows: [Row], title: String, file: String) throws {
        Swift.print("\n\(title) (median of the runs, min-max)")
        Swift.print("| figure | prerender | reference | ratio | target | met |")
        Swift.print("|---|---|---|---|---|---|")
        for row in rows {
            let reference = row.reference.map { "\(row.referenceName ?? ""): \(spread($0, row.unit))" } ?? "-"
            let ratio = row.ratio.map { String(format: "%.1fx", $0) } ?? "-"
            let met = row.met.map { $0 ? "yes" : "NO" } ?? "-"
            Swift.print("| \(row.name) | \(spread(row.ours, row.unit)) | \(reference) | \(ratio) | \(row.target) | \(met) |")
        }
        let machine: [String: Any] = ["cores": ProcessInfo.processInfo.activeProcessorCount,
                                      "memory_gib": Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824]
        let json: [String: Any] = ["title": title, "machine": machine, "rows": rows.map(\.json)]
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: file))
        Swift.print("wrote \(file)")
    }
}

/// Paths and helpers the benchmarks share.
enum BenchSupport {
    static var prerender: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("prerender").path
    }

    static var referenceFolder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("reference").path
    }

    /// A fresh folder for one run's audio, in memory (/dev/shm) where there is one: file creation on a disk
    /// that has just deleted the last run's files is noisy, and both sides write the same files.
    static func scratch() throws -> String {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/prerender-bench-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// `INFO <section>` as name -> value: "used_cpu_sys" -> "1.23", "cmdstat_get" -> "calls=3,usec=5,...".
    static func info(_ redis: TestRedis, _ section: String) throws -> [String: Substring] {
        var fields: [String: Substring] = [:]
        for line in (try redis.connect().command("INFO", section).string ?? "").split(separator: "\r\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...]
        }
        return fields
    }

    /// One figure of a commandstats value: `stat("calls=3,usec=5,usec_per_call=1.67", "usec")` is 5.
    static func stat(_ value: Substring?, _ name: String) -> Double? {
        value?.split(separator: ",").first { $0.hasPrefix(name + "=") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    static func countFiles(_ folder: String) -> Int {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".wav") || $0.hasSuffix(".ogg") || $0.hasSuffix(".flac") || $0.hasSuffix(".mp3") || $0.hasSuffix(".opus") }.count
    }

    static func lesson(_ lines: Int) -> String {
        "id: bench\ntitle: Bench\nitems:\n" + (0..<lines).map { "  - id: line-\($0)\n    text: Zdanie numer \($0) do nauki.\n" }.joined()
    }

    /// A project rendering through the fake Murf server: no rate limit, no circuit breaker, no mastering.
    static func murfProject(_ server: FakeMurfServer, lines: Int) throws -> TemporaryDirectory {
        let project = try MurfProject.make(server: server, items: 0, murf: ["rate_limit: none", "circuit_breaker: {failures: 0}"],
                                           lesson: lesson(lines))
        try project.write("pipeline.yaml", (project.read("pipeline.yaml") ?? "") + "mastering: off\n")
        return project
    }
}

/// 1. Throughput end to end: `prerender build` with its workers against a Python RQ pool (SimpleWorker, JSON
/// serializer) doing the same work, on the same Redis and the same fake Murf server. Each side with 2 and with 4
/// workers (4 is the architecture document's TTS_WORKER_COUNT, and prerender's default); the target compares
/// prerender's default with RQ's faster pool.
struct ThroughputBenchmark {
    let lines: Int
    let runs = 3

    func run() throws -> [Row] {
        let redis = try TestRedis()
        let server = try FakeMurfServer(apiKey: "bench-key", audio: try AudioFixtures.murfAudio(), recordingRequests: false)
        defer { server.stop() }
        let project = try BenchSupport.murfProject(server, lines: lines)
        let defaultWorkers = PipelineConfig().queue.workers
        print("throughput: \(lines) lines through the fake Murf server, \(runs) runs each...")

        /// Jobs per second over `runs` runs, and the CPU they used, per process: where the two cores go, and so
        /// the most this work can do on them (a figure no implementation of the same work beats).
        func measure(_ name: String, _ run: (_ output: String) throws -> Void) throws -> (rates: Spread, cpu: CPUTime) {
            var rates: [Double] = []
            var cpu = CPUTime()
            for _ in 0..<runs {
                _ = try redis.connect().command("FLUSHALL")
                let output = try BenchSupport.scratch()
                defer { try? FileManager.default.removeItem(atPath: output) }
                let before = try CPUTime.now(redis)
                let start = Date()
                try run(output)
                let seconds = Date().timeIntervalSince(start)
                cpu += try CPUTime.now(redis) - before
                let files = BenchSupport.countFiles(output)
                guard files == lines else { throw FixtureError("\(name): \(files) files of \(lines)") }
                rates.append(Double(lines) / seconds)
                print(String(format: "  %@: %.2f s, %.0f jobs/s", name as NSString, seconds, Double(lines) / seconds))
            }
            return (Spread(values: rates), cpu)
        }
        func ours(workers: Int) throws -> (rates: Spread, cpu: CPUTime) {
            try measure("prerender, \(workers) workers") { output in
                let result = try CommandRunner.run(BenchSupport.prerender, ["build", "--redis", redis.url, "--workers", String(workers), "--quiet",
                                                                            "--output", output],
                                                   in: project.path, environment: ["MURF_API_KEY": "bench-key"], timeout: 3_600)
                guard result.status == 0 else { throw FixtureError("the build failed: \(result.output)") }
            }
        }
        // The RQ script times itself, from just before enqueue_many (its workers are started and registered
        // first, as a deployed pool would be); its figure is the one reported.
        func reference(workers: Int) throws -> (rates: Spread, cpu: CPUTime) {
            var own: [Double] = []
            let measured = try measure("RQ, \(workers) SimpleWorkers (wall clock with start-up)") { output in
                let result = try CommandRunner.run("/usr/bin/env", [CommandRunner.python, BenchSupport.referenceFolder + "/rq_pipeline.py",
                                                                    redis.url, server.baseURL, output, String(lines), String(workers)],
                                                   environment: ["MURF_API_KEY": "bench-key"], timeout: 3_600)
                guard result.status == 0,
                      let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                      let rate = json["jobs_per_second"] as? Double else {
                    throw FixtureError("the RQ reference failed (python-soundfile installed for \(CommandRunner.python)?): \(result.output)")
                }
                own.append(rate)
                print(String(format: "  RQ, %d SimpleWorkers, as timed by the script: %.0f jobs/s", workers, rate))
            }
            return (Spread(values: own), measured.cpu)
        }
        let oursDefault = try ours(workers: defaultWorkers)
        let oursTwo = try ours(workers: 2)
        let rqTwo = try reference(workers: 2)
        let rqFour = try reference(workers: 4)
        let rq = rqTwo.rates.median >= rqFour.rates.median ? (rqTwo, 2) : (rqFour, 4)
        let rqName = "RQ, \(rq.1) SimpleWorkers (faster than \(rq.1 == 2 ? 4 : 2))"

        let jobs = Double(lines * runs)
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        for (name, cpu) in [("prerender build, \(defaultWorkers) workers", oursDefault.cpu), ("RQ pool, \(rq.1) workers (start-up included)", rq.0.cpu)] {
            print(String(format: "  CPU a job, %@: %.3f ms itself, %.3f ms the fake Murf server, %.3f ms Redis: %.3f ms, at most %.0f jobs/s on %.0f cores",
                         name as NSString, cpu.worker / jobs * 1000, cpu.server / jobs * 1000, cpu.redis / jobs * 1000, cpu.total / jobs * 1000,
                         cores / (cpu.total / jobs), cores))
        }
        let r = rq.0.rates
        return [
            Row(name: "throughput, \(lines) lines, \(defaultWorkers) workers (the default)", unit: "jobs/s", ours: oursDefault.rates, reference: r,
                referenceName: rqName, target: ">= 10x and >= 2000 jobs/s",
                met: oursDefault.rates.median >= 2_000 && oursDefault.rates.median >= 10 * r.median),
            Row(name: "throughput, \(lines) lines, 2 workers", unit: "jobs/s", ours: oursTwo.rates, reference: rqTwo.rates,
                referenceName: "RQ, 2 SimpleWorkers", target: "(the same worker count)", met: nil),
            Row(name: "CPU a job, all processes (build or pool, fake Murf server, Redis)", unit: "ms",
                ours: Spread(values: [oursDefault.cpu.total / jobs * 1000]), reference: Spread(values: [rq.0.cpu.total / jobs * 1000]),
                referenceName: rqName, higherIsBetter: false, target: "(where the cores go)", met: nil),
            Row(name: "the most jobs/s those CPU milliseconds allow on \(Int(cores)) cores", unit: "jobs/s",
                ours: Spread(values: [cores / (oursDefault.cpu.total / jobs)]), reference: Spread(values: [cores / (rq.0.cpu.total / jobs)]),
                referenceName: rqName, target: "(the ceiling of the throughput ratio here)", met: nil),
        ]
    }
}

/// 3 and 4. Builds of 1,000, 10,000 and 100,000 lines from nothing (the build's peak RSS, and Redis' peak memory
/// apart), then no-op rebuilds of each: nothing changed, everything cached (no Redis is started for those).
struct ScaleBenchmark {
    let sizes: [Int]
    let runs = 3

    func run() throws -> [Row] {
        let server = try FakeMurfServer(apiKey: "bench-key", audio: try AudioFixtures.murfAudio(), recordingRequests: false)
        defer { server.stop() }
        var rows: [Row] = []
        var noOps: [(Int, Spread)] = []
        for lines in sizes {
            let project = try BenchSupport.murfProject(server, lines: lines)
            let rss = project.path + "/rss.txt"
            // A Redis of its own (configured as the build's private one), so that the build's memory and Redis'
            // are measured apart: Redis keeps what RQ's layout keeps (job hashes, results for result_ttl).
            let redis = try TestRedis()
            print("scale: building \(lines) lines from nothing (4 workers)...")
            let start = Date()
            let fill = try CommandRunner.run("/usr/bin/time", ["-f", "%M", "-o", rss, BenchSupport.prerender, "build", "--workers", "4", "--quiet",
                                                                "--redis", redis.url],
                                             in: project.path, environment: ["MURF_API_KEY": "bench-key"], timeout: 3_600)
            let fillSeconds = Date().timeIntervalSince(start)
            let files = BenchSupport.countFiles(project.path + "/Output")
            guard fill.status == 0, files == lines else { throw FixtureError("the build failed (\(files) files): \(fill.output)") }
            let peakMB = (Double((try? String(contentsOfFile: rss, encoding: .utf8))?.split(separator: "\n").last.flatMap { Double($0) } ?? 0)) / 1024
            let redisPeakMB = (try BenchSupport.info(redis, "memory")["used_memory_peak"].flatMap { Double($0) } ?? 0) / 1_048_576
            print(String(format: "  %.1f s, %.0f jobs/s, peak RSS of the build %.0f MB, Redis' peak memory %.0f MB", fillSeconds,
                         Double(lines) / fillSeconds, peakMB, redisPeakMB))
            if lines == sizes.max() {
                rows.append(Row(name: "peak RSS, build of \(lines) lines from nothing", unit: "MB",
                                ours: Spread(values: [peakMB]), target: "< 300 MB", met: peakMB < 300))
                rows.append(Row(name: "Redis' peak memory in that build (RQ's layout keeps every job)", unit: "MB",
                                ours: Spread(values: [redisPeakMB]), target: "(for information)", met: nil))
            }
            var seconds: [Double] = []
            for _ in 0..<runs {
                let start = Date()
                let result = try CommandRunner.run(BenchSupport.prerender, ["build", "--quiet"], in: project.path,
                                                   environment: ["MURF_API_KEY": "bench-key"], timeout: 600)
                seconds.append(Date().timeIntervalSince(start))
                guard result.status == 0 else { throw FixtureError("the no-op rebuild failed: \(result.output)") }
            }
            let s = Spread(values: seconds)
            noOps.append((lines, s))
            print(String(format: "  no-op rebuild: %.3f s (%.3f-%.3f)", s.median, s.min, s.max))
            rows.append(Row(name: "no-op rebuild, \(lines) lines cached", unit: "s", ours: s, higherIsBetter: false,
                            target: lines == 10_000 ? "< 0.5 s" : "linear", met: lines == 10_000 ? s.median < 0.5 : nil))
        }
        if let small = noOps.first, let large = noOps.last, large.0 > small.0 {
            print(String(format: "no-op rebuild grows %.1fx for %.0fx the lines", large.1.median / small.1.median, Double(large.0) / Double(small.0)))
        }
        return rows
    }
}

/// 5. espeak-ng: seconds of audio rendered per wall second, the default worker count against one worker.
struct EspeakBenchmark {
    let lines: Int
    let runs = 3

    func run() throws -> [Row] {
        let sentences = ["Dzień dobry, jak się masz?", "Poproszę kawę z mlekiem i kawałek sernika.", "Gdzie jest dworzec kolejowy?",
                         "Ile kosztuje bilet do Krakowa?", "Mam na imię Piotr i mieszkam w Warszawie.", "Do zobaczenia jutro rano!",
                         "Czy mogę zapłacić kartą?", "To jest moja siostra, a to mój brat."]
        let project = try TemporaryDirectory()
        try project.write("pipeline.yaml", "synthesizer: espeak\n")
        try project.write("Lessons/bench.yaml", "id: bench\ntitle: Bench\nitems:\n" + (0..<lines).map {
            "  - id: line-\($0)\n    text: \(sentences[$0 % sentences.count]) Numer \($0).\n"
        }.joined())
        let defaultWorkers = PipelineConfig().queue.workers
        print("espeak-ng: \(lines) lines, mastering on (the default), \(runs) runs with 1 and \(defaultWorkers) workers...")
        func audioPerSecond(workers: Int) throws -> Spread {
            var rates: [Double] = []
            for _ in 0..<runs {
                let output = try BenchSupport.scratch()
                defer { try? FileManager.default.removeItem(atPath: output) }
                let start = Date()
                let result = try CommandRunner.run(BenchSupport.prerender, ["build", "--workers", String(workers), "--quiet", "--output", output],
                                                   in: project.path, timeout: 1_800)
                let seconds = Date().timeIntervalSince(start)
                guard result.status == 0, let data = FileManager.default.contents(atPath: output + "/manifest.json"),
                      let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let audio = manifest["audio"] as? [String: [String: Any]] else {
                    throw FixtureError("the espeak build failed: \(result.output)")
                }
                let audioSeconds = audio.values.compactMap { $0["duration_ms"] as? Int }.reduce(0, +)
                rates.append(Double(audioSeconds) / 1000 / seconds)
                print(String(format: "  %d workers: %.1f s of audio in %.2f s", workers, Double(audioSeconds) / 1000, seconds))
            }
            return Spread(values: rates)
        }
        let one = try audioPerSecond(workers: 1)
        let many = try audioPerSecond(workers: defaultWorkers)
        return [Row(name: "espeak-ng, audio seconds per wall second, \(defaultWorkers) workers (default)", unit: "s/s", ours: many,
                    reference: one, referenceName: "1 worker", target: "uses every core (\(ProcessInfo.processInfo.activeProcessorCount))",
                    met: many.median >= 1.5 * one.median)]
    }
}

/// CPU seconds used so far: by this process's waited-for children (the build, or the RQ pool with its workers),
/// by this process itself (the fake Murf server's threads; a run's main thread only waits), and by a Redis server.
struct CPUTime {
    var worker = 0.0
    var server = 0.0
    var redis = 0.0
    var total: Double { worker + server + redis }

    static func now(_ redis: TestRedis) throws -> CPUTime {
        func seconds(_ who: __rusage_who_t) -> Double {
            var usage = rusage()
            getrusage(who, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let cpu = try BenchSupport.info(redis, "cpu")  // the server's own, not its children's
        let redisSeconds = ["used_cpu_sys", "used_cpu_user"].compactMap { cpu[$0].flatMap { Double($0) } }.reduce(0, +)
        return CPUTime(worker: seconds(RUSAGE_CHILDREN.rawValue), server: seconds(RUSAGE_SELF.rawValue), redis: redisSeconds)
    }

    static func - (a: CPUTime, b: CPUTime) -> CPUTime {
        CPUTime(worker: a.worker - b.worker, server: a.server - b.server, redis: a.redis - b.redis)
    }

    static func += (a: inout CPUTime, b: CPUTime) { a = CPUTime(worker: a.worker + b.worker, server: a.server + b.server, redis: a.redis + b.redis) }
}
