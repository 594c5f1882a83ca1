import Foundation
@testable import Pipeline
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

    @Test func keysAreStableAcrossReleases() {
        // Pinned: a changed spelling of the canonical JSON would orphan every cached file. The expected text and
        // digest come from Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) + sha256.
        let parameters: [String: CanonicalJSON] = ["voice": .string("pl"), "speed": .int(175), "pitch": .int(50)]
        let output = AudioOutput(format: "wav", sampleRate: 22_050, channels: 1)
        let text = "  Zażółć \t gęślą \"JAŹŃ\"\u{0001} ok\u{00A0}"
        let canonical = AudioKey.canonical(text: text, voice: "pl-PL-kasia", synthesizer: .espeak, parameters: parameters, output: output)
        #expect(canonical.text == #"{"channels":1,"format":"wav","params":{"pitch":50,"speed":175,"voice":"pl"},"sample_rate":22050,"#
            + #""synthesizer":"espeak","text":"zażółć gęślą \"jaźń\"\u0001 ok","v":1,"voice":"pl-PL-kasia"}"#)
        #expect(AudioKey.make(text: text, voice: "pl-PL-kasia", synthesizer: .espeak, parameters: parameters, output: output, masteringJSON: nil)
            == "3e7119c8b706d383f80bbc711996f515f9c6107f8156bc9fd2a0f3b7fbc41f06")
    }

    @Test func theFastWriterSpellsWhatTheDefinitionSays() {
        let output = AudioOutput(format: "ogg", sampleRate: 48_000, channels: 2)
        for (text, mastering) in [("Dzień dobry!", MasteringSettings()), ("np. \u{2003}\"cytat\" \\ koniec\n", nil)] as [(String, MasteringSettings?)] {
            let parameters: [String: CanonicalJSON] = ["voice_id": .string("pl-PL-kasia"), "rate": .int(-5), "style": .string("Narration")]
            #expect(AudioKey.canonicalBytes(text: text, voice: "v", synthesizer: .murf, parameters: parameters, output: output,
                                           masteringJSON: mastering?.canonical.bytes)
                == AudioKey.canonical(text: text, voice: "v", synthesizer: .murf, parameters: parameters, output: output, mastering: mastering).bytes)
        }
    }

    @Test func whitespaceIsUnicodeWhitespace() {
        // No-break, em and ideographic spaces, NEL and the line separator collapse like ASCII ones; other scalars stay.
        #expect("\u{00A0}a\u{2003}\u{3000}b\u{0085}c\u{2028}\r\nd\u{200B}e ".collapsingWhitespace() == "a b c d\u{200B}e")
        #expect("  a \t b\r\n".trimmingWhitespace() == "a \t b")
        #expect(" \n ".trimmingWhitespace().isEmpty)
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

    @Test func reportJSONIsWhatJSONEncoderWouldWrite() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var report = AudioReport(format: "wav", sampleRate: 24_000, channels: 1, frames: 41_216, durationMs: 1_717, peak: 0.731_2,
                                 clippedRatio: 1.5e-05)
        #expect(report.json == Array(try encoder.encode(report)))
        report.lufs = -16.04
        report.truePeakDB = -1.25
        report.trimmedMs = 120
        #expect(report.json == Array(try encoder.encode(report)))
        #expect(try JSONDecoder().decode(AudioReport.self, from: Data(report.json)) == report)
    }

    @Test func jobDataIsWhatJSONEncoderWouldWrite() throws {
        // The hand-written encoder against Foundation's, on a job with every optional part and text to escape.
        var murf = config
        murf.synthesizer = .murf
        murf.pronouncer.entries = ["np.": .sayAs("na przykład"), "Kraków": .ipa("ˈkra.kuf", espeak: nil)]
        var job = BuildPlan(lessons: [Lesson(id: "l", title: "T", source: "l.yaml", items: [item("Np. \"Kraków\" \\ </b>\u{0007}")])],
                            config: murf).jobs[0]
        job.item = "l/x"
        #expect(job.pronunciations?.isEmpty == false)
        #expect(job.mastering != nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try JSONSerialization.jsonObject(with: Data("[\"prerender.synthesize\",null,[],".utf8) + encoder.encode(job) + Data("]".utf8))
        let written = try JSONSerialization.jsonObject(with: Data(job.rqData()))
        #expect((written as? NSArray) == (expected as? NSArray))
        #expect(try RenderJob.fromRQData(job.rqData()) == job)
    }
}
