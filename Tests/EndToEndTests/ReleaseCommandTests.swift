import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Pipeline
import PrerenderTesting
import Testing

/// For authors, nightly CI and release packaging: plan, reports, verify, gc, package, --lesson, budgets.
@Suite struct ReleaseCommandTests {
    func project() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("Lessons/a1-greetings.yaml", BuildCommandTests.greetings)
        try directory.write("Lessons/a1-food.yaml", BuildCommandTests.food)
        return directory
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Validates a written manifest against docs/manifest.schema.json with Python's jsonschema.
    static func validateManifest(_ path: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let check = try CommandRunner.run("/usr/bin/env", [
            CommandRunner.python, "-c",
            "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
            path, root.appendingPathComponent("docs/manifest.schema.json").path,
        ])
        #expect(check.status == 0, "the manifest follows docs/manifest.schema.json: \(check.output)")
    }

    @Test func planNumbersMatchWhatBuildThenDoes() throws {
        let dir = try project()
        let plan = try json(try CommandRunner.prerender(["plan", "--json"], in: dir.path).stdout)
        #expect(plan["items"] as? Int == 5 && plan["unique"] as? Int == 4 && plan["to_render"] as? Int == 4 && plan["cached"] as? Int == 0)
        let lessons = try #require(plan["lessons"] as? [[String: Any]])
        #expect(lessons.map { $0["id"] as? String } == ["a1-food", "a1-greetings"])
        #expect(lessons[0]["to_render"] as? Int == 2 && lessons[1]["to_render"] as? Int == 3, "Dziękuję. counts in both lessons")
        let build = try json(try CommandRunner.prerender(["build", "--json"], in: dir.path).stdout)
        #expect(build["enqueued"] as? Int == plan["to_render"] as? Int)
        try Self.validateManifest("\(dir.path)/Output/manifest.json")

        try dir.write("Lessons/a1-food.yaml", BuildCommandTests.food.replacingOccurrences(of: "Poproszę kawę.", with: "Poproszę wodę."))
        let again = try json(try CommandRunner.prerender(["plan", "--json"], in: dir.path).stdout)
        #expect(again["to_render"] as? Int == 1 && again["cached"] as? Int == 3)
        let jobs = try #require(again["jobs"] as? [[String: Any]])
        #expect(jobs.first?["item"] as? String == "a1-food/coffee" && jobs.first?["text"] as? String == "Poproszę wodę.")
        #expect(try json(try CommandRunner.prerender(["build", "--json"], in: dir.path).stdout)["enqueued"] as? Int == 1)

        let murf = try json(try CommandRunner.prerender(["plan", "--json", "--synthesizer", "murf"], in: dir.path).stdout)
        let characters = ["Dzień dobry!", "Dziękuję.", "Mam na imię Piotr.", "Poproszę wodę."].reduce(0) { $0 + $1.count }
        #expect(murf["paid"] as? Bool == true && murf["characters"] as? Int == characters)
        #expect(murf["estimated_seconds"] as? Double == 18, "4 jobs at 10 a minute, burst 1: three waits of 6 s")
        let human = try CommandRunner.prerender(["plan", "--synthesizer", "murf", "--verbose"], in: dir.path)
        #expect(human.stdout.contains("4 jobs for murf, \(characters) characters sent to a paid API, about 18s at 10 a minute"), "\(human.stdout)")
        let bad = try TemporaryDirectory()
        try bad.write("Lessons/x.yaml", "id: x\ntitle: X\nitems: []\n")
        #expect(try CommandRunner.prerender(["plan"], in: bad.path).status == 2)
    }

    @Test func reportsForCI() throws {
        let server = try FakeMurfServer(apiKey: "report-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let dir = try MurfProject.make(server: server, items: 3, queue: ["max_retries: 0"], murf: ["rate_limit: none"])
        server.fail(linesContaining: "bardzo dobrze", with: .status(400, body: #"{"errorMessage":"no <such> voice & style"}"#))
        let result = try CommandRunner.prerender(["build", "--report", "report.json", "--junit", "junit.xml"], in: dir.path,
                                                 environment: ["MURF_API_KEY": "report-key"])
        #expect(result.status == 1, "\(result.output)")
        let report = try json(try #require(dir.read("report.json")))
        let items = try #require(report["items"] as? [[String: Any]])
        #expect(items.map { $0["status"] as? String } == ["rendered", "failed", "rendered"])
        #expect(items[1]["reason"] as? String == "Murf answered HTTP 400, bad request: no <such> voice & style")
        #expect(items[0]["attempts"] as? Int == 1 && (items[0]["duration_ms"] as? Int ?? -1) >= 0)
        #expect(items[1]["item"] as? String == "line-1" && items[1]["line"] as? Int == 6)

        let document = try XMLDocument(data: Data(try #require(dir.read("junit.xml")).utf8))
        let cases = try document.nodes(forXPath: "//testcase")
        #expect(cases.count == 3)
        let failures = try document.nodes(forXPath: "//testcase/failure")
        #expect(failures.count == 1)
        #expect((failures.first as? XMLElement)?.attribute(forName: "message")?.stringValue == "Murf answered HTTP 400, bad request: no <such> voice & style")
        #expect((try document.nodes(forXPath: "/testsuites/@failures").first)?.stringValue == "1")
    }

    @Test func verifyFindsAFlippedByteADeletedFileAndAnUnindexedOne() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let good = try CommandRunner.prerender(["verify"], in: dir.path)
        #expect(good.status == 0 && good.stdout.contains("4 audio files match the manifest"), "\(good.output)")
        let files = dir.files(under: "Output/audio")
        let flipped = "\(dir.path)/Output/audio/\(files[0])"
        var bytes = try #require(FileManager.default.contents(atPath: flipped))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: flipped))
        try FileManager.default.removeItem(atPath: "\(dir.path)/Output/audio/\(files[1])")
        try dir.write("Output/audio/ff/stray.wav", "RIFF")
        let bad = try CommandRunner.prerender(["verify", "--json"], in: dir.path)
        #expect(bad.status == 1)
        let problems = try #require(try json(bad.stdout)["problems"] as? [[String: Any]])
        let kinds = Set(problems.compactMap { $0["kind"] as? String })
        #expect(kinds == ["sha256", "missing", "unindexed"], "\(problems)")
        #expect(problems.contains { $0["kind"] as? String == "sha256" && $0["path"] as? String == "audio/\(files[0])" })
        #expect(problems.contains { $0["kind"] as? String == "unindexed" && $0["path"] as? String == "audio/ff/stray.wav" })
    }

    @Test func gcRemovesOnlyOrphans() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let before = Set(dir.files(under: "Output/audio"))
        try dir.write("Lessons/a1-food.yaml", BuildCommandTests.food.replacingOccurrences(of: "Poproszę kawę.", with: "Poproszę sok."))
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let after = Set(dir.files(under: "Output/audio"))
        let manifestText = try #require(dir.read("Output/manifest.json"))
        let named = try JSONDecoder().decode(Manifest.self, from: Data(manifestText.utf8)).audio.values.map { String($0.path.dropFirst("audio/".count)) }
        let orphan = try #require(before.subtracting(Set(named)).first)
        #expect(after.count == 5)
        let dry = try CommandRunner.prerender(["gc", "--dry-run"], in: dir.path)
        #expect(dry.status == 0 && dry.stdout.contains("would delete Output/audio/\(orphan)") && dry.stdout.contains("1 files"), "\(dry.output)")
        #expect(Set(dir.files(under: "Output/audio")) == after)
        let real = try CommandRunner.prerender(["gc"], in: dir.path)
        #expect(real.status == 0 && real.stdout.contains("deleted 1 files"))
        #expect(Set(dir.files(under: "Output/audio")) == after.subtracting([orphan]))
        #expect(try CommandRunner.prerender(["verify"], in: dir.path).status == 0, "gc never touches what the manifest names")
    }

    @Test func twoPackagesOfOneCacheAreByteIdentical() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let first = try CommandRunner.prerender(["package", "--out", "one.tar.gz"], in: dir.path)
        #expect(first.status == 0, "\(first.output)")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try CommandRunner.prerender(["package", "--out", "two.tar.gz"], in: dir.path).status == 0)
        let one = try #require(FileManager.default.contents(atPath: "\(dir.path)/one.tar.gz"))
        let two = try #require(FileManager.default.contents(atPath: "\(dir.path)/two.tar.gz"))
        #expect(one == two)
        _ = try CommandRunner.prerender(["package", "--out", "dated.tar.gz"], in: dir.path, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(FileManager.default.contents(atPath: "\(dir.path)/dated.tar.gz") != one)
        let listing = try CommandRunner.run("/usr/bin/env", ["tar", "tzvf", "\(dir.path)/one.tar.gz"])
        let names = listing.stdout.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
        #expect(names.count == 6 && names[0] == "SHA256SUMS" && names.last == "manifest.json")
        #expect(listing.stdout.contains("1970-01-01"), "fixed times: \(listing.stdout)")
        let unpacked = try TemporaryDirectory()
        #expect(try CommandRunner.run("/usr/bin/env", ["tar", "xzf", "\(dir.path)/one.tar.gz", "-C", unpacked.path]).status == 0)
        #expect(try CommandRunner.run("/usr/bin/env", ["sha256sum", "-c", "SHA256SUMS"], in: unpacked.path).status == 0)
    }

    @Test func lessonFilterAndCharacterBudget() throws {
        let dir = try project()
        let food = try json(try CommandRunner.prerender(["build", "--lesson", "a1-food", "--json"], in: dir.path).stdout)
        #expect(food["enqueued"] as? Int == 2 && food["lessons"] as? Int == 1)
        #expect(try CommandRunner.prerender(["build", "--json"], in: dir.path).stdout.contains("\"enqueued\":2"))
        // Editing one lesson and building only it keeps the other lesson in the manifest.
        try dir.write("Lessons/a1-greetings.yaml", BuildCommandTests.greetings.replacingOccurrences(of: "Dzień dobry!", with: "Dobry wieczór!"))
        #expect(try CommandRunner.prerender(["build", "--lesson", "a1-greetings"], in: dir.path).status == 0)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(manifest.lessons.map(\.id) == ["a1-food", "a1-greetings"] && manifest.lessons[1].items[0].text == "Dobry wieczór!")
        try Self.validateManifest("\(dir.path)/Output/manifest.json")
        let unknown = try CommandRunner.prerender(["build", "--lesson", "nope"], in: dir.path)
        #expect(unknown.status == 2 && unknown.stderr.contains("no lesson with id 'nope'"))

        let server = try FakeMurfServer(apiKey: "budget-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let paid = try MurfProject.make(server: server, items: 3, murf: ["rate_limit: none"])
        let refused = try CommandRunner.prerender(["build", "--max-characters", "20"], in: paid.path, environment: ["MURF_API_KEY": "budget-key"])
        #expect(refused.status == 2 && refused.stderr.contains("over the budget of 20"), "\(refused.output)")
        #expect(server.generateCount == 0)
        #expect(try CommandRunner.prerender(["build", "--max-characters", "1000"], in: paid.path, environment: ["MURF_API_KEY": "budget-key"]).status == 0)
    }

    @Test func onlyChangedAndWatch() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        try dir.write("Lessons/a1-food.yaml", BuildCommandTests.food.replacingOccurrences(of: "Poproszę kawę.", with: "Poproszę herbatę."))
        let changed = try json(try CommandRunner.prerender(["build", "--only-changed", "--json"], in: dir.path).stdout)
        #expect(changed["lessons"] as? Int == 1 && changed["enqueued"] as? Int == 1, "\(changed)")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try #require(dir.read("Output/manifest.json")).utf8))
        #expect(manifest.lessons.count == 2 && manifest.lessons[0].items[1].text == "Poproszę herbatę.")
        #expect(try json(try CommandRunner.prerender(["build", "--only-changed", "--json"], in: dir.path).stdout)["lessons"] as? Int == 0)

        let watcher = try CommandRunner.start(CommandRunner.prerenderPath, ["build", "--watch"], in: dir.path)
        defer { if watcher.isRunning { watcher.terminate() } }
        Thread.sleep(forTimeInterval: 1.5)
        try dir.write("Lessons/a1-food.yaml", BuildCommandTests.food.replacingOccurrences(of: "Poproszę kawę.", with: "Poproszę sok."))
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, dir.read("Output/manifest.json")?.contains("Poproszę sok.") != true { Thread.sleep(forTimeInterval: 0.1) }
        #expect(dir.read("Output/manifest.json")?.contains("Poproszę sok.") == true, "the saved lesson was rendered again")
        kill(watcher.processIdentifier, SIGINT)
        watcher.waitUntilExit()
        #expect(watcher.terminationStatus == 0)
        #expect(try CommandRunner.prerender(["verify"], in: dir.path).status == 1, "the old file is now unindexed until gc")
        #expect(try CommandRunner.prerender(["gc"], in: dir.path).status == 0)
        #expect(try CommandRunner.prerender(["verify"], in: dir.path).status == 0)
    }

    @Test func verifyReportsFilesOffTheLoudnessTarget() throws {
        let dir = try project()
        #expect(try CommandRunner.prerender(["build"], in: dir.path).status == 0)
        let manifest = try #require(dir.read("Output/manifest.json"))
        #expect(manifest.contains("\"lufs\"") && manifest.contains("\"true_peak_db\"") && manifest.contains("\"trimmed_ms\""))
        #expect(try CommandRunner.prerender(["verify"], in: dir.path).status == 0)
        // The course's target moves to -20 LUFS: the files mastered for -16 are now off target.
        try dir.write("pipeline.yaml", "mastering:\n  target_lufs: -20\n")
        let result = try CommandRunner.prerender(["verify", "--json"], in: dir.path)
        #expect(result.status == 1)
        let problems = try #require(try json(result.stdout)["problems"] as? [[String: Any]])
        #expect(problems.count == 4 && problems.allSatisfy { $0["kind"] as? String == "off_target" }, "\(problems)")
        // And a build renders them again for the new target: the settings are part of the key.
        let rebuilt = try json(try CommandRunner.prerender(["build", "--json"], in: dir.path).stdout)
        #expect(rebuilt["enqueued"] as? Int == 4)
        #expect(try CommandRunner.prerender(["gc"], in: dir.path).status == 0)
        #expect(try CommandRunner.prerender(["verify"], in: dir.path).status == 0)
    }
}
