import Foundation
import Pipeline
import PrerenderTesting
import Testing

/// The Murf client over real HTTP (libcurl) against the fake Murf server on loopback.
@Suite struct MurfSynthesizerTests {
    static let key = "test-key-3f9a7c"

    func setUp(timeout: Double = 10) throws -> (FakeMurfServer, MurfSynthesizer, RenderJob) {
        let audio = try AudioFixtures.encode(try AudioFixtures.speechSamples(), sampleRate: 24_000)
        let server = try FakeMurfServer(apiKey: Self.key, audio: audio)
        var config = PipelineConfig()
        config.synthesizer = .murf
        config.murf.baseURL = server.baseURL
        config.murf.requestTimeout = timeout
        let synthesizer = MurfSynthesizer(settings: config.murf, apiKey: Self.key)
        let lesson = Lesson(id: "l", title: "T", source: "l.yaml", items: [
            LessonItem(id: "x", text: "Dzień dobry, jak się masz?", voice: "pl-PL-jacek", style: "Conversational", rate: -10, pitch: 3),
        ])
        return (server, synthesizer, BuildPlan(lessons: [lesson], config: config).jobs[0])
    }

    func failure(_ fault: FakeMurfServer.Fault, timeout: Double = 10) throws -> SynthesisError? {
        let (server, synthesizer, job) = try setUp(timeout: timeout)
        defer { server.stop() }
        server.inject(fault)
        do {
            _ = try synthesizer.synthesize(job)
            return nil
        } catch let error as SynthesisError {
            #expect(!error.message.contains(Self.key), "the API key must never reach an error message")
            return error
        }
    }

    @Test func generatesAndDownloadsTheAudio() throws {
        let (server, synthesizer, job) = try setUp()
        defer { server.stop() }
        let audio = try synthesizer.synthesize(job)
        #expect(audio == server.audio)
        let generate = try #require(server.requests.first { $0.path == "/v1/speech/generate" })
        #expect(generate.method == "POST")
        #expect(generate.headers["api-key"] == Self.key)
        #expect(generate.headers["content-type"] == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(generate.body)) as? [String: Any])
        #expect(body["text"] as? String == "Dzień dobry, jak się masz?")
        #expect(body["voiceId"] as? String == "pl-PL-jacek")
        #expect(body["format"] as? String == "WAV")
        #expect(body["sampleRate"] as? Int == 24_000)
        #expect(body["channelType"] as? String == "MONO")
        #expect(body["style"] as? String == "Conversational")
        #expect(body["rate"] as? Int == -10 && body["pitch"] as? Int == 3)
        #expect(body["locale"] as? String == "pl-PL")
        #expect(body["encodeAsBase64"] as? Bool == false)
        #expect(body["pronunciationDictionary"] == nil)  // none asked for: left out
        // The presigned audio URL gets no API key.
        let download = try #require(server.requests.first { $0.path.hasPrefix("/audio/") })
        #expect(download.headers["api-key"] == nil)
    }

    @Test func pronunciationsGoAsMurfsDictionary() throws {
        let (server, synthesizer, _) = try setUp()
        defer { server.stop() }
        var config = PipelineConfig()
        config.synthesizer = .murf
        config.pronouncer.entries = ["dzień": .ipa("dʑeɲ", espeak: nil), "masz": .sayAs("mash")]
        let lesson = Lesson(id: "l", title: "T", source: "l.yaml", items: [LessonItem(id: "x", text: "Dzień dobry, jak się \"masz\"?", voice: "pl-PL-jacek")])
        _ = try synthesizer.synthesize(BuildPlan(lessons: [lesson], config: config).jobs[0])
        let generate = try #require(server.requests.first { $0.path == "/v1/speech/generate" })
        let body = try #require(try JSONSerialization.jsonObject(with: Data(generate.body)) as? [String: Any])
        #expect(body["text"] as? String == "Dzień dobry, jak się \"masz\"?")
        let dictionary = try #require(body["pronunciationDictionary"] as? [String: [String: String]])
        #expect(dictionary == ["Dzień": ["type": "IPA", "pronunciation": "dʑeɲ"], "masz": ["type": "SAY_AS", "pronunciation": "mash"]])
    }

    @Test func refusedKeysFailAtOnceWithAClearReason() throws {
        let (server, _, job) = try setUp()
        defer { server.stop() }
        let wrong = MurfSynthesizer(settings: { var s = MurfSettings(); s.baseURL = server.baseURL; return s }(), apiKey: "wrong-key-0000")
        do {
            _ = try wrong.synthesize(job)
            Issue.record("a wrong key must fail")
        } catch let error as SynthesisError {
            #expect(!error.retryable)
            #expect(error.message.contains("HTTP 401") && error.message.contains("MURF_API_KEY"))
            #expect(!error.message.contains("wrong-key-0000"))
        }
        let forbidden = try #require(try failure(.status(403)))
        #expect(!forbidden.retryable && forbidden.message.contains("check MURF_API_KEY"))
    }

    @Test func clientErrorsAreNotRetried() throws {
        let payment = try #require(try failure(.status(402)))
        #expect(!payment.retryable && payment.message.contains("payment required"))
        let bad = try #require(try failure(.status(400, body: #"{"errorMessage":"voiceId is invalid"}"#)))
        #expect(!bad.retryable && bad.message.contains("voiceId is invalid"))
    }

    @Test func serverErrorsAndThrottlingMayBeRetried() throws {
        for status in [500, 503] {
            let error = try #require(try failure(.status(status)))
            #expect(error.retryable && error.message.contains("HTTP \(status)"))
        }
        let throttled = try #require(try failure(.status(429, headers: ["Retry-After": "7"])))
        #expect(throttled.retryable && throttled.message.contains("Retry-After: 7"))
    }

    @Test func badJSONIsAFailure() throws {
        let error = try #require(try failure(.badJSON))
        #expect(error.retryable && error.message.contains("not JSON"))
    }

    @Test func brokenDownloadsAreFailures() throws {
        let missing = try #require(try failure(.audio404))
        #expect(missing.retryable && missing.message.contains("HTTP 404"))
        let truncated = try #require(try failure(.truncatedAudio))
        #expect(truncated.retryable && truncated.message.contains("audio download"))
    }

    @Test func aHangingServerTimesOut() throws {
        let error = try #require(try failure(.hang(seconds: 5), timeout: 0.5))
        #expect(error.retryable && error.message.contains("timed out"))
    }

    @Test func bytesThatAreNotAudioFailValidation() throws {
        let (server, synthesizer, job) = try setUp()
        defer { server.stop() }
        server.inject(.notAudio)
        let bytes = try synthesizer.synthesize(job)
        #expect(throws: AudioRejected.self) {
            try AudioCheck(rules: ValidationRules(), expected: job.output).check(bytes, text: job.text)
        }
    }

    @Test func aMissingKeyMakesTheSynthesizerUnavailable() {
        var config = PipelineConfig()
        config.synthesizer = .murf
        let factory = SynthesizerFactory(config: config, environment: [:])
        #expect(throws: SynthesisError.self) { try factory.preflight() }
    }
}
