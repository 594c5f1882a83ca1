import AudioIO

/// What a valid audio file measured: the facts the manifest records.
public struct AudioReport: Sendable, Equatable, Codable {
    public var format: String
    public var sampleRate: Int
    public var channels: Int
    public var frames: Int
    public var durationMs: Int
    /// The loudest sample, 0 to 1.
    public var peak: Double
    /// The share of samples at full scale.
    public var clippedRatio: Double
    /// Mastered audio: integrated loudness (LUFS), true peak (dBTP), silence trimmed (ms).
    public var lufs: Double?
    public var truePeakDB: Double?
    public var trimmedMs: Int?

    public init(format: String, sampleRate: Int, channels: Int, frames: Int, durationMs: Int, peak: Double, clippedRatio: Double,
                lufs: Double? = nil, truePeakDB: Double? = nil, trimmedMs: Int? = nil) {
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
        self.durationMs = durationMs
        self.peak = peak
        self.clippedRatio = clippedRatio
        self.lufs = lufs
        self.truePeakDB = truePeakDB
        self.trimmedMs = trimmedMs
    }

    enum CodingKeys: String, CodingKey {
        case format, sampleRate = "sample_rate", channels, frames, durationMs = "duration_ms", peak, clippedRatio = "clipped_ratio",
             lufs, truePeakDB = "true_peak_db", trimmedMs = "trimmed_ms"
    }

    /// The report as JSON with sorted keys, written directly (every finished job sends one); what
    /// JSONEncoder with `.sortedKeys` would write, which a test checks. A number that is not finite is null.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(200)
        func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
        out += #"{"channels":\#(channels),"clipped_ratio":\#(number(clippedRatio)),"duration_ms":\#(durationMs),"format":"#.utf8
        CanonicalJSON.quote(format, into: &out)
        out += #","frames":\#(frames)"#.utf8
        if let lufs { out += #","lufs":\#(number(lufs))"#.utf8 }
        out += #","peak":\#(number(peak)),"sample_rate":\#(sampleRate)"#.utf8
        if let trimmedMs { out += #","trimmed_ms":\#(trimmedMs)"#.utf8 }
        if let truePeakDB { out += #","true_peak_db":\#(number(truePeakDB))"#.utf8 }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Why a file was refused. The job fails with this reason.
public struct AudioRejected: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid audio: \(reason)" }
}

/// Opens and decodes a whole file with libsndfile and checks it against the rules before it may enter the cache.
public struct AudioCheck: Sendable {
    public var rules: ValidationRules
    public var expected: AudioOutput

    public init(rules: ValidationRules, expected: AudioOutput) {
        self.rules = rules
        self.expected = expected
    }

    /// The duration a line of this many characters may have, in milliseconds.
    public func durationBounds(characters: Int) -> ClosedRange<Double> {
        let low = max(rules.minDurationMs, Double(characters) * rules.minMsPerChar)
        let high = max(low, rules.maxExtraMs + Double(characters) * rules.maxMsPerChar)
        return low...high
    }

    public func check(_ bytes: [UInt8], text: String) throws -> AudioReport {
        try decodeAndCheck(bytes, text: text).report
    }

    /// Checks a file and hands back what was decoded, so that the caller (mastering) need not decode it again.
    func decodeAndCheck(_ bytes: [UInt8], text: String) throws -> (report: AudioReport, info: AudioInfo, samples: [Float]) {
        if bytes.isEmpty { throw AudioRejected(reason: "the file is empty (0 bytes)") }
        let file: SoundFile
        do {
            file = try SoundFile(bytes: bytes)
        } catch {
            throw AudioRejected(reason: "not a readable audio file (\(bytes.count) bytes): \(error)")
        }
        let info = file.info
        guard info.container == expected.format else {
            throw AudioRejected(reason: "expected \(expected.format), got \(info.container) (\(info.encoding))")
        }
        guard info.sampleRate == expected.sampleRate else {
            throw AudioRejected(reason: "expected \(expected.sampleRate) Hz, got \(info.sampleRate) Hz")
        }
        guard info.channels == expected.channels else {
            throw AudioRejected(reason: "expected \(expected.channels) channel(s), got \(info.channels)")
        }
        guard info.frames > 0 else { throw AudioRejected(reason: "no audio frames") }
        if let missing = file.missingData {
            throw AudioRejected(reason: "truncated: the header announces \(missing.announced) bytes of audio, only \(missing.present) are present")
        }
        let samples: [Float]
        do {
            samples = try file.readAll()
        } catch {
            throw AudioRejected(reason: "\(error)")
        }
        let frames = samples.count / info.channels
        guard frames > 0 else { throw AudioRejected(reason: "no audio frames decode") }
        let durationMs = Double(frames) * 1000 / Double(info.sampleRate)
        let characters = AudioKey.normalize(text).count
        let bounds = durationBounds(characters: characters)
        guard bounds.contains(durationMs) else {
            throw AudioRejected(reason: "\(Int(durationMs)) ms is outside \(Int(bounds.lowerBound))...\(Int(bounds.upperBound)) ms expected for \(characters) characters of text")
        }
        var peak: Float = 0
        var clipped = 0
        for sample in samples {
            let magnitude = abs(sample)
            if magnitude > peak { peak = magnitude }
            if magnitude >= 0.999 { clipped += 1 }
        }
        guard Double(peak) >= rules.minPeak else {
            throw AudioRejected(reason: "silent: the loudest sample is \(Self.format(Double(peak))), below \(rules.minPeak)")
        }
        let clippedRatio = Double(clipped) / Double(samples.count)
        guard clippedRatio <= rules.maxClippedRatio else {
            throw AudioRejected(reason: "clipped: \(Self.format(clippedRatio * 100))% of samples at full scale, above \(Self.format(rules.maxClippedRatio * 100))%")
        }
        let report = AudioReport(format: info.container, sampleRate: info.sampleRate, channels: info.channels, frames: frames,
                                 durationMs: Int(durationMs.rounded()), peak: Double(peak), clippedRatio: clippedRatio)
        return (report, info, samples)
    }

    /// Integrated loudness and true peak of a file, rounded to 0.1.
    static func loudness(of bytes: [UInt8]) throws -> (lufs: Double, truePeakDB: Double) {
        let file = try SoundFile(bytes: bytes)
        let measured = try Loudness.measure(try file.readAll(), sampleRate: file.info.sampleRate, channels: file.info.channels)
        return ((measured.integrated * 10).rounded() / 10, (measured.truePeak * 10).rounded() / 10)
    }

    private static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        return String(scaled)
    }
}
