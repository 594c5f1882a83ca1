import CSndfile

/// What libsndfile found in a file: container, encoding, rate, channels, length.
public struct AudioInfo: Sendable, Equatable {
    /// The container, by the name the manifest uses: wav, flac, ogg, mp3, aiff, ... or "unknown".
    public var container: String
    /// The encoding inside it: pcm16, pcm24, float, vorbis, opus, mp3, ...
    public var encoding: String
    public var sampleRate: Int
    public var channels: Int
    public var frames: Int

    public var durationSeconds: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }
}

/// Formats this tool writes through libsndfile.
public enum AudioFileFormat: String, Sendable, CaseIterable {
    case wav, flac, ogg, opus, mp3

    /// The file name extension.
    public var fileExtension: String { rawValue }

    var sndfileFormat: Int32 {
        switch self {
        case .wav: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .flac: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .ogg: return Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        case .opus: return Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)
        case .mp3: return Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        }
    }
}

extension AudioInfo {
    init(_ info: SF_INFO) {
        let major = Int(info.format) & SF_FORMAT_TYPEMASK
        let minor = Int(info.format) & SF_FORMAT_SUBMASK
        let containers: [Int: String] = [
            SF_FORMAT_WAV: "wav", SF_FORMAT_WAVEX: "wav", SF_FORMAT_RF64: "wav",
            SF_FORMAT_AIFF: "aiff", SF_FORMAT_AU: "au", SF_FORMAT_RAW: "raw",
            SF_FORMAT_FLAC: "flac", SF_FORMAT_OGG: "ogg", SF_FORMAT_MPEG: "mp3",
            SF_FORMAT_CAF: "caf", SF_FORMAT_W64: "w64",
        ]
        let encodings: [Int: String] = [
            SF_FORMAT_PCM_S8: "pcm8", SF_FORMAT_PCM_U8: "pcm8", SF_FORMAT_PCM_16: "pcm16",
            SF_FORMAT_PCM_24: "pcm24", SF_FORMAT_PCM_32: "pcm32", SF_FORMAT_FLOAT: "float",
            SF_FORMAT_DOUBLE: "double", SF_FORMAT_ULAW: "ulaw", SF_FORMAT_ALAW: "alaw",
            SF_FORMAT_VORBIS: "vorbis", SF_FORMAT_OPUS: "opus",
            SF_FORMAT_MPEG_LAYER_I: "mp1", SF_FORMAT_MPEG_LAYER_II: "mp2",
            SF_FORMAT_MPEG_LAYER_III: "mp3",
        ]
        var container = containers[major] ?? "unknown"
        if major == SF_FORMAT_OGG && minor == SF_FORMAT_OPUS { container = "opus" }
        self.init(
            container: container,
            encoding: encodings[minor] ?? "unknown",
            sampleRate: Int(info.samplerate),
            channels: Int(info.channels),
            frames: Int(info.frames)
        )
    }
}
