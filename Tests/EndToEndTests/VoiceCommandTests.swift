import Foundation
import PrerenderTesting
import Testing

/// `say`, `voices`, and the voice check of `build` and `plan`, as an author meets them.
@Suite struct VoiceCommandTests {
    @Test func sayShowsTheSpokenTextAndRendersIt() throws {
        let dir = try TemporaryDirectory()
        try dir.write("pipeline.yaml", "pronunciations:\n  np.: na przykład\n")
        let dry = try CommandRunner.prerender(["say", "Np. {{uwaga}} kawa <b>z</b> mlekiem [pause 1s] tak.", "--dry-run"], in: dir.path)
        #expect(dry.status == 0 && dry.stdout.contains("spoken: Na przykład kawa z mlekiem [pause 1s] tak."), "\(dry.output)")
        let out = "\(dir.path)/line.wav"
        let rendered = try CommandRunner.prerender(["say", "Dzień dobry [pause 1s] i do widzenia.", "--out", out], in: dir.path)
        #expect(rendered.status == 0, "\(rendered.output)")
        let bytes = try #require(FileManager.default.contents(atPath: out))
        #expect(bytes.starts(with: Data("RIFF".utf8)))
    }

    @Test func voicesListsWhatEachSynthesizerOffers() throws {
        let dir = try TemporaryDirectory()
        let espeak = try CommandRunner.prerender(["voices"], in: dir.path)
        #expect(espeak.status == 0 && espeak.stdout.contains("Polish"))
        let server = try FakeMurfServer(apiKey: "voices-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let project = try MurfProject.make(server: server)
        let murf = try CommandRunner.prerender(["voices", "--json"], in: project.path, environment: ["MURF_API_KEY": "voices-key"])
        #expect(murf.status == 0, "\(murf.output)")
        let voices = try #require(try JSONSerialization.jsonObject(with: Data(murf.stdout.utf8)) as? [[String: Any]])
        #expect(Set(voices.compactMap { $0["id"] as? String }) == ["pl-PL-jacek", "pl-PL-kasia", "pl-PL-blazej"])
        #expect(try CommandRunner.prerender(["voices"], in: project.path).status == 3, "no key")
    }

    @Test func aVoiceMurfDoesNotOfferFailsTheBuildWithItsPosition() throws {
        let server = try FakeMurfServer(apiKey: "check-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let dir = try MurfProject.make(server: server, murf: ["rate_limit: none"], lesson: """
            id: a
            title: A
            items:
              - id: one
                text: Dzień dobry.
              - id: two
                text: Dobranoc.
                style: Whispering
            """)
        let result = try CommandRunner.prerender(["build"], in: dir.path, environment: ["MURF_API_KEY": "check-key"])
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("Lessons/a.yaml:6:5: Murf voice 'pl-PL-kasia' has no style 'Whispering'"), "\(result.stderr)")
        #expect(server.generateCount == 0, "nothing was enqueued or sent")
        let plan = try CommandRunner.prerender(["plan"], in: dir.path, environment: ["MURF_API_KEY": "check-key"])
        #expect(plan.status == 2 && plan.stderr.contains("Lessons/a.yaml:6:5"))
    }
}
