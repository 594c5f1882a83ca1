import Foundation
import HTTPClient
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// `prerender worker` processes on a shared redis-server with a `build --no-workers`: crashes, drains,
/// Redis restarts, and RQ's own tools.
@Suite struct WorkerProcessTests {
    static let apiKey = "worker-key-4d2a90"
    let environment = ["MURF_API_KEY": apiKey]

    func project(server: FakeMurfServer, items: Int) throws -> TemporaryDirectory {
        try MurfProject.make(server: server, items: items, queue: ["heartbeat_timeout: 3", "retry_delay: 0"], murf: ["rate_limit: none"])
    }

    func worker(_ redis: TestRedis, _ dir: TemporaryDirectory, _ extra: [String] = []) throws -> Process {
        try CommandRunner.start(CommandRunner.prerenderPath, ["worker", "--redis", redis.url, "--concurrency", "1"] + extra,
                                in: dir.path, environment: environment)
    }

    /// Runs `build --no-workers` on another thread; `wait()` returns its result.
    final class BackgroundBuild: @unchecked Sendable {
        // Written once on the background thread before `done` is signalled; read after the wait.
        private var result: CommandRunner.Result?
        private let done = DispatchSemaphore(value: 0)

        init(_ arguments: [String], in directory: String, environment: [String: String]) {
            DispatchQueue.global().async { [self] in
                result = try? CommandRunner.prerender(arguments, in: directory, environment: environment, timeout: 120)
                done.signal()
            }
        }

        func wait() throws -> CommandRunner.Result {
            done.wait()
            return try #require(result)
        }
    }

    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test func aKilledWorkersJobIsDoneByAnotherAndEveryItemEndsOnce() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 6)
        server.inject(Array(repeating: .delay(seconds: 1.5), count: 12))
        let victim = try worker(redis, dir)
        let survivor = try worker(redis, dir)
        defer { for p in [victim, survivor] where p.isRunning { p.terminate() } }
        let build = BackgroundBuild(["build", "--redis", redis.url, "--no-workers", "--json"], in: dir.path, environment: environment)
        // rq info lists both Swift workers.
        var info = ""
        _ = try waitFor(10) {
            info = try CommandRunner.rq(["info", "--url", redis.url]).output
            return info.contains("2 workers")
        }
        #expect(info.contains("2 workers") && info.contains("tts_batch"), "\(info)")
        #expect(try waitFor(10) { server.generateCount >= 2 }, "both workers are rendering")
        kill(victim.processIdentifier, SIGKILL)
        let result = try build.wait()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("\"rendered\":6"), "\(result.stdout)")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(manifest.lessons[0].items.count == 6 && manifest.audio.count == 6)
        #expect(server.generateCount >= 7, "the killed worker's job was rendered again")
    }

    @Test func sigtermFinishesTheJobInHandThenDeregisters() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 1)
        server.inject([.delay(seconds: 2)])
        let w = try worker(redis, dir)
        defer { if w.isRunning { w.terminate() } }
        let build = BackgroundBuild(["build", "--redis", redis.url, "--no-workers"], in: dir.path, environment: environment)
        #expect(try waitFor(10) { server.generateCount == 1 })
        kill(w.processIdentifier, SIGTERM)
        w.waitUntilExit()
        #expect(w.terminationStatus == 0)
        #expect(try build.wait().status == 0, "the job in hand was finished before the worker left")
        let r = try redis.connect()
        #expect(try r.command("SCARD", "rq:workers:tts_batch").int == 0, "the worker deregistered")
    }

    @Test func aSecondSignalHandsTheJobBack() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 1)
        server.inject([.delay(seconds: 30)])
        let w = try worker(redis, dir)
        defer { if w.isRunning { w.terminate() } }
        let producer = JobQueue(connection: try redis.connect(), settings: QueueSettings())
        var config = PipelineConfig()
        config.synthesizer = .murf
        let job = BuildPlan(lessons: [Lesson(id: "a", title: "A", source: "a.yaml", items: [
            LessonItem(id: "x", text: "Dzień dobry, jak się masz?", voice: "pl-PL-kasia"),
        ])], config: config).jobs[0]
        let id = try producer.enqueue([job], build: "b")[0].jobID
        #expect(try waitFor(10) { server.generateCount == 1 })
        kill(w.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        kill(w.processIdentifier, SIGTERM)
        w.waitUntilExit()
        let r = try redis.connect()
        #expect(try r.command("HGET", "rq:job:\(id)", "status").string == "queued")
        #expect(try r.command("LRANGE", "rq:queue:tts_batch", 0, -1).array?.compactMap(\.string) == [id])
    }

    @Test func aRedisRestartMidBuildIsSurvived() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis(persistent: true)
        let dir = try project(server: server, items: 6)
        server.inject(Array(repeating: .delay(seconds: 1), count: 6))
        let workers = try (0..<2).map { _ in try worker(redis, dir) }
        defer { for p in workers where p.isRunning { p.terminate() } }
        let build = BackgroundBuild(["build", "--redis", redis.url, "--no-workers", "--json"], in: dir.path, environment: environment)
        #expect(try waitFor(10) { server.generateCount >= 1 })
        try redis.restart(downtime: 1)
        let result = try build.wait()
        #expect(result.status == 0, "\(result.output)")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(manifest.audio.count == 6)
    }

    @Test func jobsLostWithANonPersistentRedisAreEnqueuedAgain() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()  // no persistence: a restart loses every queued job
        let dir = try project(server: server, items: 4)
        server.inject(Array(repeating: .delay(seconds: 1), count: 4))
        let w = try worker(redis, dir)
        defer { if w.isRunning { w.terminate() } }
        let build = BackgroundBuild(["build", "--redis", redis.url, "--no-workers", "--json"], in: dir.path, environment: environment)
        #expect(try waitFor(10) { server.generateCount >= 1 })
        try redis.restart(downtime: 0.5)
        let result = try build.wait()
        #expect(result.status == 0, "\(result.output)")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(manifest.audio.count == 4, "every item has audio although Redis forgot the queue")
        try ReleaseCommandTests.validateManifest("\(dir.path)/Output/manifest.json")
    }

    @Test func aBuildWithNoWorkerAnywhereSaysSo() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 1)
        // Stopped by the runner's timeout (SIGTERM) after the first 30 s report.
        let result = try CommandRunner.prerender(["build", "--redis", redis.url, "--no-workers"], in: dir.path, environment: environment,
                                                 timeout: 33)
        #expect(result.stderr.contains("no worker serves tts_batch"), "\(result.stderr)")
        #expect(result.status == 130)
    }

    @Test func rqRequeueOfADeadLetterIsPickedUpByASwiftWorker() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 1)
        server.fail(linesContaining: "jak się masz", with: .status(400))
        let w = try worker(redis, dir)
        defer { if w.isRunning { w.terminate() } }
        let failed = try CommandRunner.prerender(["build", "--redis", redis.url, "--no-workers"], in: dir.path, environment: environment)
        #expect(failed.status == 1, "\(failed.output)")
        let r = try redis.connect()
        let id = try #require(try r.command("LRANGE", "rq:queue:tts_dead_letter", 0, -1).array?.first?.string)
        server.clearTextFaults()
        let requeue = try CommandRunner.rq(["requeue", "--queue", "tts_batch", "--all", "-S", "json", "--url", redis.url])
        #expect(requeue.status == 0, "\(requeue.output)")
        #expect(try waitFor(15) { try r.command("HGET", "rq:job:\(id)", "status").string == "finished" },
                "the Swift worker took the job RQ requeued (zlib-compressed data and all)")
        let rebuilt = try CommandRunner.prerender(["build", "--redis", redis.url, "--no-workers", "--json"], in: dir.path, environment: environment)
        #expect(rebuilt.status == 0, "\(rebuilt.output)")
    }

    @Test func metricsParseAsPrometheusTextAndCountTheJobsDone() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server, items: 3)
        let port = try freeLoopbackPort()
        let w = try worker(redis, dir, ["--metrics-port", String(port), "--metrics-host", "127.0.0.1", "--log-format", "json"])
        defer { if w.isRunning { w.terminate() } }
        let client = HTTPClient()
        #expect(try waitFor(10) { (try? client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health/queue")))?.status == 200 })
        let build = try CommandRunner.prerender(["build", "--redis", redis.url, "--no-workers"], in: dir.path, environment: environment)
        #expect(build.status == 0, "\(build.output)")

        let response = try client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics"))
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        let sample = #/^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}]*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/#
        for line in response.bodyText.split(separator: "\n") where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let match = line.wholeMatch(of: sample) else {
                Issue.record("not Prometheus text: \(line)")
                continue
            }
            samples[String(match.1)] = Double(String(match.3))
        }
        #expect(samples["tts_jobs_completed_total{queue=\"tts_batch\"}"] == 3, "\(samples)")
        #expect(samples["tts_job_duration_seconds_count{queue=\"tts_batch\"}"] == 3)
        #expect(samples["tts_queue_length{queue=\"tts_batch\"}"] == 0)
        #expect(samples["tts_active_workers"] == 1)
        #expect(samples["tts_jobs_failed_total{queue=\"tts_batch\"}"] ?? 0 == 0)

        let health = try client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health/queue"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any])
        #expect(object["redis_connected"] as? Bool == true && object["workers_running"] as? Int == 1)
        #expect(object["jobs_completed"] as? Int == 3 && object["error_rate"] as? Double == 0)
        // Redis gone: unhealthy.
        redis.stop()
        let down = try client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health/queue"))
        #expect(down.status == 503)
    }
}
