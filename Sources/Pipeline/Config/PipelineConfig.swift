/// Everything `pipeline.yaml` sets, after the environment and the command line have had their say.
public struct PipelineConfig: Sendable {
    /// Where the settings came from, for messages (`pipeline.yaml`, or "defaults").
    public var source: String = "defaults"
    public var lessonsDirectory = "Lessons"
    public var outputDirectory = "Output"
    public var synthesizer: SynthesizerKind = .espeak
    /// `embedded` (a private redis-server for the length of the build) or a URL.
    public var redisURL = "embedded"
    public var queue = QueueSettings()
    /// Speaker name -> voice id. Lessons may map their own speakers over these.
    public var speakers: [String: String] = ["narrator": "pl-PL-kasia"]
    /// Voice id -> what each synthesizer needs to speak as that voice.
    public var voices: [String: VoiceSettings] = PipelineConfig.defaultVoices
    public var espeak = EspeakSettings()
    public var murf = MurfSettings()
    public var validation = ValidationRules()
    /// Worker pools for `prerender worker --pool NAME`: which queues, how many workers, the job timeout.
    public var pools: [String: WorkerPoolSettings] = [
        "tts_batch": WorkerPoolSettings(queues: ["tts_batch"], workers: 1, timeout: 1_800),
        "tts_standard": WorkerPoolSettings(queues: ["tts_jobs"], workers: 4, timeout: 600),
        "tts_priority": WorkerPoolSettings(queues: ["tts_high_priority", "tts_jobs"], workers: 2, timeout: 300),
    ]

    /// How every file is mastered before it enters the cache (loudness, silence, delivery format); nil: off.
    public var mastering: MasteringSettings? = MasteringSettings()

    /// How words are said (pipeline.yaml's `pronunciations`; a lesson's own win) and the text rules run first.
    public var pronouncer = Pronouncer(rules: PipelineConfig.defaultRules)

    /// Markup that must never be spoken: `{{...}}`, HTML tags, and `[...]` notes other than `[pause 1s]`.
    public static let defaultRules: [TextRule] = [
        try! TextRule(pattern: #"\{\{[^}]*\}\}"#, replacement: ""),
        try! TextRule(pattern: #"<[^>]+>"#, replacement: ""),
        try! TextRule(pattern: #"\[(?!pause\s+\d+(?:\.\d+)?\s*s\])[^\]]*\]"#, replacement: ""),
    ]

    public init() {}

    public var usesEmbeddedRedis: Bool { redisURL == "embedded" || redisURL.isEmpty }

    /// The output settings of the chosen synthesizer: what every audio file must be.
    public var audioFormat: AudioOutput {
        switch synthesizer {
        case .espeak: return espeak.output
        case .murf: return murf.output
        }
    }

    static let defaultVoices: [String: VoiceSettings] = [
        "pl-PL-kasia": VoiceSettings(espeak: EspeakVoice(voice: "pl+f3", speed: 160, pitch: 55), murf: MurfVoice(voiceId: "pl-PL-kasia")),
        "pl-PL-jacek": VoiceSettings(espeak: EspeakVoice(voice: "pl+m3", speed: 160, pitch: 40), murf: MurfVoice(voiceId: "pl-PL-jacek")),
        "pl-PL-blazej": VoiceSettings(espeak: EspeakVoice(voice: "pl+m1", speed: 150, pitch: 35), murf: MurfVoice(voiceId: "pl-PL-blazej")),
    ]
}

public enum SynthesizerKind: String, Sendable, CaseIterable {
    case espeak, murf

    /// The same job always gives the same audio: retrying invalid audio would only repeat it.
    public var isDeterministic: Bool { self == .espeak }

    /// Costs nothing per character (runs locally).
    public var isFree: Bool { self == .espeak }
}

/// The queue's settings, named as in the architecture document's environment variables.
public struct QueueSettings: Sendable {
    /// The RQ queue the jobs go to.
    public var name = "tts_batch"
    /// Where jobs that cannot succeed, or are out of retries, are listed (an RQ queue nobody works on).
    public var deadLetterName = "tts_dead_letter"
    /// Workers `build` runs in its own process (`TTS_WORKER_COUNT`; 4 in the architecture document's env.template).
    /// Each spends much of a job waiting on the network or on a child process, so there are more than cores.
    public var workers = 4
    /// Seconds one job may take before it counts as failed (`TTS_WORKER_TIMEOUT`).
    public var jobTimeout = 600
    /// Seconds a queued job lives in Redis before it is dropped (`TTS_JOB_TTL`).
    public var jobTTL = 86_400
    /// Seconds a finished job and its result stay in Redis (`TTS_JOB_RESULT_TTL`).
    public var resultTTL = 604_800
    /// Seconds a queued or running job keeps other builds from enqueueing the same audio (`TTS_DEDUP_TTL`).
    public var dedupTTL = 3_600
    /// Retries of a failed attempt (`TTS_MAX_RETRIES`).
    public var maxRetries = 3
    /// Seconds before the first retry (`TTS_RETRY_DELAY`); each later retry waits twice as long, plus jitter.
    public var retryDelay = 60
    /// The longest wait between two attempts, in seconds.
    public var retryMaxDelay = 3_600
    /// Seconds a running job survives without a heartbeat from its worker; then any worker or build returns
    /// it to the queue. Heartbeats go every third of this. RQ uses 90.
    public var heartbeatTimeout = 30

    public init() {}
}

/// A worker pool, as in the architecture document's WORKER_CONFIGS.
public struct WorkerPoolSettings: Sendable, Equatable {
    /// Queues in priority order: a worker takes from the first that has a job.
    public var queues: [String]
    public var workers: Int
    /// Seconds one job may take in this pool.
    public var timeout: Int

    public init(queues: [String], workers: Int, timeout: Int) {
        self.queues = queues
        self.workers = workers
        self.timeout = timeout
    }
}

/// One voice id as each synthesizer understands it.
public struct VoiceSettings: Sendable, Equatable {
    public var espeak: EspeakVoice?
    public var murf: MurfVoice?

    public init(espeak: EspeakVoice? = nil, murf: MurfVoice? = nil) {
        self.espeak = espeak
        self.murf = murf
    }
}

public struct EspeakVoice: Sendable, Equatable {
    /// An espeak-ng voice name, with an optional variant: `pl`, `pl+f3`.
    public var voice: String
    /// Words per minute (espeak-ng `-s`), 80 to 450.
    public var speed: Int
    /// Base pitch (espeak-ng `-p`), 0 to 99.
    public var pitch: Int

    public init(voice: String, speed: Int = 160, pitch: Int = 50) {
        self.voice = voice
        self.speed = speed
        self.pitch = pitch
    }
}

public struct MurfVoice: Sendable, Equatable {
    public var voiceId: String
    /// The style used when a lesson item names none.
    public var style: String?

    public init(voiceId: String, style: String? = nil) {
        self.voiceId = voiceId
        self.style = style
    }
}

/// What every audio file of a synthesizer must be: container, sample rate, channels.
public struct AudioOutput: Sendable, Equatable {
    public var format: String
    public var sampleRate: Int
    public var channels: Int

    public init(format: String, sampleRate: Int, channels: Int) {
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
    }
}

public struct EspeakSettings: Sendable {
    public var command = "espeak-ng"
    /// espeak-ng runs locally: no limits unless configured.
    public var rateLimit = RateLimit()
    public var circuitBreaker = CircuitBreakerSettings(failures: 0)
    /// espeak-ng writes 16-bit mono WAV at 22,050 Hz.
    public var output = AudioOutput(format: "wav", sampleRate: 22_050, channels: 1)
    /// Seconds one espeak-ng run may take.
    public var timeout = 60.0

    public init() {}
}

public struct MurfSettings: Sendable {
    public var baseURL = "https://api.murf.ai"
    /// The environment variable that holds the API key. The key itself is never stored in files.
    public var apiKeyEnv = "MURF_API_KEY"
    public var output = AudioOutput(format: "wav", sampleRate: 24_000, channels: 1)
    /// The account's limits, shared by every worker on every machine (`TTS_RATE_LIMIT_PER_MINUTE` sets per_minute).
    /// Murf's streaming concurrency is 2 in most regions.
    public var rateLimit = RateLimit(perMinute: 10, burst: 1, concurrency: 2)
    public var circuitBreaker = CircuitBreakerSettings()
    public var modelVersion = "GEN2"
    public var locale = "pl-PL"
    public var connectTimeout = 10.0
    public var requestTimeout = 60.0
    /// Largest audio download accepted, in bytes.
    public var maxDownloadBytes = 50 << 20

    public init() {}

    public static let formats = ["wav", "mp3", "flac", "ogg"]
    public static let sampleRates = [8_000, 24_000, 44_100, 48_000]
}

/// How fast one synthesizer account may be called, by every worker together.
public struct RateLimit: Sendable, Equatable {
    /// Requests per minute; nil for no rate limit.
    public var perMinute: Int?
    /// Requests that may go at once after a quiet spell (GCRA's burst); at least 1.
    public var burst: Int
    /// Requests in flight at once; nil for no limit.
    public var concurrency: Int?

    public init(perMinute: Int? = nil, burst: Int = 1, concurrency: Int? = nil) {
        self.perMinute = perMinute
        self.burst = burst
        self.concurrency = concurrency
    }

    public var isUnlimited: Bool { perMinute == nil && concurrency == nil }
}

/// After `failures` consecutive failures of an account's requests the circuit opens: nobody calls the
/// API for `cooldown` seconds, then one probe request decides whether it closes again.
public struct CircuitBreakerSettings: Sendable, Equatable {
    /// Consecutive failures that open the circuit; 0 turns the breaker off.
    public var failures: Int
    public var cooldown: Double

    public init(failures: Int = 5, cooldown: Double = 30) {
        self.failures = failures
        self.cooldown = cooldown
    }
}

/// The rules every audio file must pass before it enters the cache.
public struct ValidationRules: Sendable, Equatable {
    /// Shortest plausible speech per character of text, in milliseconds.
    public var minMsPerChar = 15.0
    /// Longest plausible speech per character, in milliseconds, on top of `maxExtraMs`.
    public var maxMsPerChar = 250.0
    /// Shortest file accepted at all, in milliseconds.
    public var minDurationMs = 100.0
    /// Allowance for pauses at the start and end, in milliseconds.
    public var maxExtraMs = 3_000.0
    /// The loudest sample must reach this (0 to 1): below it the file counts as silent.
    public var minPeak = 0.01
    /// At most this share of samples may sit at full scale (|x| >= 0.999) before the file counts as clipped.
    public var maxClippedRatio = 0.001

    public init() {}
}
