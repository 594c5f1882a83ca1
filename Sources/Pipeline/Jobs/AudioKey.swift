import Foundation

/// The content address of one audio file: sha256 of a canonical JSON of everything that shapes the sound.
/// Lines with the same key, in one lesson or across lessons, share one job and one file.
public enum AudioKey {
    /// Bump when the meaning of a key changes, so that old cache entries are not mistaken for new ones.
    static let version = 1

    /// The text as the key sees it: Unicode NFC, trimmed, runs of whitespace collapsed to one space, lowercased.
    public static func normalize(_ text: String) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        let words = composed.split(whereSeparator: { $0.isWhitespace })
        return words.joined(separator: " ").lowercased()
    }

    /// The canonical JSON that is hashed; shown by `--verbose` so a key can be explained.
    static func canonical(text: String, voice: String, synthesizer: SynthesizerKind,
                          parameters: [String: CanonicalJSON], output: AudioOutput, mastering: MasteringSettings? = nil) -> String {
        var members: [String: CanonicalJSON] = [
            "v": .int(version),
            "text": .string(normalize(text)),
            "voice": .string(voice),
            "synthesizer": .string(synthesizer.rawValue),
            "params": .object(parameters),
            "format": .string(output.format),
            "sample_rate": .int(output.sampleRate),
            "channels": .int(output.channels),
        ]
        if let mastering { members["mastering"] = mastering.canonical }
        return CanonicalJSON.object(members).text
    }

    static func make(text: String, voice: String, synthesizer: SynthesizerKind,
                            parameters: [String: CanonicalJSON], output: AudioOutput, mastering: MasteringSettings? = nil) -> String {
        SHA256.hex(Array(canonical(text: text, voice: voice, synthesizer: synthesizer, parameters: parameters, output: output,
                                   mastering: mastering).utf8))
    }
}
