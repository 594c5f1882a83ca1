import Foundation
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// Nightly renders against a rate-limited, failing API: real processes, a real redis-server, the fake Murf server.
@Suite struct FailingAPIBuildTests {
    static let apiKey = "nightly-key-77c2e1"

    @Test func fourWorkersInTwoProcessesKeepTheAccountsLimits() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        // 30 a minute is one request every 2 s; each answer takes 5 s, so without the concurrency limit three would overlap.
        let limits = ["rate_limit: {per_minute: 30, burst: 1, concurrency: 2}"]
        let first = try MurfProject.make(server: server, items: 4, murf: limits)
        let second = try MurfProject.make(server: server, items: 4, murf: limits)
        server.inject(Array(repeating: .delay(seconds: 5), count: 4))
        let environment = ["MURF_API_KEY": Self.apiKey]
        let one = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--redis", redis.url, "--workers", "2"], in: first.path,
                                          environment: environment)
        let two = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--redis", redis.url, "--workers", "2"], in: second.path,
                                          environment: environment)
        one.waitUntilExit()
        two.waitUntilExit()
        #expect(one.terminationStatus == 0 && two.terminationStatus == 0)
        #expect(server.generateCount == 4, "the second build joined the first one's jobs")
        #expect(server.maxInFlight == 2, "never more than 2 in flight, and the limiter let 2 run together")
        let times = server.generateTimes.sorted()
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later - earlier >= 2 - 0.1, "30 a minute: requests at least 2 s apart, got \(later - earlier)")
        }
        #expect(first.read("Output/manifest.json") == second.read("Output/manifest.json"))
    }

    @Test func deadLettersFailTheBuildAndARerunAfterRecoveryFinishesOnlyThem() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try MurfProject.make(server: server, items: 4, queue: ["max_retries: 1", "retry_delay: 0"], murf: ["rate_limit: none"])
        try dir.write("Output/manifest.json", "{\"schema\": 1, \"lessons\": [], \"audio\": {}}\n")
        let environment = ["MURF_API_KEY": Self.apiKey]
        // line-0 keeps failing with 503 (out of retries after 2 attempts), line-1 is refused at once, the rest succeed.
        server.fail(linesContaining: "jak się masz", with: .status(503))
        server.fail(linesContaining: "bardzo dobrze", with: .status(400, body: #"{"errorMessage":"text is not allowed"}"#))
        let broken = try CommandRunner.prerender(["build", "--redis", redis.url, "--workers", "1"], in: dir.path, environment: environment)
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.stderr.contains("2 items have no valid audio"))
        #expect(broken.stderr.contains("a/line-0: failed 2 attempts: 1) Murf answered HTTP 503, server error: Injected fault; 2) Murf answered HTTP 503"))
        #expect(broken.stderr.contains("a/line-1: Murf answered HTTP 400, bad request: text is not allowed"))
        #expect(dir.read("Output/manifest.json") == "{\"schema\": 1, \"lessons\": [], \"audio\": {}}\n", "the previous manifest stays")
        #expect(dir.files(under: "Output/audio").count == 2)

        let listed = try CommandRunner.prerender(["dead-letters", "--redis", redis.url, "--json"], in: dir.path)
        #expect(listed.status == 0, "\(listed.output)")
        let letters = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(letters.count == 2)
        #expect(Set(letters.compactMap { ($0["attempts"] as? [String])?.count }) == [1, 2])
        let human = try CommandRunner.prerender(["dead-letters", "--redis", redis.url], in: dir.path)
        #expect(human.stdout.contains("2 dead letters on tts_dead_letter") && human.stdout.contains("attempt 2: Murf answered HTTP 503"))
        let info = try CommandRunner.rq(["info", "--url", redis.url])
        #expect(info.output.contains("2 failed"), "rq info counts dead letters as failed: \(info.output)")
        let status = try CommandRunner.prerender(["status", "--redis", redis.url, "--json"], in: dir.path)
        #expect(status.status == 0, "\(status.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let batch = try #require((object["queues"] as? [[String: Any]])?.first { $0["name"] as? String == "tts_batch" })
        #expect(batch["failed"] as? Int == 2 && batch["finished"] as? Int == 2 && batch["queued"] as? Int == 0, "\(batch)")
        #expect(info.output.contains("tts_batch") && info.output.contains("0 executing, 2 finished, 2 failed"), "the same numbers as rq info")
        #expect(object["dead_letters"] as? Int == 2)
        let accounts = try #require(object["accounts"] as? [[String: Any]])
        #expect(accounts.count == 1 && accounts[0]["circuit"] as? String == "closed", "\(accounts)")
        #expect((accounts[0]["account"] as? String)?.hasPrefix("murf:") == true && !status.stdout.contains(Self.apiKey))

        // The API has recovered: a rerun renders exactly the two missing lines.
        server.clearTextFaults()
        let before = server.generateCount
        let rerun = try CommandRunner.prerender(["build", "--redis", redis.url, "--json"], in: dir.path, environment: environment)
        #expect(rerun.status == 0, "\(rerun.output)")
        #expect(rerun.stdout.contains("\"enqueued\":2") && rerun.stdout.contains("\"cached\":2"))
        #expect(server.generateCount - before == 2)
        #expect(dir.read("Output/manifest.json")?.contains("\"line-3\"") == true)
    }

    @Test func retryDeadRequeuesAndTheNextBuildCollects() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try MurfProject.make(server: server, items: 1, queue: ["max_retries: 0"], murf: ["rate_limit: none"])
        let environment = ["MURF_API_KEY": Self.apiKey]
        server.inject([.status(500)])
        let failed = try CommandRunner.prerender(["build", "--redis", redis.url], in: dir.path, environment: environment)
        #expect(failed.status == 1, "\(failed.output)")
        let retried = try CommandRunner.prerender(["retry-dead", "--all", "--redis", redis.url], in: dir.path)
        #expect(retried.status == 0 && retried.stdout.contains("requeued 1 of 1 dead letters on tts_batch"), "\(retried.output)")
        #expect(try redis.connect().command("LLEN", "rq:queue:tts_batch").int == 1)
        // The next build finds the job queued, joins it instead of enqueueing it again, and its workers render it.
        let build = try CommandRunner.prerender(["build", "--redis", redis.url, "--json"], in: dir.path, environment: environment)
        #expect(build.status == 0, "\(build.output)")
        #expect(build.stdout.contains("\"joined\":1"))
        let empty = try CommandRunner.prerender(["dead-letters", "--redis", redis.url], in: dir.path)
        #expect(empty.stdout.contains("no dead letters"))
    }

    @Test func deadLettersNeedASharedRedis() throws {
        let directory = try TemporaryDirectory()
        let result = try CommandRunner.prerender(["dead-letters"], in: directory.path)
        #expect(result.status == 2 && result.stderr.contains("shared Redis"))
    }
}
