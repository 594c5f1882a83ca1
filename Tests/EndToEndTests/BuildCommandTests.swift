import Foundation
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// The real `prerender` executable, run as an author or CI runs it: real espeak-ng, a private redis-server.
@Suite struct BuildCommandTests {
    static let greetings = """
        id: a1-greetings
        title: Powitania
        voices:
          piotr: pl-PL-jacek
        items:
          - id: hello
            text: Dzień dobry!
          - id: thanks
            text: Dziękuję.
          - id: name
            text: Mam na imię Piotr.
            speaker: piotr
        """
    static let food = """
        id: a1-food
        title: Jedzenie
        items:
          - id: thanks
            text: Dziękuję.
          - id: coffee
            text: Poproszę kawę.
        """

    func project() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("Lessons/a1-greetings.yaml", Self.greetings)
        try directory.write("Lessons/a1-food.yaml", Self.food)
        return directory
    }

    func summary(_ result: CommandRunner.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func buildsThenRebuildsNothingThenOnlyWhatChanged() throws {
        let dir = try project()
        let first = try CommandRunner.prerender(["build", "--json"], in: dir.path)
        #expect(first.status == 0, "\(first.output)")
        let s1 = try summary(first)
        #expect(s1["items"] as? Int == 5)
        #expect(s1["unique_audio"] as? Int == 4, "Dziękuję. is shared by both lessons")
        #expect(s1["rendered"] as? Int == 4)

        let manifestText = try #require(dir.read("Output/manifest.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestText.utf8))
        #expect(manifest.schema == 1)
        #expect(manifest.lessons.map(\.id) == ["a1-food", "a1-greetings"])
        #expect(manifest.lessons[1].items.map(\.id) == ["hello", "thanks", "name"])
        #expect(manifest.lessons[1].items[2].voice == "pl-PL-jacek")
        #expect(manifest.lessons[1].items[2].speaker == "piotr")
        #expect(manifest.lessons[0].items[0].audio == manifest.lessons[1].items[1].audio)
        #expect(manifest.lessons[1].source == "Lessons/a1-greetings.yaml")
        #expect(manifest.audio.count == 4)
        for (key, entry) in manifest.audio {
            #expect(entry.path == "audio/\(key.prefix(2))/\(key).wav")
            let bytes = try #require(FileManager.default.contents(atPath: "\(dir.path)/Output/\(entry.path)"))
            #expect(SHA256.hex(Array(bytes)) == entry.sha256)
            #expect(bytes.count == entry.bytes)
            #expect(entry.sampleRate == 22_050 && entry.channels == 1 && entry.format == "wav")
            #expect(entry.durationMs > 300 && entry.synthesizer == "espeak")
        }
        #expect(dir.files(under: "Output").filter { $0.hasPrefix("audio/") }.count == 4)
        try ReleaseCommandTests.validateManifest("\(dir.path)/Output/manifest.json")
        #expect(!dir.files(under: "Output").contains { $0.contains(".tmp-") })

        let second = try CommandRunner.prerender(["build"], in: dir.path)
        #expect(second.status == 0)
        #expect(second.stdout.contains("nothing to render"))
        #expect(dir.read("Output/manifest.json") == manifestText, "same inputs, byte-identical manifest")

        try dir.write("Lessons/a1-food.yaml", Self.food.replacingOccurrences(of: "Poproszę kawę.", with: "Poproszę herbatę."))
        let third = try CommandRunner.prerender(["build", "--json"], in: dir.path)
        #expect(third.status == 0, "\(third.output)")
        let s3 = try summary(third)
        #expect(s3["enqueued"] as? Int == 1 && s3["rendered"] as? Int == 1 && s3["cached"] as? Int == 3)
        let updated = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(updated.lessons[0].items[1].text == "Poproszę herbatę.")
        // The old audio stays in the cache (nothing deletes it yet); the manifest only names what is used.
        #expect(updated.audio.count == 4)
    }

    @Test func aBadLessonExitsTwoAndTouchesNothing() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let before = dir.snapshot("Output")
        try dir.write("Lessons/b1-bad.yaml", "id: b1-bad\ntitle: Zły\nitems:\n  - id: one\n    text: Tak\n    rate: 80\n  - id: two\n    voice: pl-PL-nobody\n    text: Nie\n")
        try dir.write("Lessons/a1-food.yaml", Self.food + "\n  - id: tea\n    text: Herbata.\n")
        let result = try CommandRunner.prerender(["build"], in: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("Lessons/b1-bad.yaml:6:11: rate must be from -50 to 50, not 80"))
        #expect(result.stderr.contains("Lessons/b1-bad.yaml:8:12: unknown voice 'pl-PL-nobody'"))
        #expect(dir.snapshot("Output") == before, "nothing is rendered or written when a lesson is bad")
        #expect(!result.stderr.contains("queued"))
    }

    @Test func brokenConfigurationExitsTwo() throws {
        let dir = try project()
        try dir.write("pipeline.yaml", "queue:\n  workers: lots\n")
        let result = try CommandRunner.prerender(["build"], in: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipeline.yaml:2:12: queue.workers must be a whole number"))
        let named = try CommandRunner.prerender(["build", "--config", "missing.yaml"], in: dir.path)
        #expect(named.status == 2 && named.stderr.contains("missing.yaml: no such configuration file"))
    }

    @Test func aDamagedCachedFileIsRenderedAgain() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let victim = try #require(dir.files(under: "Output/audio").first)
        try Data("not audio any more".utf8).write(to: URL(fileURLWithPath: "\(dir.path)/Output/audio/\(victim)"))
        let result = try CommandRunner.prerender(["build", "--json"], in: dir.path)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("\"enqueued\":1"), "\(result.stdout)")
        let bytes = try #require(FileManager.default.contents(atPath: "\(dir.path)/Output/audio/\(victim)"))
        #expect(bytes.starts(with: Data("RIFF".utf8)))
    }

    @Test func badCommandLinesAndSettingsExitTwo() throws {
        let dir = try project()
        let cases: [([String], [String: String], String)] = [
            (["build", "--workers", "999"], [:], "--workers must be from 0 to 256"),
            (["build", "--synthesizer", "festival"], [:], "'festival' is invalid for '--synthesizer <name>'. Please provide one of 'espeak' and 'murf'"),
            (["build", "--redis", "http://example"], [:], "--redis: Redis URL: expected redis://"),
            (["build"], ["REDIS_URL": "rediss://secure:6380"], "REDIS_URL: Redis URL: TLS (rediss://) is not supported"),
            (["build"], ["MURF_BASE_URL": "api.murf.ai"], "MURF_BASE_URL=api.murf.ai: must start with https://"),
            (["build", "--workers", "0"], [:], "needs a shared Redis"),
        ]
        for (arguments, environment, message) in cases {
            let result = try CommandRunner.prerender(arguments, in: dir.path, environment: environment)
            #expect(result.status == 2, "\(arguments) \(environment): \(result.output)")
            #expect(result.stderr.contains(message), "\(arguments) \(environment): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/Output"))
    }

    @Test func unreachableRedisExitsThree() throws {
        let dir = try project()
        let port = try freeLoopbackPort()
        let result = try CommandRunner.prerender(["build", "--redis", "redis://127.0.0.1:\(port)/0"], in: dir.path)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("cannot reach Redis"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/Output/manifest.json"))
    }

    @Test func helpTeaches() throws {
        let result = try CommandRunner.prerender(["build", "--help"], in: "/tmp")
        #expect(result.status == 0)
        for text in ["--redis", "--workers", "--synthesizer", "path:line:column", "Examples:"] {
            #expect(result.stdout.contains(text), "build --help mentions \(text)")
        }
    }
}
