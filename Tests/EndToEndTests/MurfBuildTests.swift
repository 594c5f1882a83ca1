import Foundation
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// Builds with the Murf synthesizer against the fake Murf server, on a shared Redis.
@Suite struct MurfBuildTests {
    static let apiKey = "murf-secret-key-5b1e2d"

    func project(server: FakeMurfServer) throws -> TemporaryDirectory {
        try MurfProject.make(server: server, murf: ["rate_limit: none"], lesson: """
            id: a
            title: A
            items:
              - id: one
                text: Dzień dobry, jak się masz?
              - id: two
                text: Dziękuję, bardzo dobrze.
              - id: three
                text: Do zobaczenia jutro!
                voice: pl-PL-jacek
            """)
    }

    /// Every value Redis holds, as text, to look for secrets.
    func everything(in redis: TestRedis) throws -> String {
        let r = try redis.connect()
        var text = ""
        for key in try r.command("KEYS", "*").array?.compactMap(\.string) ?? [] {
            text += key + "\n"
            switch try r.command("TYPE", key).string {
            case "string": text += try r.command("GET", key).string ?? ""
            case "hash": text += (try r.command("HGETALL", key).array ?? []).compactMap(\.string).joined(separator: " ")
            case "list": text += (try r.command("LRANGE", key, 0, -1).array ?? []).compactMap(\.string).joined(separator: " ")
            case "set": text += (try r.command("SMEMBERS", key).array ?? []).compactMap(\.string).joined(separator: " ")
            case "zset": text += (try r.command("ZRANGE", key, 0, -1).array ?? []).compactMap(\.string).joined(separator: " ")
            case "stream": text += "\(try r.command("XRANGE", key, "-", "+"))"
            default: break
            }
        }
        return text
    }

    @Test func rendersThroughMurfAndTheKeyStaysSecret() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server)
        let result = try CommandRunner.prerender(["build", "--redis", redis.url, "--verbose"], in: dir.path,
                                                 environment: ["MURF_API_KEY": Self.apiKey])
        #expect(result.status == 0, "\(result.output)")
        #expect(server.generateCount == 3)
        let manifestText = try #require(dir.read("Output/manifest.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestText.utf8))
        #expect(manifest.audio.values.allSatisfy { $0.synthesizer == "murf" && $0.sampleRate == 24_000 })
        #expect(Set(manifest.audio.values.map(\.voice)) == ["pl-PL-kasia", "pl-PL-jacek"])
        try ReleaseCommandTests.validateManifest("\(dir.path)/Output/manifest.json")
        #expect(!result.output.contains(Self.apiKey))
        #expect(!manifestText.contains(Self.apiKey))
        let stored = try everything(in: redis)
        #expect(stored.contains("rq:job:"), "the build used this Redis")
        #expect(!stored.contains(Self.apiKey))
    }

    @Test func aFailedItemExitsOneAndKeepsThePreviousManifest() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let dir = try project(server: server)
        try dir.write("Output/manifest.json", "{\"schema\": 1, \"lessons\": [], \"audio\": {}}\n")
        server.inject([.status(400, body: #"{"errorMessage":"text contains unsupported characters"}"#)])
        let result = try CommandRunner.prerender(["build", "--workers", "1"], in: dir.path, environment: ["MURF_API_KEY": Self.apiKey])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("1 items have no valid audio"))
        #expect(result.stderr.contains("Lessons/a.yaml:4: a/one: Murf answered HTTP 400, bad request: text contains unsupported characters"))
        #expect(dir.read("Output/manifest.json") == "{\"schema\": 1, \"lessons\": [], \"audio\": {}}\n")
        #expect(dir.files(under: "Output/audio").count == 2, "the good audio stays cached")

        let again = try CommandRunner.prerender(["build", "--json"], in: dir.path, environment: ["MURF_API_KEY": Self.apiKey])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stdout.contains("\"enqueued\":1"))
    }

    /// The private redis-server of a build that is killed outright (SIGKILL: no clean-up runs) stops too, and its
    /// folder goes.
    @Test func aKilledBuildLeavesNoRedisServerBehind() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        server.inject(Array(repeating: .delay(seconds: 5), count: 4))
        let dir = try MurfProject.make(server: server, items: 4, murf: ["rate_limit: none"])  // redis: embedded
        let build = try CommandRunner.start(CommandRunner.prerenderPath, ["build"], in: dir.path, environment: ["MURF_API_KEY": Self.apiKey])
        let marker = "prerender-redis-\(build.processIdentifier)-"
        /// Processes whose command line names the build's private Redis folder.
        func servers() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
                guard let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
                let text = String(decoding: line.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                return text.contains("redis-server") && text.contains(marker) ? text : nil
            }
        }
        func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }
        #expect(waitFor(20) { server.generateCount > 0 }, "the build never reached the fake Murf server")
        #expect(!servers().isEmpty, "the build's private redis-server should be running")
        let folder = try #require(servers().first?.split(separator: " ").first { $0.contains(marker) && $0.hasSuffix("redis.sock") })
        kill(build.processIdentifier, SIGKILL)
        build.waitUntilExit()
        #expect(waitFor(10) { servers().isEmpty }, "redis-server outlived the killed build: \(servers())")
        let directory = String(folder.dropLast("/redis.sock".count))
        #expect(waitFor(5) { !FileManager.default.fileExists(atPath: directory) }, "\(directory) was left behind")
    }

    @Test func noAPIKeyExitsThree() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let dir = try project(server: server)
        let result = try CommandRunner.prerender(["build"], in: dir.path)
        #expect(result.status == 3)
        #expect(result.stderr.contains("MURF_API_KEY"))
        #expect(server.generateCount == 0)
    }

    @Test func rqInfoListsTheQueueAndWorkersDuringABuild() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let dir = try project(server: server)
        server.inject([.delay(seconds: 3), .delay(seconds: 3), .delay(seconds: 3)])
        let build = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--redis", redis.url, "--workers", "2"],
                                            in: dir.path, environment: ["MURF_API_KEY": Self.apiKey])
        defer { if build.isRunning { build.terminate() } }
        var seen = ""
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline {
            let info = try CommandRunner.rq(["info", "--url", redis.url])
            seen = info.output
            if info.status == 0 && seen.contains("tts_batch") && seen.contains("busy") && seen.contains("2 workers") { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(seen.contains("tts_batch"), "rq info lists the queue: \(seen)")
        #expect(seen.contains("executing"), "\(seen)")
        #expect(seen.contains("2 workers"), "rq info lists the build's workers: \(seen)")
        #expect(seen.contains("prerender-"), "\(seen)")
        build.waitUntilExit()
        #expect(build.terminationStatus == 0)
        let after = try CommandRunner.rq(["info", "--url", redis.url])
        #expect(after.status == 0)
        #expect(after.output.contains("3 finished"), "\(after.output)")
        #expect(after.output.contains("0 workers"), "workers deregister when the build ends: \(after.output)")
    }

    @Test func aSecondBuildOnTheSameRedisWaitsForTheJobsInsteadOfEnqueueingThemAgain() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let redis = try TestRedis()
        let first = try project(server: server)
        let second = try project(server: server)
        server.inject([.delay(seconds: 2), .delay(seconds: 2), .delay(seconds: 2)])
        let running = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--redis", redis.url, "--workers", "3"],
                                              in: first.path, environment: ["MURF_API_KEY": Self.apiKey])
        defer { if running.isRunning { running.terminate() } }
        // Wait until the first build's jobs are on the queue or running.
        let r = try redis.connect()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try r.command("KEYS", "prerender:dedup:*").array?.count ?? 0) < 3 { Thread.sleep(forTimeInterval: 0.05) }
        // The second build (CI job two) runs no workers of its own: it waits for the first one's jobs.
        let result = try CommandRunner.prerender(["build", "--redis", redis.url, "--workers", "0", "--json"], in: second.path,
                                                 environment: ["MURF_API_KEY": Self.apiKey])
        running.waitUntilExit()
        #expect(running.terminationStatus == 0)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("\"enqueued\":0") && result.stdout.contains("\"joined\":3"), "\(result.stdout)")
        #expect(server.generateCount == 3, "each line rendered once for both builds")
        #expect(first.read("Output/manifest.json") == second.read("Output/manifest.json"))
    }

    @Test func ctrlCStopsTheBuildAndItsPrivateRedis() throws {
        let server = try FakeMurfServer(apiKey: Self.apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let dir = try project(server: server)
        server.inject([.delay(seconds: 30), .delay(seconds: 30), .delay(seconds: 30)])
        let build = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--workers", "1"], in: dir.path,
                                            environment: ["MURF_API_KEY": Self.apiKey, "MURF_BASE_URL": server.baseURL])
        defer { if build.isRunning { build.terminate() } }
        let pid = build.processIdentifier
        let redisFolder: () -> [String] = {
            ((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("prerender-redis-\(pid)-") }
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, server.generateCount == 0 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(redisFolder().count == 1, "the build runs its private redis-server")
        kill(pid, SIGINT)
        build.waitUntilExit()
        #expect(build.terminationStatus == 130)
        #expect(redisFolder().isEmpty, "the private redis-server and its folder are gone")
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/Output/manifest.json"))
    }
}
