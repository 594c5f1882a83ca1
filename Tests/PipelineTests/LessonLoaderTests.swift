import Foundation
import Pipeline
import PrerenderTesting
import Testing

/// The lesson loader on good and bad files: every error with its line and column, all of them listed.
@Suite struct LessonLoaderTests {
    let config = PipelineConfig()

    /// Loads lesson files (name -> text) from a fresh folder; returns the lessons or the diagnostics.
    func load(_ files: [String: String]) throws -> Result<[Lesson], InvalidInput> {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(directory.path)/Lessons", withIntermediateDirectories: true)
        for (name, text) in files { try directory.write("Lessons/\(name)", text) }
        do {
            return .success(try LessonLoader(config: config).loadAll(from: "\(directory.path)/Lessons"))
        } catch let error as InvalidInput {
            // Report paths relative to the folder so tests can compare them.
            return .failure(InvalidInput(error.diagnostics.map { d in
                var d = d
                d.path = d.path.replacingOccurrences(of: directory.path + "/", with: "")
                d.message = d.message.replacingOccurrences(of: directory.path + "/", with: "")
                return d
            }))
        }
    }

    func problems(_ text: String, file: String = "l.yaml") throws -> [Diagnostic] {
        switch try load([file: text]) {
        case .success: return []
        case .failure(let error): return error.diagnostics
        }
    }

    @Test func readsAGoodLesson() throws {
        let result = try load(["a.yaml": """
            id: a1-greetings
            title: Powitania
            voices:
              anna: pl-PL-jacek
            items:
              - id: hello
                text: "  Dzień dobry!  "
              - id: bye
                text: Do widzenia!
                speaker: anna
                rate: -10
                pitch: 5
                style: Conversational
              - id: year
                text: 2024
                voice: pl-PL-blazej
            """])
        let lessons = try result.get()
        #expect(lessons.count == 1)
        let lesson = lessons[0]
        #expect(lesson.id == "a1-greetings")
        #expect(lesson.items.map(\.id) == ["hello", "bye", "year"])
        #expect(lesson.items[0].text == "Dzień dobry!")
        #expect(lesson.items[0].voice == "pl-PL-kasia")
        #expect(lesson.items[0].speaker == "narrator")
        #expect(lesson.items[1].voice == "pl-PL-jacek")
        #expect(lesson.items[1].rate == -10 && lesson.items[1].pitch == 5 && lesson.items[1].style == "Conversational")
        #expect(lesson.items[2].text == "2024")
        #expect(lesson.items[2].voice == "pl-PL-blazej")
        #expect(lesson.items[1].line == 8)
    }

    @Test func shippedLessonsLoadAndShareLines() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var settings = try PipelineConfig.load(path: root.appendingPathComponent("pipeline.yaml").path, required: true, environment: [:])
        settings.lessonsDirectory = root.appendingPathComponent("Lessons").path
        let lessons = try LessonLoader(config: settings).loadAll(from: settings.lessonsDirectory)
        #expect(lessons.count >= 6)
        let plan = BuildPlan(lessons: lessons, config: settings)
        #expect(plan.jobs.count < plan.itemCount, "lines shared between lessons make fewer jobs than items")
    }

    @Test func yamlSyntaxErrorHasItsPosition() throws {
        let found = try problems("id: a\ntitle: T\nitems:\n  - id: x\n    text: \"unclosed\n")
        #expect(found.count == 1)
        #expect(found[0].path == "Lessons/l.yaml")
        #expect(found[0].line >= 5)
        #expect(found[0].message.contains("YAML syntax error"))
    }

    @Test func unknownKeyIsReportedAtTheKeyWithAHint() throws {
        let found = try problems("id: a\ntitle: T\nitems:\n  - id: x\n    txet: Tak\n    text: Tak\n")
        #expect(found.map(\.description) == [
            "Lessons/l.yaml:5:5: item: unknown key 'txet' (allowed: id, text, speaker, voice, style, rate, pitch); did you mean 'text'?",
        ])
    }

    @Test func wrongTypesAreReported() throws {
        let found = try problems("id: a\ntitle: T\nitems:\n  - id: x\n    text: [a, b]\n    rate: fast\n  - id: y\n    text: Tak\n    pitch: 99\n")
        #expect(found.map(\.description) == [
            "Lessons/l.yaml:5:11: text must be text, not a list",
            "Lessons/l.yaml:6:11: rate must be a whole number from -50 to 50, not 'fast'",
            "Lessons/l.yaml:9:12: pitch must be from -50 to 50, not 99",
        ])
    }

    @Test func missingFieldsAreReported() throws {
        let found = try problems("title: T\nitems:\n  - id: x\n  - text: Tak\n")
        #expect(found.map(\.description) == [
            "Lessons/l.yaml:1:1: lesson: missing required key 'id'",
            "Lessons/l.yaml:3:5: item: missing required key 'text'",
            "Lessons/l.yaml:4:5: item: missing required key 'id'",
        ])
    }

    @Test func badAndDuplicateIDs() throws {
        let found = try problems("id: A1 Greetings\ntitle: T\nitems:\n  - id: x\n    text: Tak\n  - id: x\n    text: Nie\n")
        #expect(found.count == 2)
        #expect(found[0].description.hasPrefix("Lessons/l.yaml:1:5: id 'A1 Greetings' must be"))
        #expect(found[1].description == "Lessons/l.yaml:6:9: item id 'x' is already used in this lesson at line 4")
    }

    @Test func duplicateLessonIDAcrossFiles() throws {
        let lesson = "id: same\ntitle: T\nitems:\n  - id: x\n    text: Tak\n"
        guard case .failure(let error) = try load(["a.yaml": lesson, "b.yaml": lesson + "    rate: 99\n"]) else {
            Issue.record("two lessons with one id must fail")
            return
        }
        #expect(error.diagnostics.map(\.description) == [
            "Lessons/b.yaml:1:5: lesson id 'same' is already used by Lessons/a.yaml:1:5",
            "Lessons/b.yaml:6:11: rate must be from -50 to 50, not 99",
        ], "in file order")
    }

    @Test func emptyOverlongAndControlCharacterText() throws {
        let long = String(repeating: "ą", count: 3001)
        let found = try problems("id: a\ntitle: T\nitems:\n  - id: x\n    text: \"   \"\n  - id: y\n    text: \(long)\n  - id: z\n    text: \"Tak\\u0007\"\n")
        #expect(found.map(\.description) == [
            "Lessons/l.yaml:5:11: text must not be empty",
            "Lessons/l.yaml:7:11: text is 3001 characters long; at most 3000 are allowed",
            "Lessons/l.yaml:9:11: text contains the control character U+0007",
        ])
    }

    @Test func speakersAndVoicesThatMapToNothing() throws {
        let found = try problems("""
            id: a
            title: T
            voices:
              anna: pl-PL-nobody
            items:
              - id: x
                text: Tak
                speaker: piotr
              - id: y
                text: Nie
                voice: en-US-natalie
            """)
        #expect(found.count == 3)
        #expect(found[0].description.hasPrefix("Lessons/l.yaml:4:9: speaker 'anna' maps to unknown voice 'pl-PL-nobody'; known voices: pl-PL-blazej, pl-PL-jacek, pl-PL-kasia"))
        #expect(found[1].description == "Lessons/l.yaml:8:14: speaker 'piotr' has no voice: map it under the lesson's voices: or pipeline.yaml's speakers:")
        #expect(found[2].description.hasPrefix("Lessons/l.yaml:11:12: unknown voice 'en-US-natalie'"))
    }

    @Test func everyProblemInEveryFileIsListed() throws {
        guard case .failure(let error) = try load([
            "a.yaml": "id: a\ntitle: T\nitems: []\n",
            "b.yaml": "id: b\ntitle: \"\"\nitems:\n  - id: x\n    text: Tak\n    rate: 51\n",
            "c.yaml": "not: [valid\n",
        ]) else {
            Issue.record("bad lessons must fail")
            return
        }
        let files = Set(error.diagnostics.map(\.path))
        #expect(files == ["Lessons/a.yaml", "Lessons/b.yaml", "Lessons/c.yaml"])
        #expect(error.diagnostics.count == 4)
    }

    @Test func anEmptyFolderIsAnError() throws {
        guard case .failure(let error) = try load([:]) else {
            Issue.record("no lessons must fail")
            return
        }
        #expect(error.diagnostics.first?.message.contains("no lesson files") == true)
    }
}
