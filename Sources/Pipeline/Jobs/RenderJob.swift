import Foundation

/// One unit of work on the queue: speak this text in this voice and return valid audio.
/// Carries everything a worker on any machine needs; never a secret.
public struct RenderJob: Sendable, Equatable, Codable {
    /// The audio key: where the result goes in the cache.
    public var key: String
    /// The text to speak, as the first item with this key wrote it.
    public var text: String
    /// The voice id (from pipeline.yaml's voices).
    public var voice: String
    public var synthesizer: SynthesizerKind
    /// What the synthesizer is asked for, beyond text and voice (espeak: voice, speed, pitch; murf: voice_id, style, rate, pitch, ...).
    public var parameters: [String: ParameterValue]
    public var format: String
    public var sampleRate: Int
    public var channels: Int
    /// `lesson/item` of the first item that asked for this audio, for logs. Not part of the key.
    public var item: String?
    /// For Murf: how to say some words of the text (its `pronunciationDictionary`).
    public var pronunciations: [String: SpokenText.MurfPronunciation]?
    /// How the synthesizer's audio is mastered into the delivered file; nil delivers it as it comes.
    public var mastering: MasteringSettings?

    enum CodingKeys: String, CodingKey {
        case key, text, voice, synthesizer, parameters = "params", format, sampleRate = "sample_rate", channels, item, pronunciations,
             mastering
    }

    /// What the synthesizer produces (and is asked for).
    public var output: AudioOutput { AudioOutput(format: format, sampleRate: sampleRate, channels: channels) }

    /// What goes into the cache: the mastered file's format, rate and channels.
    public var delivered: AudioOutput {
        guard let mastering else { return output }
        return AudioOutput(format: mastering.format, sampleRate: mastering.deliveryRate(from: sampleRate), channels: mastering.channels)
    }

    /// The cached file's extension.
    public var fileFormat: String { delivered.format }

    /// A short human description: RQ shows it as the job's description.
    public var summary: String {
        let short = text.count > 60 ? String(text.prefix(57)) + "..." : text
        return "\(synthesizer.rawValue) \(voice): \(short)"
    }
}

extension SynthesizerKind: Codable {}

/// A parameter value: text or a whole number.
public enum ParameterValue: Sendable, Equatable, Codable {
    case string(String)
    case int(Int)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int.self) { self = .int(n) } else { self = .string(try container.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .int(let n): try container.encode(n)
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int? { if case .int(let n) = self { return n } else { return nil } }

    var canonical: CanonicalJSON {
        switch self {
        case .string(let s): return .string(s)
        case .int(let n): return .int(n)
        }
    }
}

extension RenderJob {
    /// The RQ function name a job's `data` names. No Python worker runs it; it says what the job is.
    public static let functionName = "prerender.synthesize"

    /// RQ's job `data` with the JSON serializer: `[func_name, instance, args, kwargs]`.
    public func rqData() -> [UInt8] {
        var encoder = DataEncoder()
        return encoder.rqData(self)
    }

    /// Writes jobs' `data` directly as bytes (keys sorted, as JSONEncoder's `.sortedKeys` would), since every
    /// job of a build is encoded; the mastering settings, the same for a whole build, are encoded once.
    struct DataEncoder {
        private var mastering: (settings: MasteringSettings, json: [UInt8])?

        mutating func rqData(_ job: RenderJob) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(384)
            out += #"[""#.utf8
            out += RenderJob.functionName.utf8
            out += #"",null,[],{"channels":"#.utf8
            out += String(job.channels).utf8
            out += #","format":"#.utf8
            CanonicalJSON.quote(job.format, into: &out)
            if let item = job.item {
                out += #","item":"#.utf8
                CanonicalJSON.quote(item, into: &out)
            }
            out += #","key":"#.utf8
            CanonicalJSON.quote(job.key, into: &out)
            if let settings = job.mastering {
                if mastering?.settings != settings { mastering = (settings, Self.json(settings)) }
                out += #","mastering":"#.utf8
                out += mastering!.json
            }
            out += #","params":"#.utf8
            CanonicalJSON.object(job.parameters.mapValues { $0.canonical }).write(into: &out)
            if let pronunciations = job.pronunciations {
                out += #","pronunciations":"#.utf8
                out += Self.json(pronunciations)
            }
            out += #","sample_rate":"#.utf8
            out += String(job.sampleRate).utf8
            out += #","synthesizer":"#.utf8
            CanonicalJSON.quote(job.synthesizer.rawValue, into: &out)
            out += #","text":"#.utf8
            CanonicalJSON.quote(job.text, into: &out)
            out += #","voice":"#.utf8
            CanonicalJSON.quote(job.voice, into: &out)
            out += "}]".utf8
            return out
        }

        private static func json<Value: Encodable>(_ value: Value) -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(value)).map(Array.init) ?? Array("null".utf8)
        }
    }

    /// Reads a job back from RQ's `data` (plain JSON; zlib-compressed data from other producers is not ours).
    public static func fromRQData(_ data: [UInt8]) throws -> RenderJob {
        let payload = try JSONDecoder().decode(RQPayload.self, from: Data(data))
        guard payload.function == functionName else {
            throw JobDataError(message: "job calls \(payload.function), not \(functionName)")
        }
        return payload.job
    }
}

public struct JobDataError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "job data: \(message)" }
}

/// `[func_name, instance, args, kwargs]`, with this pipeline's job as kwargs.
private struct RQPayload: Decodable {
    var function: String
    var job: RenderJob

    init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        function = try container.decode(String.self)
        _ = try container.decodeNil()
        _ = try container.decode([String].self)
        job = try container.decode(RenderJob.self)
    }
}
