import AudioIO
import Pipeline
import PrerenderTesting
import Testing

/// Validation on real files decoded with libsndfile.
@Suite struct AudioCheckTests {
    let wav = AudioCheck(rules: ValidationRules(), expected: AudioOutput(format: "wav", sampleRate: 22_050, channels: 1))
    let text = "Dzień dobry, jak się masz?"

    func rejection(_ bytes: [UInt8], check: AudioCheck? = nil, text: String? = nil) -> String? {
        do {
            _ = try (check ?? wav).check(bytes, text: text ?? self.text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func acceptsRealSpeech() throws {
        let report = try wav.check(try AudioFixtures.speech(text), text: text)
        #expect(report.format == "wav" && report.sampleRate == 22_050 && report.channels == 1)
        #expect(report.durationMs > 1_000 && report.durationMs < 5_000)
        #expect(report.peak > 0.1 && report.clippedRatio < 0.001)
    }

    @Test func acceptsMP3WhenMP3IsExpected() throws {
        let samples = try AudioFixtures.speechSamples(text)
        let mp3 = try AudioFixtures.encode(samples, sampleRate: 22_050, format: .mp3)
        let check = AudioCheck(rules: ValidationRules(), expected: AudioOutput(format: "mp3", sampleRate: 22_050, channels: 1))
        let report = try check.check(mp3, text: text)
        #expect(report.format == "mp3")
        #expect(rejection(mp3)?.contains("expected wav, got mp3") == true)
    }

    @Test func rejectsEmptyFiles() {
        #expect(rejection([])?.contains("empty") == true)
    }

    @Test func rejectsTruncatedFiles() throws {
        let samples = try AudioFixtures.speechSamples(text)
        let mp3 = try AudioFixtures.encode(samples, format: .mp3)
        let check = AudioCheck(rules: ValidationRules(), expected: AudioOutput(format: "mp3", sampleRate: 22_050, channels: 1))
        // A header and a few bytes: a download that broke off.
        let cut = Array(mp3.prefix(300))
        #expect(rejection(cut, check: check) != nil)
        let wavBytes = try AudioFixtures.speech(text)
        #expect(rejection(Array(wavBytes.prefix(44))) != nil)
        #expect(rejection(Array(wavBytes.prefix(wavBytes.count / 2)))?.contains("truncated") == true)
    }

    @Test func rejectsSilence() throws {
        #expect(rejection(try AudioFixtures.silence(seconds: 2))?.contains("silent") == true)
    }

    @Test func rejectsClipping() throws {
        #expect(rejection(try AudioFixtures.clipped(seconds: 2))?.contains("clipped") == true)
    }

    @Test func rejectsTheWrongSampleRateAndChannels() throws {
        let samples = try AudioFixtures.speechSamples(text)
        #expect(rejection(try AudioFixtures.encode(samples, sampleRate: 16_000))?.contains("expected 22050 Hz, got 16000 Hz") == true)
        let stereo = samples.flatMap { [$0, $0] }
        #expect(rejection(try AudioFixtures.encode(stereo, channels: 2))?.contains("expected 1 channel(s), got 2") == true)
    }

    @Test func rejectsWhatIsNotAudio() {
        #expect(rejection(Array("<html>not audio</html>".utf8))?.contains("not a readable audio file") == true)
    }

    @Test func rejectsADurationThatDoesNotFitTheText() throws {
        let long = try AudioFixtures.speech("Dzień dobry, jak się masz? Bardzo dobrze, dziękuję. A ty? Też dobrze.")
        #expect(rejection(long, text: "Tak.")?.contains("ms is outside") == true)
    }
}
