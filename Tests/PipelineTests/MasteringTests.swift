import AudioIO
import Foundation
@testable import Pipeline
import PrerenderTesting
import Testing

/// Mastering real speech: loudness to the target, the true-peak ceiling, silence trimmed to the pad,
/// delivery formats through libsndfile, a real resampler, and keys that follow the settings.
@Suite struct MasteringTests {
    let settings = MasteringSettings()

    /// espeak-ng speech scaled to an integrated loudness, as a 16-bit WAV.
    func speech(at lufs: Double, leadingSilence: Double = 0) throws -> [UInt8] {
        let samples = try AudioFixtures.speechSamples("Dzień dobry, jak się masz? Bardzo dobrze, dziękuję.")
        let measured = try Loudness.measure(samples, sampleRate: 22_050, channels: 1)
        let gain = Float(pow(10, (lufs - measured.integrated) / 20))
        let silence = [Float](repeating: 0, count: Int(leadingSilence * 22_050))
        return try AudioFixtures.encode(silence + samples.map { max(-1, min(1, $0 * gain)) }, sampleRate: 22_050)
    }

    func measure(_ bytes: [UInt8]) throws -> (LoudnessMeasurement, AudioInfo, [Float]) {
        let file = try SoundFile(bytes: bytes)
        let samples = try file.readAll()
        return (try Loudness.measure(samples, sampleRate: file.info.sampleRate, channels: file.info.channels), file.info, samples)
    }

    @Test(arguments: [-30.0, -8.0])
    func quietAndLoudFilesLandOnTheTarget(_ input: Double) throws {
        let (audio, report) = try Mastering.master(try speech(at: input), settings: settings)
        let (measured, _, _) = try measure(audio)
        #expect(abs(measured.integrated - settings.targetLUFS) <= 0.5, "\(input) LUFS in, \(measured.integrated) out")
        #expect(measured.truePeak <= settings.truePeakCeiling + 0.05, "true peak \(measured.truePeak)")
        #expect(abs(report.lufs - measured.integrated) < 0.15 && report.truePeakDB <= settings.truePeakCeiling)
    }

    @Test func leadingSilenceIsTrimmedToThePad() throws {
        let (audio, report) = try Mastering.master(try speech(at: -20, leadingSilence: 2), settings: settings)
        let (_, info, samples) = try measure(audio)
        let threshold = Float(pow(10, settings.silenceThresholdDB / 20))
        let firstSound = try #require(samples.firstIndex { abs($0) > threshold })
        let leadMs = Double(firstSound) * 1000 / Double(info.sampleRate)
        #expect(abs(leadMs - 100) <= 5, "\(leadMs) ms of silence kept before the speech")
        #expect(report.trimmedMs >= 1_900, "\(report.trimmedMs) ms trimmed")
        let lastSound = try #require(samples.lastIndex { abs($0) > threshold })
        #expect(abs(Double(samples.count - 1 - lastSound) * 1000 / Double(info.sampleRate) - 100) <= 5)
    }

    @Test(arguments: ["wav", "flac", "ogg", "opus", "mp3"], [1, 2])
    func everyFormatRoundTripsThroughLibsndfile(_ format: String, _ channels: Int) throws {
        var settings = settings
        settings.format = format
        settings.sampleRate = 24_000
        settings.channels = channels
        let (audio, _) = try Mastering.master(try speech(at: -20), settings: settings)
        let info = try SoundFile(bytes: audio).info
        #expect(info.container == format && info.sampleRate == 24_000 && info.channels == channels, "\(info)")
        let check = AudioCheck(rules: ValidationRules(), expected: AudioOutput(format: format, sampleRate: 24_000, channels: channels))
        _ = try check.check(audio, text: "Dzień dobry, jak się masz? Bardzo dobrze, dziękuję.")
    }

    @Test func opusGets48kHzWhenTheSourceRateIsNotOneItTakes() throws {
        var settings = settings
        settings.format = "opus"
        let (audio, _) = try Mastering.master(try speech(at: -20), settings: settings)
        #expect(try SoundFile(bytes: audio).info.sampleRate == 48_000)
    }

    @Test func resamplingKeepsThePitch() throws {
        // A 1 kHz tone at 22,050 Hz resampled to 48 kHz is still 1 kHz: count the zero crossings.
        let tone = (0..<22_050).map { Float(sin(2 * Double.pi * 1_000 * Double($0) / 22_050) * 0.5) }
        let resampled = try Resampler.resample(tone, from: 22_050, to: 48_000, channels: 1)
        #expect(abs(resampled.count - 48_000) <= 2)
        let crossings = zip(resampled, resampled.dropFirst()).filter { $0.0 < 0 && $0.1 >= 0 }.count
        #expect(abs(crossings - 1_000) <= 2, "\(crossings) cycles in a second")
    }

    @Test func theSettingsAreInTheKey() {
        let lesson = Lesson(id: "l", title: "T", source: "l.yaml", items: [LessonItem(id: "a", text: "Tak.", voice: "pl-PL-kasia")])
        var config = PipelineConfig()
        let base = BuildPlan(lessons: [lesson], config: config).jobs[0].key
        #expect(BuildPlan(lessons: [lesson], config: config).jobs[0].key == base, "nothing changed, nothing to render")
        config.mastering?.targetLUFS = -18
        #expect(BuildPlan(lessons: [lesson], config: config).jobs[0].key != base)
        config.mastering?.targetLUFS = -16
        config.mastering?.format = "mp3"
        let mp3 = BuildPlan(lessons: [lesson], config: config).jobs[0]
        #expect(mp3.key != base && mp3.fileFormat == "mp3")
        config.mastering = nil
        #expect(BuildPlan(lessons: [lesson], config: config).jobs[0].key != base)
    }
}
