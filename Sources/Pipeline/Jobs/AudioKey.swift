import Foundation

/// The content address of one audio file: sha256 of a canonical JSON of everything that shapes the sound.
/// Lines with the same key, in one lesson or across lessons, share one job and one file.
public enum AudioKey {
    /// Bump when the meaning of a key changes, so that old cache entries are not mistaken for new ones.
    static let version = 1

    /// The text as the key sees it: Unicode NFC, trimmed, runs of whitespace collapsed to one space, lowercased.
    public static func normalize(_ text: String) -> String {
        // Text without a scalar from U+0300 on (Polish included) is NFC already: skip Foundation's normalization.
        let composed = text.unicodeScalars.allSatisfy { $0.value < 0x300 } ? text : text.precomposedStringWithCanonicalMapping
        return composed.collapsingWhitespace().lowercased()
    }

    /// The canonical JSON that is hashed; shown by `--verbose` so a key can be explained.
    static func canonical(text: String, voice: String, synthesizer: SynthesizerKind,
                          parameters: [String: CanonicalJSON], output: AudioOutput, mastering: MasteringSettings? = nil) -> CanonicalJSON {
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
        return CanonicalJSON.object(members)
    }

    /// The key: the hash of `canonicalBytes`. `masteringJSON` is the mastering settings' canonical JSON, written
    /// once for a whole plan.
    static func make(text: String, voice: String, synthesizer: SynthesizerKind,
                     parameters: [String: CanonicalJSON], output: AudioOutput, masteringJSON: [UInt8]?) -> String {
        SHA256.hex(canonicalBytes(text: text, voice: voice, synthesizer: synthesizer, parameters: parameters, output: output,
                                  masteringJSON: masteringJSON))
    }

    /// `canonical(...).bytes`, written in the members' sorted order without building the object: keys are
    /// made for every line of every build. A test holds the two equal.
    static func canonicalBytes(text: String, voice: String, synthesizer: SynthesizerKind,
                               parameters: [String: CanonicalJSON], output: AudioOutput, masteringJSON: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out += #"{"channels":"#.utf8
        out += String(output.channels).utf8
        out += #","format":"#.utf8
        CanonicalJSON.quote(output.format, into: &out)
        if let masteringJSON {
            out += #","mastering":"#.utf8
            out += masteringJSON
        }
        out += #","params":"#.utf8
        CanonicalJSON.object(parameters).write(into: &out)
        out += #","sample_rate":"#.utf8
        out += String(output.sampleRate).utf8
        out += #","synthesizer":"#.utf8
        CanonicalJSON.quote(synthesizer.rawValue, into: &out)
        out += #","text":"#.utf8
        CanonicalJSON.quote(normalize(text), into: &out)
        out += #","v":"#.utf8
        out += String(version).utf8
        out += #","voice":"#.utf8
        CanonicalJSON.quote(voice, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
