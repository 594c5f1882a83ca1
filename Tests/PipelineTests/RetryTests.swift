import Foundation
import Logging
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// Every failure kind of the Murf API, through a real worker, real HTTP and a real redis-server:
/// what may succeed later is retried (and succeeds), what cannot ends at once as a dead letter with its reason.
@Suite struct RetryTests {
    static let apiKey = "retry-test-key-11aa"

    struct Run {
        var outcome: JobQueue.JobOutcome
        var requests: Int
        var attempts: [String]
        var generateTimes: [Double]
        var deadLetters: [DeadLetter]
    }

    /// Renders one line with one worker while the fake server plays the given faults.
    static func render(faults: [FakeMurfServer.Fault], maxRetries: Int = 3, retryDelay: Int = 0,
                       circuit: CircuitBreakerSettings = CircuitBreakerSettings(failures: 0), workers: Int = 1,
                       configure: (inout PipelineConfig) -> Void = { _ in }) throws -> Run {
        let redis = try TestRedis()
        let server = try FakeMurfServer(apiKey: apiKey, audio: try AudioFixtures.murfAudio())
        defer { server.stop() }
        server.inject(faults)
        var config = PipelineConfig()
        config.synthesizer = .murf
        config.murf.baseURL = server.baseURL
        config.murf.requestTimeout = 1
        config.murf.rateLimit = RateLimit()
        config.murf.circuitBreaker = circuit
        config.queue.maxRetries = maxRetries
        config.queue.retryDelay = retryDelay
        configure(&config)
        let job = BuildPlan(lessons: [Lesson(id: "l", title: "T", source: "l.yaml", items: [
            LessonItem(id: "x", text: "Dzień dobry, jak się masz?", voice: "pl-PL-kasia"),
        ])], config: config).jobs[0]
        let queue = JobQueue(connection: try redis.connect(), settings: config.queue)
        let id = try queue.enqueue([job], build: "t")[0].jobID
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let pool = WorkerPool(count: workers, endpoint: redis.server.endpoint, settings: config.queue, rules: config.validation,
                              factory: SynthesizerFactory(config: config, environment: ["MURF_API_KEY": apiKey]), logger: logger)
        pool.start()
        defer { pool.stop() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try !queue.waitForEnded(build: "t", timeout: 1).contains(id) {}
        let outcome = try queue.outcomes([(id, job.key)])[0]
        let attempts = try redis.connect().command("HGET", "rq:job:\(id)", "prerender_attempts").bytes
            .flatMap { try? JSONDecoder().decode([String].self, from: Data($0)) } ?? []
        return Run(outcome: outcome, requests: server.generateCount, attempts: attempts, generateTimes: server.generateTimes,
                   deadLetters: try queue.deadLetters())
    }

    static let recoverable: [(String, FakeMurfServer.Fault)] = [
        ("429 with Retry-After", .status(429, headers: ["Retry-After": "1"])),
        ("429 without Retry-After", .status(429)),
        ("500", .status(500)),
        ("503", .status(503)),
        ("hang", .hang(seconds: 3)),
        ("bad JSON", .badJSON),
        ("audio URL that 404s", .audio404),
        ("truncated audio", .truncatedAudio),
        ("bytes that are not audio", .notAudio),
    ]

    @Test(arguments: recoverable.indices)
    func transientFailuresSucceedAfterARetry(_ index: Int) throws {
        let (name, fault) = Self.recoverable[index]
        let run = try Self.render(faults: [fault])
        guard case .finished = run.outcome else {
            Issue.record("\(name): expected the job to finish after a retry, got \(run.outcome)")
            return
        }
        #expect(run.requests == 2, "\(name): one failed attempt, one good one")
        #expect(run.attempts.count == 1, "\(name): the failed attempt's reason is kept")
        #expect(run.deadLetters.isEmpty)
    }

    @Test func retryAfterIsWaitedOut() throws {
        let run = try Self.render(faults: [.status(429, headers: ["Retry-After": "2"])])
        #expect(run.generateTimes.count == 2)
        #expect(run.generateTimes[1] - run.generateTimes[0] >= 1.9)
    }

    static let permanent: [(String, FakeMurfServer.Fault, String)] = [
        ("400", .status(400, body: #"{"errorMessage":"voiceId not found"}"#), "HTTP 400, bad request: voiceId not found"),
        ("401", .status(401), "HTTP 401, the API key was refused: check MURF_API_KEY"),
        ("403", .status(403), "HTTP 403, the API key was refused: check MURF_API_KEY"),
        ("402", .status(402), "HTTP 402, payment required"),
    ]

    @Test(arguments: permanent.indices)
    func permanentFailuresGoStraightToDeadLetters(_ index: Int) throws {
        let (name, fault, reason) = Self.permanent[index]
        let run = try Self.render(faults: [fault])
        guard case .failed(let got) = run.outcome else {
            Issue.record("\(name): expected a failure, got \(run.outcome)")
            return
        }
        #expect(got.contains(reason), "\(name): \(got)")
        #expect(run.requests == 1, "\(name): not retried")
        #expect(run.deadLetters.map(\.attempts.count) == [1])
        #expect(!got.contains(Self.apiKey))
    }

    @Test func anOversizedDownloadIsCutOffAndFails() throws {
        let run = try Self.render(faults: [], configure: { $0.murf.maxDownloadBytes = 2_048 })
        guard case .failed(let reason) = run.outcome else {
            Issue.record("expected a failure, got \(run.outcome)")
            return
        }
        #expect(reason.contains("larger than 2048 bytes"), "\(reason)")
        #expect(run.requests == 1)
    }

    @Test func theJobTimeoutCapsAWholeJob() throws {
        // A 1 s job timeout and an answer that takes 3 s: the attempt is cut off at the job's deadline, not the request's 20 s.
        let started = Date()
        let run = try Self.render(faults: [.hang(seconds: 3), .hang(seconds: 3)], maxRetries: 1, configure: {
            $0.queue.jobTimeout = 1
            $0.murf.requestTimeout = 20
        })
        guard case .failed(let reason) = run.outcome else {
            Issue.record("expected a failure, got \(run.outcome)")
            return
        }
        #expect(reason.contains("timed out"), "\(reason)")
        #expect(Date().timeIntervalSince(started) < 6, "two attempts of at most 1 s each, not 2 × 3 s")
    }

    @Test func outOfRetriesIsADeadLetterWithEveryReason() throws {
        let run = try Self.render(faults: [.status(500), .status(503), .badJSON], maxRetries: 2)
        guard case .failed(let reason) = run.outcome else {
            Issue.record("expected a dead letter, got \(run.outcome)")
            return
        }
        #expect(run.requests == 3)
        #expect(reason.hasPrefix("failed 3 attempts: 1) "))
        #expect(reason.contains("HTTP 500") && reason.contains("HTTP 503") && reason.contains("not JSON"))
        let letter = try #require(run.deadLetters.first)
        #expect(letter.attempts.count == 3)
        #expect(letter.job?.text == "Dzień dobry, jak się masz?")
    }

    @Test func backoffIsScheduledInRedisNotSlept() throws {
        // retry_delay 1: the second attempt comes after at least a second, the third after two more.
        let run = try Self.render(faults: [.status(500), .status(500)], maxRetries: 3, retryDelay: 1)
        guard case .finished = run.outcome else {
            Issue.record("expected success on the third attempt, got \(run.outcome)")
            return
        }
        #expect(run.generateTimes.count == 3)
        #expect(run.generateTimes[1] - run.generateTimes[0] >= 0.95)
        #expect(run.generateTimes[2] - run.generateTimes[1] >= 1.95)
    }

    @Test func theCircuitBreakerStopsCallsDuringItsCooldown() throws {
        // Two failures open the circuit for 1.5 s; the third call is the single probe, after the cool-down.
        let run = try Self.render(faults: [.status(500), .status(500)], maxRetries: 3,
                                  circuit: CircuitBreakerSettings(failures: 2, cooldown: 1.5), workers: 2)
        guard case .finished = run.outcome else {
            Issue.record("expected success after the circuit closed, got \(run.outcome)")
            return
        }
        #expect(run.generateTimes.count == 3)
        #expect(run.generateTimes[2] - run.generateTimes[1] >= 1.4, "no request while the circuit is open")
    }
}
