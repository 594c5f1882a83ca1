import Foundation
@testable import Pipeline
import PrerenderTesting
import Testing

/// Saying Polish right: the dictionary, the text rules, what each synthesizer gets, and voice checks.
@Suite struct PronunciationTests {
    func pronouncer(_ entries: [String: Pronunciation], rules: [TextRule] = []) -> Pronouncer {
        Pronouncer(entries: entries, rules: rules)
    }

    @Test func wholeWordsAnyCaseWithPolishLetters() {
        let p = pronouncer(["np.": .text("na przykład"), "żółw": .text("żółwik"), "PKP": .text("pe ka pe")])
        #expect(p.speak("Np. tak, np. nie", for: .espeak).text == "Na przykład tak, na przykład nie")
        #expect(p.speak("npx i anp. zostają", for: .espeak).text == "npx i anp. zostają")
        #expect(p.speak("Żółw! A żółwie nie.", for: .espeak).text == "Żółwik! A żółwie nie.")
        #expect(p.speak("Jadę PKP do Łodzi", for: .espeak).text == "Jadę pe ka pe do Łodzi")
        #expect(p.speak("Ążółw", for: .espeak).text == "Ążółw", "ą is a letter: no word starts inside 'Ążółw'")
    }

    @Test func overlappingEntriesTakeTheLongest() {
        let p = pronouncer(["Nowy": .text("nowy!"), "Nowy Jork": .text("Nowy Jork (miasto)")])
        #expect(p.speak("Lecę do Nowy Jork, a Nowy dom czeka.", for: .espeak).text == "Lecę do Nowy Jork (miasto), a Nowy! dom czeka.")
    }

    @Test func rulesRunFirstAndInOrder() throws {
        let rules = [
            try TextRule(pattern: #"\[[^\]]*\]"#, replacement: ""),
            try TextRule(pattern: #"(\d+) zł"#, replacement: "$1 złotych"),
        ]
        let p = pronouncer(["złotych": .text("złotych polskich")], rules: rules)
        #expect(p.speak("To kosztuje [cena] 5 zł.", for: .espeak).text == "To kosztuje 5 złotych polskich.")
        let reversed = pronouncer([:], rules: [try TextRule(pattern: "a", replacement: "b"), try TextRule(pattern: "b", replacement: "c")])
        #expect(reversed.speak("a", for: .espeak).text == "c")
    }

    @Test func aRuleSkipsTextWithoutItsLeadingCharacterOnlyWhenThatIsCertain() throws {
        let plain: [(String, Character?)] = [(#"\{\{[^}]*\}\}"#, "{"), ("<[^>]+>", "<"), (#"\[(?!pause)[^\]]*\]"#, "["), ("np\\.", "n"),
                                             ("a|b", nil), ("x?y", nil), ("x*", nil), ("x{0,2}y", nil), (#"\d+"#, nil), ("(?i)np", nil),
                                             ("[ab]c", nil), (".x", nil), ("^x", nil), ("", nil)]
        for (pattern, expected) in plain {
            #expect(TextRule.leadingCharacter(of: pattern) == expected, "\(pattern)")
        }
        // Skipping changes nothing: with and without the leading character the rule gives what the regex gives.
        let rule = try TextRule(pattern: "<[^>]+>", replacement: "")
        #expect(rule.apply("a <b>c</b> d") == "a c d")
        #expect(rule.apply("a > b") == "a > b")
    }

    @Test func defaultRulesStripMarkupButKeepPauses() {
        let p = PipelineConfig().pronouncer
        #expect(p.speak("Tak {{note}} <i>nie</i> [śmiech] [pause 1.5s] dobrze", for: .espeak).text == "Tak nie [pause 1.5s] dobrze")
        let input = EspeakSynthesizer.input(for: "Tak & nie [pause 1.5s] dobrze")
        #expect(input.ssml && input.text == #"<speak>Tak &amp; nie <break time="1500ms"/> dobrze</speak>"#)
        #expect(!EspeakSynthesizer.input(for: "Tak").ssml)
    }

    @Test func ipaAndSayAsGoToMurfAndPhonemesToEspeak() {
        let p = pronouncer(["Kraków": .ipa("ˈkra.kuf", espeak: "kr'akuf"), "PKP": .sayAs("pe ka pe"), "Łódź": .ipa("wut͡ɕ", espeak: nil)])
        let murf = p.speak("Z Krakowa? Nie, z Kraków PKP do Łódź.", for: .murf)
        #expect(murf.text == "Z Krakowa? Nie, z Kraków PKP do Łódź.")
        #expect(murf.murfDictionary == ["Kraków": .init(type: "IPA", pronunciation: "ˈkra.kuf"), "PKP": .init(type: "SAY_AS", pronunciation: "pe ka pe"),
                                        "Łódź": .init(type: "IPA", pronunciation: "wut͡ɕ")])
        let espeak = p.speak("Z Kraków do Łódź.", for: .espeak)
        #expect(espeak.text == "Z [[kr'akuf]] do Łódź." && espeak.murfDictionary.isEmpty)
    }

    @Test func theManifestKeepsTheLearnersTextAndAnEditedEntryReRendersOnlyItsLines() throws {
        var config = PipelineConfig()
        let lesson = Lesson(id: "l", title: "T", source: "l.yaml", items: [
            LessonItem(id: "a", text: "Np. kawa.", voice: "pl-PL-kasia"),
            LessonItem(id: "b", text: "Herbata, tzn. czarna.", voice: "pl-PL-kasia"),
            LessonItem(id: "c", text: "Woda.", voice: "pl-PL-kasia"),
        ])
        config.pronouncer.entries = ["np.": .text("na przykład"), "tzn.": .text("to znaczy")]
        let before = BuildPlan(lessons: [lesson], config: config)
        #expect(before.jobs[0].text == "Na przykład kawa.")
        config.pronouncer.entries["np."] = .text("na przykład to")
        let after = BuildPlan(lessons: [lesson], config: config)
        #expect(before.itemKeys[0][0] != after.itemKeys[0][0])
        #expect(before.itemKeys[0][1] == after.itemKeys[0][1] && before.itemKeys[0][2] == after.itemKeys[0][2])
        // A lesson's own entry wins over pipeline.yaml's.
        var own = lesson
        own.pronunciations = ["np.": .text("na przykład tak")]
        #expect(BuildPlan(lessons: [own], config: config).jobs[0].text == "Na przykład tak kawa.")
    }

    @Test func dictionariesAndRulesAreReadWithTheirPositions() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("pipeline.yaml", """
            pronunciations:
              np.: na przykład
              Kraków: {ipa: "ˈkra.kuf"}
              PKP: {sayas: x}
            rules:
              - {pattern: '(unclosed', replace: ''}
            """)
        do {
            _ = try PipelineConfig.load(path: path, required: true, environment: [:])
            Issue.record("bad entries must fail")
        } catch let error as InvalidInput {
            let lines = error.diagnostics.map { $0.description.replacingOccurrences(of: directory.path + "/", with: "") }
            #expect(lines.contains { $0.hasPrefix("pipeline.yaml:4:9: pronunciations.PKP: unknown key 'sayas'") }, "\(lines)")
            #expect(lines.contains("pipeline.yaml:6:15: rules[0].pattern is not a valid regular expression: (unclosed"), "\(lines)")
        }
        let lessons = try TemporaryDirectory()
        try lessons.write("Lessons/l.yaml", "id: l\ntitle: T\npronunciations:\n  kawa: kawusia\nitems:\n  - id: a\n    text: Kawa!\n")
        let loaded = try LessonLoader(config: PipelineConfig()).loadAll(from: "\(lessons.path)/Lessons")
        #expect(BuildPlan(lessons: loaded, config: PipelineConfig()).jobs[0].text == "Kawusia!")
    }

    @Test func murfReceivesTheDictionary() throws {
        let server = try FakeMurfServer(apiKey: "dict-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        var config = PipelineConfig()
        config.synthesizer = .murf
        config.murf.baseURL = server.baseURL
        config.pronouncer.entries = ["Kraków": .ipa("ˈkra.kuf", espeak: nil)]
        let job = config.renderJob(text: "Jadę do Kraków jutro rano.", voice: "pl-PL-jacek")
        _ = try MurfSynthesizer(settings: config.murf, apiKey: "dict-key").synthesize(job)
        let request = try #require(server.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let dictionary = try #require(body["pronunciationDictionary"] as? [String: [String: String]])
        #expect(dictionary == ["Kraków": ["type": "IPA", "pronunciation": "ˈkra.kuf"]])
    }

    @Test func voicesTheSynthesizerLacksFailWithTheirPosition() throws {
        let server = try FakeMurfServer(apiKey: "voice-key", audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        let output = try TemporaryDirectory()
        var config = PipelineConfig()
        config.synthesizer = .murf
        config.murf.baseURL = server.baseURL
        config.outputDirectory = output.path
        config.voices["pl-PL-ghost"] = VoiceSettings(murf: MurfVoice(voiceId: "pl-PL-ghost"))
        let lesson = Lesson(id: "l", title: "T", source: "Lessons/l.yaml", items: [
            LessonItem(id: "a", text: "Tak.", voice: "pl-PL-jacek", line: 4, column: 5),
            LessonItem(id: "b", text: "Nie.", voice: "pl-PL-ghost", line: 6, column: 5),
            LessonItem(id: "c", text: "Może.", voice: "pl-PL-kasia", style: "Whispering", line: 8, column: 5),
        ])
        do {
            try VoiceCatalog.check([lesson], config: config, environment: ["MURF_API_KEY": "voice-key"])
            Issue.record("unknown voices must fail")
        } catch let error as InvalidInput {
            #expect(error.diagnostics.map(\.description) == [
                "Lessons/l.yaml:6:5: voice 'pl-PL-ghost' is Murf voice 'pl-PL-ghost', which Murf does not offer",
                "Lessons/l.yaml:8:5: Murf voice 'pl-PL-kasia' has no style 'Whispering'; it has Conversational",
            ])
        }
        // The voice list is cached for a day: a second check asks Murf nothing.
        let asked = server.requests.count
        #expect(throws: InvalidInput.self) { try VoiceCatalog.check([lesson], config: config, environment: ["MURF_API_KEY": "voice-key"]) }
        #expect(server.requests.count == asked)
        var espeak = PipelineConfig()
        espeak.voices["pl-PL-robot"] = VoiceSettings(espeak: EspeakVoice(voice: "pl+nosuchvariant"))
        #expect(throws: InvalidInput.self) {
            try VoiceCatalog.check([Lesson(id: "l", title: "T", source: "l.yaml", items: [LessonItem(id: "a", text: "Tak.", voice: "pl-PL-robot")])],
                                   config: espeak, environment: [:])
        }
        try VoiceCatalog.check([lesson].map { var l = $0; l.items = [l.items[0]]; return l }, config: PipelineConfig(), environment: [:])
    }
}
