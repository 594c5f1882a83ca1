import Foundation

/// Turns a render job into audio bytes. One instance per worker thread; calls block that thread.
public protocol Synthesizer: AnyObject {
    /// Renders the job's text, giving up at `deadline` (the job's timeout, `TTS_WORKER_TIMEOUT`).
    /// Throws `SynthesisError` with a reason a person can act on.
    func synthesize(_ job: RenderJob, deadline: Date) throws -> [UInt8]
}

extension Synthesizer {
    /// Renders with no deadline beyond the synthesizer's own timeouts.
    public func synthesize(_ job: RenderJob) throws -> [UInt8] {
        try synthesize(job, deadline: .distantFuture)
    }
}

/// Why synthesis failed, and whether a later attempt could succeed.
public struct SynthesisError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Timeouts, 429, 5xx and broken downloads may succeed later; a bad key or a bad request will not.
    public var retryable: Bool
    /// The synthesizer cannot run at all here (not installed, no API key): an infrastructure problem.
    public var unavailable: Bool
    /// The service asked everyone on this account to wait this many seconds (429 with Retry-After).
    public var retryAfter: Double?
    /// The account cannot be used any more (402: characters used up): stop sending, do not retry.
    public var accountHalted: Bool
    /// The service's health is in doubt (5xx, timeouts, broken connections): counts toward the circuit breaker.
    public var serviceFault: Bool

    public init(_ message: String, retryable: Bool, unavailable: Bool = false, retryAfter: Double? = nil,
                accountHalted: Bool = false, serviceFault: Bool = false) {
        self.message = message
        self.retryable = retryable
        self.unavailable = unavailable
        self.retryAfter = retryAfter
        self.accountHalted = accountHalted
        self.serviceFault = serviceFault
    }

    public var description: String { message }
}

/// Makes the synthesizer a configuration names, one per worker, and checks up front that it can run.
public struct SynthesizerFactory: Sendable {
    public let config: PipelineConfig
    let environment: [String: String]

    public init(config: PipelineConfig, environment: [String: String]) {
        self.config = config
        self.environment = environment
    }

    /// Fails with `unavailable` when the synthesizer cannot run on this machine.
    public func preflight() throws {
        switch config.synthesizer {
        case .espeak: _ = try EspeakSynthesizer.locate(config.espeak.command)
        case .murf: _ = try MurfSynthesizer.apiKey(config.murf, environment: environment)
        }
    }

    /// The account the chosen synthesizer bills and limits, and its limits. Names a hash of the API key, never the key.
    public func limits() throws -> AccountLimits {
        switch config.synthesizer {
        case .espeak:
            return AccountLimits(account: "espeak", rate: config.espeak.rateLimit, circuit: config.espeak.circuitBreaker,
                                 leaseSeconds: config.espeak.timeout + 30)
        case .murf:
            let key = try MurfSynthesizer.apiKey(config.murf, environment: environment)
            return AccountLimits(account: "murf:" + String(SHA256.hex(Array(key.utf8)).prefix(16)), rate: config.murf.rateLimit,
                                 circuit: config.murf.circuitBreaker, leaseSeconds: config.murf.requestTimeout * 2 + 30)
        }
    }

    /// The Murf API key from the environment, or `SynthesisError` (unavailable) naming the variable.
    public func murfAPIKey() throws -> String {
        try MurfSynthesizer.apiKey(config.murf, environment: environment)
    }

    /// A synthesizer for one worker. `isCancelled` lets a stopping worker abandon a long request.
    public func make(isCancelled: (@Sendable () -> Bool)? = nil) throws -> any Synthesizer {
        switch config.synthesizer {
        case .espeak: return try EspeakSynthesizer(settings: config.espeak)
        case .murf:
            return MurfSynthesizer(settings: config.murf, apiKey: try MurfSynthesizer.apiKey(config.murf, environment: environment),
                                   isCancelled: isCancelled)
        }
    }
}
