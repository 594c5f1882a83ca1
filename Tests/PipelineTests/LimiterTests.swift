import Foundation
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// The account limiter on a real redis-server: GCRA spacing, concurrency leases, the shared 429 pause,
/// the circuit breaker's single probe, and the 402 halt. Times are only checked from below: a slow
/// machine can only make the gaps longer, never break the limit.
@Suite struct LimiterTests {
    func limiter(_ redis: TestRedis, _ limits: AccountLimits) throws -> Limiter {
        Limiter(queue: JobQueue(connection: try redis.connect(), settings: QueueSettings()), limits: limits)
    }

    func acquire(_ limiter: Limiter, within seconds: Double = 10) throws -> Limiter.Permit {
        try #require(try limiter.acquire(until: Date().addingTimeInterval(seconds), stopping: { false },
                                         wait: { Thread.sleep(forTimeInterval: $0) }))
    }

    @Test func rateSpacesRequestsAcrossWorkers() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(perMinute: 240, burst: 1), circuit: CircuitBreakerSettings(failures: 0),
                                   leaseSeconds: 10)
        // Two limiters on two connections stand for two workers.
        let a = try limiter(redis, limits), b = try limiter(redis, limits)
        var times: [Double] = []
        for i in 0..<6 {
            let permit = try acquire(i % 2 == 0 ? a : b)
            times.append(Date().timeIntervalSince1970)
            try (i % 2 == 0 ? a : b).release(permit, .success)
        }
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later - earlier >= 0.25 - 0.02, "240 a minute is one every 0.25 s")
        }
    }

    @Test func burstAllowsThatManyAtOnceThenSpaces() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(perMinute: 60, burst: 3), circuit: CircuitBreakerSettings(failures: 0),
                                   leaseSeconds: 10)
        let l = try limiter(redis, limits)
        let start = Date()
        for _ in 0..<3 { _ = try acquire(l) }
        #expect(Date().timeIntervalSince(start) < 0.9, "a burst of 3 goes at once")
        _ = try acquire(l)
        #expect(Date().timeIntervalSince(start) >= 0.95, "the fourth waits for the next slot")
    }

    @Test func concurrencyPermitsAreShared() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(concurrency: 2), circuit: CircuitBreakerSettings(failures: 0), leaseSeconds: 30)
        let a = try limiter(redis, limits), b = try limiter(redis, limits), c = try limiter(redis, limits)
        let first = try acquire(a)
        _ = a
        _ = try acquire(b)
        // The third waits; releasing one permit lets it through promptly.
        let endpoint = redis.server.endpoint
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) {
            // Another thread, so another connection: limiters belong to one thread each.
            let releaser = try? Limiter(queue: JobQueue(connection: RedisConnection(endpoint), settings: QueueSettings()), limits: limits)
            try? releaser?.release(first, .success)
        }
        let start = Date()
        _ = try acquire(c)
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 0.45)
        #expect(try redis.connect().command("ZCARD", "prerender:limit:t:inflight").int == 2)
    }

    @Test func aDeadWorkersPermitComesBack() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(concurrency: 1), circuit: CircuitBreakerSettings(failures: 0), leaseSeconds: 0.5)
        let dead = try limiter(redis, limits), alive = try limiter(redis, limits)
        _ = try acquire(dead)  // never released: the worker "died"
        let start = Date()
        _ = try acquire(alive)
        #expect(Date().timeIntervalSince(start) >= 0.4, "the lease expires, then the permit is free again")
    }

    @Test func retryAfterPausesTheWholeAccount() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(perMinute: 6_000), circuit: CircuitBreakerSettings(failures: 0), leaseSeconds: 10)
        let a = try limiter(redis, limits), b = try limiter(redis, limits)
        try a.release(try acquire(a), .throttled(seconds: 1))
        let start = Date()
        _ = try acquire(b)
        #expect(Date().timeIntervalSince(start) >= 0.9, "another worker waits out the Retry-After too")
    }

    @Test func theCircuitOpensThenOneProbeDecides() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(), circuit: CircuitBreakerSettings(failures: 2, cooldown: 0.6), leaseSeconds: 10)
        let a = try limiter(redis, limits), b = try limiter(redis, limits)
        try a.release(try acquire(a), .failure)
        try a.release(try acquire(a), .failure)
        let start = Date()
        let probe = try acquire(a)
        #expect(Date().timeIntervalSince(start) >= 0.55, "nobody calls the API while the circuit is open")
        #expect(probe.probe)
        // While the probe is out, others wait.
        #expect(throws: Limiter.TimedOut.self) {
            _ = try b.acquire(until: Date().addingTimeInterval(0.3), stopping: { false }, wait: { Thread.sleep(forTimeInterval: $0) })
        }
        try a.release(probe, .success)
        let after = try acquire(b, within: 1)
        #expect(!after.probe, "the probe succeeded: the circuit is closed")
    }

    @Test func aFailedProbeOpensTheCircuitAgain() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(), circuit: CircuitBreakerSettings(failures: 1, cooldown: 0.4), leaseSeconds: 10)
        let a = try limiter(redis, limits)
        try a.release(try acquire(a), .failure)
        let probe = try acquire(a)
        #expect(probe.probe)
        try a.release(probe, .failure)
        let start = Date()
        _ = try acquire(a)
        #expect(Date().timeIntervalSince(start) >= 0.35)
    }

    @Test func a402HaltsTheAccount() throws {
        let redis = try TestRedis()
        let limits = AccountLimits(account: "t", rate: RateLimit(concurrency: 2), circuit: CircuitBreakerSettings(failures: 0), leaseSeconds: 10)
        let a = try limiter(redis, limits)
        try a.release(try acquire(a), .halt(reason: "payment required"))
        #expect(throws: Limiter.Halted.self) { _ = try acquire(a) }
    }

    @Test func noLimitsCostNoRedisCommands() throws {
        let redis = try TestRedis()
        let r = try redis.connect()
        let l = try limiter(redis, AccountLimits(account: "espeak", rate: RateLimit(), circuit: CircuitBreakerSettings(failures: 0), leaseSeconds: 1))
        for _ in 0..<5 { try l.release(try acquire(l), .success) }
        let after = try r.command("INFO", "commandstats").string ?? ""
        #expect(!after.contains("cmdstat_evalsha"))
    }
}

@Suite struct RetryPolicyTests {
    @Test func backoffDoublesUpToTheCapAndHonoursRetryAfter() {
        let policy = RetryPolicy(maxRetries: 3, baseDelay: 10, maxDelay: 35)
        #expect(policy.delay(after: 1, jitter: 0) == 10)
        #expect(policy.delay(after: 2, jitter: 0) == 20)
        #expect(policy.delay(after: 3, jitter: 0) == 35)
        #expect(policy.delay(after: 1, jitter: 0.25) == 12.5)
        #expect(policy.delay(after: 1, retryAfter: 30, jitter: 0) == 30)
        #expect(policy.allowsRetry(after: 3) && !policy.allowsRetry(after: 4))
        let jittered = (0..<20).map { _ in policy.delay(after: 1) }
        #expect(jittered.allSatisfy { (10...12.5).contains($0) })
        #expect(Set(jittered).count > 1, "jitter spreads retries")
    }

    @Test func retryAfterIsReadAsSecondsOrDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(MurfSynthesizer.retryAfter(["retry-after": "7"], now: now) == 7)
        #expect(MurfSynthesizer.retryAfter(["retry-after-ms": "1500"], now: now) == 1.5)
        #expect(MurfSynthesizer.retryAfter(["retry-after": "Tue, 14 Nov 2023 22:13:40 GMT"], now: now) == 20)
        #expect(MurfSynthesizer.retryAfter(["retry-after": "soon"], now: now) == nil)
        #expect(MurfSynthesizer.retryAfter([:], now: now) == nil)
    }
}
