import CEbur128

/// Integrated loudness and true peak of audio, per ITU-R BS.1770 / EBU R128, through libebur128.
/// Owns one `ebur128_state` for the length of a measurement.
public struct LoudnessMeasurement: Sendable, Equatable {
    /// LUFS; -inf (as -Double.infinity) for silence or audio shorter than one 400 ms gating block.
    public var integrated: Double
    /// dBTP: the highest true (inter-sample) peak over all channels.
    public var truePeak: Double
}

public enum Loudness {
    /// Measures interleaved float samples.
    public static func measure(_ samples: [Float], sampleRate: Int, channels: Int) throws -> LoudnessMeasurement {
        guard let state = ebur128_init(UInt32(channels), UInt(sampleRate), Int32(EBUR128_MODE_I.rawValue | EBUR128_MODE_TRUE_PEAK.rawValue)) else {
            throw AudioError(.unreadable, "libebur128 cannot measure \(channels) channel(s) at \(sampleRate) Hz")
        }
        defer {
            var owned: UnsafeMutablePointer<ebur128_state>? = state
            ebur128_destroy(&owned)
        }
        let frames = samples.count / max(channels, 1)
        let added = samples.withUnsafeBufferPointer { ebur128_add_frames_float(state, $0.baseAddress, frames) }
        guard added == EBUR128_SUCCESS.rawValue else { throw AudioError(.unreadable, "libebur128 could not take the audio (\(added))") }
        var integrated = 0.0
        if ebur128_loudness_global(state, &integrated) != EBUR128_SUCCESS.rawValue { integrated = -.infinity }
        var peak = 0.0
        for channel in 0..<channels {
            var channelPeak = 0.0
            if ebur128_true_peak(state, UInt32(channel), &channelPeak) == EBUR128_SUCCESS.rawValue { peak = max(peak, channelPeak) }
        }
        return LoudnessMeasurement(integrated: integrated, truePeak: peak > 0 ? 20 * log10(peak) : -.infinity)
    }
}

import Foundation
