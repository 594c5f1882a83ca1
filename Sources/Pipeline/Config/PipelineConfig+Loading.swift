import Foundation
import RedisClient
import Yams

extension PipelineConfig {
    /// Reads `pipeline.yaml` (when `path` names one; `required` says whether it must exist),
    /// then applies the environment. Every problem is reported with its position.
    public static func load(path: String, required: Bool, environment: [String: String]) throws -> PipelineConfig {
        var config = PipelineConfig()
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InvalidInput([Diagnostic(path: path, line: 0, column: 0, message: "cannot read the file")])
            }
            var reader = YAMLReader(path: path)
            if let root = reader.parse(String(decoding: data, as: UTF8.self)) {
                config.read(root, &reader)
            }
            if !reader.diagnostics.isEmpty { throw InvalidInput(reader.diagnostics) }
            config.source = path
        } else if required {
            throw InvalidInput([Diagnostic(path: path, line: 0, column: 0, message: "no such configuration file")])
        }
        try config.applyEnvironment(environment)
        return config
    }

    // MARK: - pipeline.yaml

    private mutating func read(_ root: Node, _ r: inout YAMLReader) {
        guard let top = r.mapping(root, "pipeline.yaml", allowed: [
            "lessons", "output", "synthesizer", "redis", "queue", "speakers", "voices", "synthesizers", "validation", "pools",
            "pronunciations", "rules", "mastering",
        ]) else { return }
        if let n = top["mastering"] { readMastering(n, &r) }
        if let n = top["pronunciations"] { pronouncer.entries = r.pronunciations(n, "pronunciations") }
        if let n = top["rules"] { pronouncer.rules = r.textRules(n, "rules") }
        if let n = top["pools"], let m = r.mapping(n, "pools") {
            pools = [:]
            for entry in m.entries {
                guard let p = r.mapping(entry.value, "pools.\(entry.key)", allowed: ["queues", "workers", "timeout"]) else { continue }
                var pool = WorkerPoolSettings(queues: [entry.key], workers: 1, timeout: queue.jobTimeout)
                if let q = p["queues"], let list = r.sequence(q, "pools.\(entry.key).queues") {
                    let names = list.compactMap { r.string($0, "pools.\(entry.key).queues") }
                    if names.isEmpty { r.report(at: q, "pools.\(entry.key).queues must name at least one queue") } else { pool.queues = names }
                }
                if let v = p["workers"].flatMap({ r.int($0, "pools.\(entry.key).workers", in: 1...256) }) { pool.workers = v }
                if let v = p["timeout"].flatMap({ r.int($0, "pools.\(entry.key).timeout", in: 1...86_400) }) { pool.timeout = v }
                pools[entry.key] = pool
            }
        }
        if let n = top["lessons"], let v = r.string(n, "lessons") { lessonsDirectory = v }
        if let n = top["output"], let v = r.string(n, "output") { outputDirectory = v }
        if let n = top["synthesizer"], let v = r.string(n, "synthesizer") {
            if let kind = SynthesizerKind(rawValue: v) { synthesizer = kind } else {
                r.report(at: n, "synthesizer must be one of \(SynthesizerKind.allCases.map(\.rawValue).joined(separator: ", ")), not '\(v)'")
            }
        }
        if let n = top["redis"], let m = r.mapping(n, "redis", allowed: ["url"]) {
            if let u = m["url"], let v = r.string(u, "redis.url") {
                if let problem = Self.redisURLProblem(v) { r.report(at: u, "redis.url: \(problem)") } else { redisURL = v }
            }
        }
        if let n = top["queue"] { readQueue(n, &r) }
        if let n = top["speakers"], let m = r.mapping(n, "speakers") {
            for entry in m.entries {
                if let v = r.string(entry.value, "speakers.\(entry.key)") { speakers[entry.key] = v }
            }
        }
        if let n = top["voices"], let m = r.mapping(n, "voices") {
            voices = [:]
            for entry in m.entries { readVoice(entry.key, entry.value, &r) }
        }
        if let n = top["synthesizers"], let m = r.mapping(n, "synthesizers", allowed: ["espeak", "murf"]) {
            if let e = m["espeak"] { readEspeak(e, &r) }
            if let e = m["murf"] { readMurf(e, &r) }
        }
        if let n = top["validation"] { readValidation(n, &r) }
        for (speaker, voice) in speakers.sorted(by: { $0.key < $1.key }) where voices[voice] == nil {
            let node = top["speakers"].flatMap { r.mappingValue($0, speaker) } ?? root
            r.report(at: node, "speaker '\(speaker)' maps to voice '\(voice)', which is not under voices:")
        }
    }

    private mutating func readQueue(_ node: Node, _ r: inout YAMLReader) {
        guard let m = r.mapping(node, "queue", allowed: [
            "name", "workers", "job_timeout", "job_ttl", "result_ttl", "dedup_ttl", "max_retries", "retry_delay",
            "retry_max_delay", "heartbeat_timeout",
        ]) else { return }
        if let n = m["name"], let v = r.string(n, "queue.name") {
            if v.range(of: "^[A-Za-z0-9_.:-]+$", options: .regularExpression) != nil { queue.name = v } else {
                r.report(at: n, "queue.name may hold letters, digits and _ . : - only")
            }
        }
        if let n = m["workers"], let v = r.int(n, "queue.workers", in: 0...256) { queue.workers = v }
        if let n = m["job_timeout"], let v = r.int(n, "queue.job_timeout", in: 1...86_400) { queue.jobTimeout = v }
        if let n = m["job_ttl"], let v = r.int(n, "queue.job_ttl", in: 1...31_536_000) { queue.jobTTL = v }
        if let n = m["result_ttl"], let v = r.int(n, "queue.result_ttl", in: 1...31_536_000) { queue.resultTTL = v }
        if let n = m["dedup_ttl"], let v = r.int(n, "queue.dedup_ttl", in: 1...31_536_000) { queue.dedupTTL = v }
        if let n = m["max_retries"], let v = r.int(n, "queue.max_retries", in: 0...100) { queue.maxRetries = v }
        if let n = m["retry_delay"], let v = r.int(n, "queue.retry_delay", in: 0...86_400) { queue.retryDelay = v }
        if let n = m["retry_max_delay"], let v = r.int(n, "queue.retry_max_delay", in: 0...86_400) { queue.retryMaxDelay = v }
        if let n = m["heartbeat_timeout"], let v = r.int(n, "queue.heartbeat_timeout", in: 3...3_600) { queue.heartbeatTimeout = v }
    }

    private mutating func readVoice(_ id: String, _ node: Node, _ r: inout YAMLReader) {
        guard let m = r.mapping(node, "voices.\(id)", allowed: ["espeak", "murf"]) else { return }
        var settings = VoiceSettings()
        if let n = m["espeak"], let e = r.mapping(n, "voices.\(id).espeak", allowed: ["voice", "speed", "pitch"]) {
            var voice = EspeakVoice(voice: "pl")
            if let v = e["voice"].flatMap({ r.string($0, "voices.\(id).espeak.voice") }) {
                if v.range(of: "^[A-Za-z0-9_+-]+$", options: .regularExpression) != nil { voice.voice = v } else {
                    r.report(at: e["voice"], "voices.\(id).espeak.voice must be an espeak-ng voice name such as pl or pl+f3")
                }
            }
            if let v = e["speed"].flatMap({ r.int($0, "voices.\(id).espeak.speed", in: 80...450) }) { voice.speed = v }
            if let v = e["pitch"].flatMap({ r.int($0, "voices.\(id).espeak.pitch", in: 0...99) }) { voice.pitch = v }
            settings.espeak = voice
        }
        if let n = m["murf"], let e = r.mapping(n, "voices.\(id).murf", allowed: ["voice_id", "style"]) {
            let voiceId = e["voice_id"].flatMap { r.string($0, "voices.\(id).murf.voice_id") } ?? id
            settings.murf = MurfVoice(voiceId: voiceId, style: e["style"].flatMap { r.string($0, "voices.\(id).murf.style") })
        }
        voices[id] = settings
    }

    private mutating func readEspeak(_ node: Node, _ r: inout YAMLReader) {
        guard let m = r.mapping(node, "synthesizers.espeak", allowed: [
            "command", "format", "sample_rate", "channels", "timeout", "rate_limit", "circuit_breaker",
        ]) else { return }
        if let n = m["rate_limit"] { espeak.rateLimit = Self.readRateLimit(n, "synthesizers.espeak.rate_limit", unlimited: RateLimit(), &r) }
        if let n = m["circuit_breaker"] { espeak.circuitBreaker = Self.readCircuit(n, "synthesizers.espeak.circuit_breaker", espeak.circuitBreaker, &r) }
        if let v = m["command"].flatMap({ r.string($0, "synthesizers.espeak.command") }) { espeak.command = v }
        if let n = m["format"], let v = r.string(n, "synthesizers.espeak.format"), v != "wav" {
            r.report(at: n, "synthesizers.espeak.format: espeak-ng writes wav; other formats are not supported yet")
        }
        if let n = m["sample_rate"], let v = r.int(n, "synthesizers.espeak.sample_rate"), v != 22_050 {
            r.report(at: n, "synthesizers.espeak.sample_rate: espeak-ng writes 22050 Hz; resampling is not supported yet")
        }
        if let n = m["channels"], let v = r.int(n, "synthesizers.espeak.channels"), v != 1 {
            r.report(at: n, "synthesizers.espeak.channels: espeak-ng writes mono (1)")
        }
        if let v = m["timeout"].flatMap({ r.double($0, "synthesizers.espeak.timeout", in: 1...3600) }) { espeak.timeout = v }
    }

    private mutating func readMurf(_ node: Node, _ r: inout YAMLReader) {
        guard let m = r.mapping(node, "synthesizers.murf", allowed: [
            "base_url", "api_key_env", "format", "sample_rate", "channels", "model_version", "locale",
            "connect_timeout", "request_timeout", "max_download_bytes", "rate_limit", "circuit_breaker",
        ]) else { return }
        if let n = m["rate_limit"] { murf.rateLimit = Self.readRateLimit(n, "synthesizers.murf.rate_limit", unlimited: murf.rateLimit, &r) }
        if let n = m["circuit_breaker"] { murf.circuitBreaker = Self.readCircuit(n, "synthesizers.murf.circuit_breaker", murf.circuitBreaker, &r) }
        if let n = m["base_url"], let v = r.string(n, "synthesizers.murf.base_url") {
            if v.hasPrefix("http://") || v.hasPrefix("https://") { murf.baseURL = v } else {
                r.report(at: n, "synthesizers.murf.base_url must start with https:// (or http:// for a local server)")
            }
        }
        if let n = m["api_key_env"], let v = r.string(n, "synthesizers.murf.api_key_env") {
            if v.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil { murf.apiKeyEnv = v } else {
                r.report(at: n, "synthesizers.murf.api_key_env names an environment variable (such as MURF_API_KEY), not the key itself")
            }
        }
        if let n = m["format"], let v = r.string(n, "synthesizers.murf.format") {
            if MurfSettings.formats.contains(v.lowercased()) { murf.output.format = v.lowercased() } else {
                r.report(at: n, "synthesizers.murf.format must be one of \(MurfSettings.formats.joined(separator: ", "))")
            }
        }
        if let n = m["sample_rate"], let v = r.int(n, "synthesizers.murf.sample_rate") {
            if MurfSettings.sampleRates.contains(v) { murf.output.sampleRate = v } else {
                r.report(at: n, "synthesizers.murf.sample_rate must be one of \(MurfSettings.sampleRates.map(String.init).joined(separator: ", "))")
            }
        }
        if let v = m["channels"].flatMap({ r.int($0, "synthesizers.murf.channels", in: 1...2) }) { murf.output.channels = v }
        if let v = m["model_version"].flatMap({ r.string($0, "synthesizers.murf.model_version") }) { murf.modelVersion = v }
        if let v = m["locale"].flatMap({ r.string($0, "synthesizers.murf.locale") }) { murf.locale = v }
        if let v = m["connect_timeout"].flatMap({ r.double($0, "synthesizers.murf.connect_timeout", in: 0.1...600) }) { murf.connectTimeout = v }
        if let v = m["request_timeout"].flatMap({ r.double($0, "synthesizers.murf.request_timeout", in: 0.1...3600) }) { murf.requestTimeout = v }
        if let v = m["max_download_bytes"].flatMap({ r.int($0, "synthesizers.murf.max_download_bytes", in: 1024...(1 << 31)) }) {
            murf.maxDownloadBytes = v
        }
    }

    /// `rate_limit: {per_minute, burst, concurrency}`; `rate_limit: none` removes every limit.
    private static func readRateLimit(_ node: Node, _ what: String, unlimited defaults: RateLimit, _ r: inout YAMLReader) -> RateLimit {
        if case .scalar(let scalar) = node, ["none", "off", "false"].contains(scalar.string) { return RateLimit() }
        guard let m = r.mapping(node, what, allowed: ["per_minute", "burst", "concurrency"]) else { return defaults }
        var limit = defaults
        if let n = m["per_minute"] { limit.perMinute = Self.optionalInt(n, "\(what).per_minute", 1...1_000_000, &r) }
        if let v = m["burst"].flatMap({ r.int($0, "\(what).burst", in: 1...10_000) }) { limit.burst = v }
        if let n = m["concurrency"] { limit.concurrency = Self.optionalInt(n, "\(what).concurrency", 1...10_000, &r) }
        return limit
    }

    /// A number, or `none` for no limit.
    private static func optionalInt(_ node: Node, _ what: String, _ range: ClosedRange<Int>, _ r: inout YAMLReader) -> Int? {
        if case .scalar(let scalar) = node, ["none", "null", "~", ""].contains(scalar.string) { return nil }
        return r.int(node, what, in: range)
    }

    private static func readCircuit(_ node: Node, _ what: String, _ defaults: CircuitBreakerSettings, _ r: inout YAMLReader) -> CircuitBreakerSettings {
        guard let m = r.mapping(node, what, allowed: ["failures", "cooldown"]) else { return defaults }
        var settings = defaults
        if let v = m["failures"].flatMap({ r.int($0, "\(what).failures", in: 0...10_000) }) { settings.failures = v }
        if let v = m["cooldown"].flatMap({ r.double($0, "\(what).cooldown", in: 0.1...86_400) }) { settings.cooldown = v }
        return settings
    }

    /// `mastering: off`, or `{target_lufs, true_peak, silence_db, pad_ms, format, sample_rate, channels}`.
    private mutating func readMastering(_ node: Node, _ r: inout YAMLReader) {
        if case .scalar(let scalar) = node, ["off", "none", "false"].contains(scalar.string) {
            mastering = nil
            return
        }
        guard let m = r.mapping(node, "mastering", allowed: [
            "target_lufs", "true_peak", "silence_db", "pad_ms", "format", "sample_rate", "channels",
        ]) else { return }
        var settings = MasteringSettings()
        if let v = m["target_lufs"].flatMap({ r.double($0, "mastering.target_lufs", in: -70 ... -5) }) { settings.targetLUFS = v }
        if let v = m["true_peak"].flatMap({ r.double($0, "mastering.true_peak", in: -20 ... 0) }) { settings.truePeakCeiling = v }
        if let v = m["silence_db"].flatMap({ r.double($0, "mastering.silence_db", in: -120 ... -10) }) { settings.silenceThresholdDB = v }
        if let v = m["pad_ms"].flatMap({ r.double($0, "mastering.pad_ms", in: 0...5_000) }) { settings.padMs = v }
        if let n = m["format"], let v = r.string(n, "mastering.format") {
            if ["wav", "flac", "ogg", "opus", "mp3"].contains(v) { settings.format = v } else {
                r.report(at: n, "mastering.format must be one of wav, flac, ogg, opus, mp3")
            }
        }
        if let n = m["sample_rate"] {
            if case .scalar(let scalar) = n, scalar.string == "source" { settings.sampleRate = 0 } else if let v = r.int(n, "mastering.sample_rate", in: 8_000...192_000) {
                if settings.format == "opus" && !MasteringSettings.opusRates.contains(v) {
                    r.report(at: n, "mastering.sample_rate: Opus takes only 8000, 12000, 16000, 24000 or 48000")
                } else {
                    settings.sampleRate = v
                }
            }
        }
        if let v = m["channels"].flatMap({ r.int($0, "mastering.channels", in: 1...2) }) { settings.channels = v }
        mastering = settings
    }

    private mutating func readValidation(_ node: Node, _ r: inout YAMLReader) {
        guard let m = r.mapping(node, "validation", allowed: [
            "min_ms_per_char", "max_ms_per_char", "min_duration_ms", "max_extra_ms", "min_peak", "max_clipped_ratio",
        ]) else { return }
        if let v = m["min_ms_per_char"].flatMap({ r.double($0, "validation.min_ms_per_char", in: 0...10_000) }) { validation.minMsPerChar = v }
        if let v = m["max_ms_per_char"].flatMap({ r.double($0, "validation.max_ms_per_char", in: 1...10_000) }) { validation.maxMsPerChar = v }
        if let v = m["min_duration_ms"].flatMap({ r.double($0, "validation.min_duration_ms", in: 0...60_000) }) { validation.minDurationMs = v }
        if let v = m["max_extra_ms"].flatMap({ r.double($0, "validation.max_extra_ms", in: 0...600_000) }) { validation.maxExtraMs = v }
        if let v = m["min_peak"].flatMap({ r.double($0, "validation.min_peak", in: 0...1) }) { validation.minPeak = v }
        if let v = m["max_clipped_ratio"].flatMap({ r.double($0, "validation.max_clipped_ratio", in: 0...1) }) { validation.maxClippedRatio = v }
    }

    // MARK: - Environment

    /// The environment wins over pipeline.yaml (and loses to flags, which the CLI applies after this).
    mutating func applyEnvironment(_ env: [String: String]) throws {
        var problems: [Diagnostic] = []
        func int(_ name: String, _ range: ClosedRange<Int>, _ set: (Int) -> Void) {
            guard let text = env[name], !text.isEmpty else { return }
            if let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) { set(value) } else {
                problems.append(Diagnostic(path: "environment", line: 0, column: 0,
                                           message: "\(name)=\(text): must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
            }
        }
        if let url = env["REDIS_URL"], !url.isEmpty {
            if let problem = Self.redisURLProblem(url) {
                problems.append(Diagnostic(path: "environment", line: 0, column: 0, message: "REDIS_URL: \(problem)"))
            } else {
                redisURL = url
            }
        }
        int("TTS_WORKER_COUNT", 0...256) { queue.workers = $0 }
        int("TTS_WORKER_TIMEOUT", 1...86_400) { queue.jobTimeout = $0 }
        int("TTS_JOB_TTL", 1...31_536_000) { queue.jobTTL = $0 }
        int("TTS_JOB_RESULT_TTL", 1...31_536_000) { queue.resultTTL = $0 }
        int("TTS_DEDUP_TTL", 1...31_536_000) { queue.dedupTTL = $0 }
        int("TTS_MAX_RETRIES", 0...100) { queue.maxRetries = $0 }
        int("TTS_RETRY_DELAY", 0...86_400) { queue.retryDelay = $0 }
        int("TTS_RATE_LIMIT_PER_MINUTE", 1...1_000_000) { murf.rateLimit.perMinute = $0 }
        if let text = env["TTS_SYNTHESIZER"], !text.isEmpty {
            if let kind = SynthesizerKind(rawValue: text) { synthesizer = kind } else {
                problems.append(Diagnostic(path: "environment", line: 0, column: 0,
                                           message: "TTS_SYNTHESIZER=\(text): must be one of \(SynthesizerKind.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let url = env["MURF_BASE_URL"], !url.isEmpty {
            if url.hasPrefix("http://") || url.hasPrefix("https://") { murf.baseURL = url } else {
                problems.append(Diagnostic(path: "environment", line: 0, column: 0,
                                           message: "MURF_BASE_URL=\(url): must start with https:// (or http:// for a local server)"))
            }
        }
        if !problems.isEmpty { throw InvalidInput(problems) }
    }
}

extension PipelineConfig {
    /// Why a Redis setting is not usable, or nil: `embedded`, or a URL the client understands.
    public static func redisURLProblem(_ url: String) -> String? {
        if url == "embedded" || url.isEmpty { return nil }
        do {
            _ = try RedisEndpoint(url: url)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

extension YAMLReader {
    /// The value node under `key` in a mapping node, without reporting anything.
    func mappingValue(_ node: Node, _ key: String) -> Node? {
        guard case .mapping(let mapping) = node else { return nil }
        for (k, v) in mapping where k.string == key { return v }
        return nil
    }
}
