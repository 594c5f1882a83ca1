import Foundation
import RedisClient

/// Asks Redis for permission before each request to a synthesizer account and reports how it went.
/// Belongs to one worker thread and uses that worker's Redis connection. A refused worker waits as long
/// as the limiter says (on a wake-up list for concurrency permits); it never spins.
final class Limiter {
    let limits: AccountLimits
    private let queue: JobQueue

    init(queue: JobQueue, limits: AccountLimits) {
        self.queue = queue
        self.limits = limits
    }

    /// Permission for one request.
    struct Permit: Sendable {
        let lease: String
        let probe: Bool
    }

    /// How a request went, for the shared state: the breaker, the account's pause, the halt.
    enum Outcome {
        /// The service answered (whatever the audio turned out to be).
        case success
        /// The service's health is in doubt: counts toward opening the circuit.
        case failure
        /// 429: everybody on the account waits this long.
        case throttled(seconds: Double)
        /// 402: nobody sends anything more on this account for now.
        case halt(reason: String)
        /// Says nothing about the service (a request that was never answered because the worker stopped).
        case neutral
    }

    /// The account refuses all requests (after a 402).
    struct Halted: Error, CustomStringConvertible {
        var reason: String
        var description: String { "not sent: this account was halted earlier: \(reason)" }
    }

    /// The job's time ran out while it waited for the limiter.
    struct TimedOut: Error, CustomStringConvertible {
        var waited: String
        var description: String { "job timeout reached while waiting for the rate limiter (\(waited))" }
    }

    /// Waits until the account may take one more request, or throws `Halted` / `TimedOut`.
    /// `stopping` is asked between waits, so a stopping worker does not sit out a long pause.
    func acquire(until deadline: Date, stopping: () -> Bool, wait: (Double) -> Void) throws -> Permit? {
        if limits.isUnlimited { return Permit(lease: "", probe: false) }
        let lease = RandomID.uuid()
        let arguments = [
            limits.redisPrefix, String(limits.rate.perMinute ?? 0), String(limits.rate.burst), String(limits.rate.concurrency ?? 0),
            lease, String(limits.leaseSeconds), String(limits.circuit.failures),
        ].map { Array($0.utf8) }
        while true {
            if stopping() { return nil }
            let reply = try queue.runScript(LimiterScripts.acquire, arguments).array ?? []
            let word = reply.first?.string
            if word == "ok" { return Permit(lease: lease, probe: reply.count > 1 && reply[1].string == "1") }
            if word == "halt" { throw Halted(reason: reply.count > 1 ? reply[1].string ?? "" : "") }
            let seconds = reply.count > 1 ? Double(reply[1].string ?? "") ?? 0.1 : 0.1
            let why = reply.count > 2 ? reply[2].string ?? "" : ""
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw TimedOut(waited: why) }
            let pause = min(max(seconds, 0.001), remaining)
            PipelineMetrics.rateLimitWait(account: limits.account, reason: Self.metricReason(why), seconds: pause)
            if why == "concurrency" {
                // A release pushes a token: wake as soon as a permit comes back, or when the oldest lease expires.
                _ = try queue.connection.command("BLPOP", "\(limits.redisPrefix):released", String(format: "%.3f", min(pause, 1)))
            } else {
                wait(pause)
            }
        }
    }

    /// A short label for the metrics: rate, concurrency, retry_after or circuit.
    static func metricReason(_ why: String) -> String {
        if why == "rate" || why == "concurrency" { return why }
        return why.hasPrefix("circuit") ? "circuit" : "retry_after"
    }

    func release(_ permit: Permit, _ outcome: Outcome) throws {
        if limits.isUnlimited { return }
        var word = "neutral", retryAfter = 0.0, haltReason = ""
        switch outcome {
        case .success: word = "success"
        case .failure: word = "failure"
        case .throttled(let seconds): word = "throttled"; retryAfter = seconds
        case .halt(let reason): word = "halt"; haltReason = reason
        case .neutral: word = "neutral"
        }
        try queue.runScript(LimiterScripts.release, [
            limits.redisPrefix, permit.lease, word, String(retryAfter), String(limits.circuit.failures),
            String(limits.circuit.cooldown), permit.probe ? "1" : "0", haltReason, String(limits.rate.concurrency ?? 0),
        ].map { Array($0.utf8) })
    }
}
