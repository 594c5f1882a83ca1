import Pipeline
import Testing

/// Audio keys: what counts as the same audio, and what does not.
@Suite struct AudioKeyTests {
    let config = PipelineConfig()

    func item(_ text: String, voice: String = "pl-PL-kasia", rate: Int = 0, pitch: Int = 0, style: String? = nil) -> LessonItem {
        LessonItem(id: "x", text: text, voice: voice, style: style, rate: rate, pitch: pitch)
    }

    func key(_ item: LessonItem, _ config: PipelineConfig? = nil) -> String {
        BuildPlan(lessons: [Lesson(id: "l", title: "T", source: "l.yaml", items: [item])], config: config ?? self.config).jobs[0].key
    }

    @Test func normalizationComposesTrimsCollapsesAndLowercases() {
        // "ó" as o + combining acute (NFD) and as one scalar (NFC).
        #expect(AudioKey.normalize("  Dzień \t dobry,\n  Pani Zosiu!  ") == "dzień dobry, pani zosiu!")
        #expect(AudioKey.normalize("Dzie\u{0144}") == AudioKey.normalize("Dzien\u{0301}"))
        #expect(AudioKey.normalize("ŻÓŁW") == "żółw")
    }

    @Test func sameTextSameVoiceSameKey() {
        #expect(key(item("Dzień dobry!")) == key(item("  dzień   DOBRY! ")))
        #expect(key(item("Dzie\u{0144} dobry!")) == key(item("Dzien\u{0301} dobry!")))
        #expect(key(item("Dzień dobry!")).count == 64)
    }

    @Test func everythingThatShapesTheSoundChangesTheKey() {
        let base = key(item("Dzień dobry!"))
        #expect(key(item("Dzień dobry?")) != base)
        #expect(key(item("Dzień dobry!", voice: "pl-PL-jacek")) != base)
        #expect(key(item("Dzień dobry!", rate: -10)) != base)
        #expect(key(item("Dzień dobry!", pitch: 5)) != base)
        var murf = config
        murf.synthesizer = .murf
        #expect(key(item("Dzień dobry!"), murf) != base)
        #expect(key(item("Dzień dobry!", style: "Narration"), murf) != key(item("Dzień dobry!"), murf))
        var slower = config
        slower.voices["pl-PL-kasia"]?.espeak?.speed = 120
        #expect(key(item("Dzień dobry!"), slower) != base)
        var otherRate = murf
        otherRate.murf.output.sampleRate = 44_100
        #expect(key(item("Dzień dobry!"), otherRate) != key(item("Dzień dobry!"), murf))
    }

    @Test func styleDoesNotSplitEspeakAudio() {
        // espeak-ng has no styles: the same sound, the same file.
        #expect(key(item("Tak.", style: "Conversational")) == key(item("Tak.")))
    }

    @Test func planSharesOneJobAcrossLessons() {
        let a = Lesson(id: "a", title: "A", source: "a.yaml", items: [item("Dziękuję."), item("Proszę."), item("dziękuję.")])
        let b = Lesson(id: "b", title: "B", source: "b.yaml", items: [item("Proszę."), item("Przepraszam.")])
        let plan = BuildPlan(lessons: [a, b], config: config)
        #expect(plan.itemCount == 5)
        #expect(plan.jobs.count == 3)
        #expect(plan.itemKeys[0][0] == plan.itemKeys[0][2])
        #expect(plan.itemKeys[0][1] == plan.itemKeys[1][0])
        #expect(plan.jobs.map(\.text) == ["Dziękuję.", "Proszę.", "Przepraszam."])
    }

    @Test func jobDataRoundTripsAsRQJSON() throws {
        let job = BuildPlan(lessons: [Lesson(id: "l", title: "T", source: "l.yaml", items: [item("Zażółć gęślą jaźń")])], config: config).jobs[0]
        let data = job.rqData()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("[\"prerender.synthesize\",null,[],{"))
        #expect(text.contains("Zażółć gęślą jaźń"))
        #expect(try RenderJob.fromRQData(data) == job)
    }
}
