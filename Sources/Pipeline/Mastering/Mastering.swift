import AudioIO
import Foundation

/// How every file is mastered before it enters the cache, so that lines by different voices and
/// synthesizers sound like one course. Part of the audio key: changing it re-renders what it affects.
public struct MasteringSettings: Sendable, Equatable, Codable {
    /// Integrated loudness to reach, LUFS (EBU R128 / ITU-R BS.1770).
    public var targetLUFS = -16.0
    /// The highest true peak allowed, dBTP.
    public var truePeakCeiling = -1.0
    /// Leading and trailing audio below this level (dBFS) is silence.
    public var silenceThresholdDB = -50.0
    /// Silence kept before and after the speech, in milliseconds.
    public var padMs = 100.0
    /// The delivery format: wav (PCM 16), flac, ogg (Vorbis), opus or mp3.
    public var format = "wav"
    /// The delivery sample rate; 0 keeps the synthesizer's (Opus: 48 kHz then, unless it is one Opus takes).
    public var sampleRate = 0
    public var channels = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case targetLUFS = "target_lufs", truePeakCeiling = "true_peak", silenceThresholdDB = "silence_db", padMs = "pad_ms",
             format, sampleRate = "sample_rate", channels
    }

    public static let opusRates = [8_000, 12_000, 16_000, 24_000, 48_000]

    /// The rate a file from a synthesizer at `source` Hz is delivered at.
    public func deliveryRate(from source: Int) -> Int {
        let rate = sampleRate == 0 ? source : sampleRate
        if format == "opus" && !Self.opusRates.contains(rate) { return 48_000 }
        return rate
    }

    var canonical: CanonicalJSON {
        .object([
            "target_lufs": .string(String(targetLUFS)), "true_peak": .string(String(truePeakCeiling)),
            "silence_db": .string(String(silenceThresholdDB)), "pad_ms": .string(String(padMs)), "format": .string(format),
            "sample_rate": .int(sampleRate), "channels": .int(channels),
        ])
    }
}

/// What mastering measured and did.
public struct MasteringReport: Sendable, Equatable, Codable {
    public var lufs: Double
    public var truePeakDB: Double
    public var trimmedMs: Int
}

/// Trim, convert, normalize, limit, encode: raw synthesizer audio in, the delivered file out.
public enum Mastering {
    public static func master(_ bytes: [UInt8], settings: MasteringSettings) throws -> (audio: [UInt8], report: MasteringReport) {
        let file = try SoundFile(bytes: bytes)
        return try master(samples: try file.readAll(), info: file.info, settings: settings)
    }

    /// Masters audio already decoded (interleaved floats, as `SoundFile.readAll` gives them).
    static func master(samples decoded: [Float], info: AudioInfo, settings: MasteringSettings) throws -> (audio: [UInt8], report: MasteringReport) {
        var samples = decoded
        let sourceChannels = info.channels

        // 1. Leading and trailing silence, keeping the pad; never anything between the first and last sound.
        let (trimmed, removedFrames) = trim(samples, channels: sourceChannels, thresholdDB: settings.silenceThresholdDB,
                                            padFrames: Int(settings.padMs / 1000 * Double(info.sampleRate)))
        samples = trimmed
        // 2. Channels, then rate (a real resampler).
        samples = remix(samples, from: sourceChannels, to: settings.channels)
        let rate = settings.deliveryRate(from: info.sampleRate)
        samples = try Resampler.resample(samples, from: info.sampleRate, to: rate, channels: settings.channels)
        // 3. Loudness to the target with the true peak under the ceiling.
        let (normalized, measured) = try normalize(samples, sampleRate: rate, channels: settings.channels, settings: settings)
        guard let format = AudioFileFormat(rawValue: settings.format) else {
            throw AudioRejected(reason: "mastering: unknown delivery format \(settings.format)")
        }
        let audio = try SoundFile.encode(samples: normalized, sampleRate: rate, channels: settings.channels, format: format)
        return (audio, MasteringReport(lufs: (measured.integrated * 10).rounded() / 10, truePeakDB: (measured.truePeak * 10).rounded() / 10,
                                       trimmedMs: Int((Double(removedFrames) * 1000 / Double(info.sampleRate)).rounded())))
    }

    /// Cuts leading and trailing frames whose every channel is below the threshold, keeping `padFrames`.
    static func trim(_ samples: [Float], channels: Int, thresholdDB: Double, padFrames: Int) -> ([Float], Int) {
        let frames = samples.count / channels
        let threshold = Float(pow(10, thresholdDB / 20))
        func loud(_ frame: Int) -> Bool {
            for c in 0..<channels where abs(samples[frame * channels + c]) > threshold { return true }
            return false
        }
        guard let first = (0..<frames).first(where: loud), let last = (0..<frames).last(where: loud) else { return (samples, 0) }
        let start = max(0, first - padFrames), end = min(frames, last + 1 + padFrames)
        return (Array(samples[(start * channels)..<(end * channels)]), frames - (end - start))
    }

    static func remix(_ samples: [Float], from source: Int, to target: Int) -> [Float] {
        guard source != target else { return samples }
        let frames = samples.count / source
        var out = [Float](repeating: 0, count: frames * target)
        for f in 0..<frames {
            var sum: Float = 0
            for c in 0..<source { sum += samples[f * source + c] }
            let mono = sum / Float(source)
            for c in 0..<target { out[f * target + c] = target == 1 ? mono : (source == 1 ? mono : samples[f * source + min(c, source - 1)]) }
        }
        return out
    }

    /// Gain to the target loudness, then a look-ahead limiter wherever the true peak would pass the ceiling,
    /// a few rounds until both hold. A file shorter than one 400 ms gating block is measured looped to 3 s:
    /// the loudness it would have if it went on.
    static func normalize(_ samples: [Float], sampleRate: Int, channels: Int, settings: MasteringSettings) throws
        -> ([Float], LoudnessMeasurement) {
        func measure(_ s: [Float]) throws -> LoudnessMeasurement {
            var m = try Loudness.measure(s, sampleRate: sampleRate, channels: channels)
            if !m.integrated.isFinite, !s.isEmpty {
                var looped = s
                while looped.count < 3 * sampleRate * channels { looped += s }
                m.integrated = try Loudness.measure(looped, sampleRate: sampleRate, channels: channels).integrated
            }
            return m
        }
        var current = samples
        var measured = try measure(current)
        guard measured.integrated.isFinite else { return (current, measured) }  // digital silence: nothing to do
        // A gain moves loudness and true peak by exactly its own dB, so only a limiter pass needs a new measurement.
        func applyGain(_ dB: Double) {
            guard dB != 0 else { return }
            let gain = Float(pow(10, dB / 20))
            current = current.map { $0 * gain }
            measured.integrated += dB
            measured.truePeak += dB
        }
        for _ in 0..<6 {
            applyGain(settings.targetLUFS - measured.integrated)
            if measured.truePeak <= settings.truePeakCeiling { break }
            current = limit(current, channels: channels, sampleRate: sampleRate,
                            ceilingDB: settings.truePeakCeiling - 0.3 - max(0, measured.truePeak - settings.truePeakCeiling) * 0.1)
            measured = try measure(current)
            if abs(settings.targetLUFS - measured.integrated) < 0.1 && measured.truePeak <= settings.truePeakCeiling { break }
        }
        // Whatever the rounds left, the ceiling holds.
        if measured.truePeak > settings.truePeakCeiling { applyGain(settings.truePeakCeiling - measured.truePeak - 0.05) }
        return (current, measured)
    }

    /// A look-ahead peak limiter: the gain drops before a peak (5 ms ahead) and recovers over 60 ms.
    static func limit(_ samples: [Float], channels: Int, sampleRate: Int, ceilingDB: Double) -> [Float] {
        let ceiling = Float(pow(10, ceilingDB / 20))
        let frames = samples.count / channels
        var needed = [Float](repeating: 1, count: frames)
        for f in 0..<frames {
            var peak: Float = 0
            for c in 0..<channels { peak = max(peak, abs(samples[f * channels + c])) }
            if peak > ceiling { needed[f] = ceiling / peak }
        }
        let lookahead = max(1, sampleRate * 5 / 1000)
        // The gain at each frame is the smallest needed within the look-ahead window.
        var windowMin = [Float](repeating: 1, count: frames)
        var deque: [Int] = []
        var head = 0
        for f in 0..<(frames + lookahead) {
            if f < frames {
                while deque.count > head && needed[deque.last!] >= needed[f] { deque.removeLast() }
                deque.append(f)
            }
            let out = f - lookahead
            if out >= 0 {
                while deque[head] < out { head += 1 }
                windowMin[out] = needed[deque[head]]
            }
        }
        let release = Float(exp(-1.0 / (0.06 * Double(sampleRate))))
        var gain: Float = 1
        var out = samples
        for f in 0..<frames {
            let target = windowMin[f]
            gain = target < gain ? target : target + (gain - target) * release
            for c in 0..<channels { out[f * channels + c] *= gain }
        }
        return out
    }
}
