import Foundation
import Logging
import RedisClient

/// One worker: takes jobs from the queue, synthesizes, validates and hands the audio back through Redis.
/// Runs on its own thread (`WorkerPool` makes it), with its own Redis connection and synthesizer, so that
/// its blocking calls never touch Swift's cooperative pool.
final class Worker: Sendable {
    let identity: WorkerIdentity
    let endpoint: RedisEndpoint
    /// The queues it serves, in priority order (one settings value each, differing in name).
    let queues: [QueueSettings]
    var settings: QueueSettings { queues[0] }
    let rules: ValidationRules
    let factory: SynthesizerFactory
    let state: WorkerPool.SharedState
    let logger: Logger
    let policy: RetryPolicy
    /// In a build's process: where the build's own jobs' audio goes, instead of through Redis.
    let local: LocalResults?

    init(identity: WorkerIdentity, endpoint: RedisEndpoint, queues: [QueueSettings], rules: ValidationRules,
         factory: SynthesizerFactory, state: WorkerPool.SharedState, logger: Logger, local: LocalResults? = nil) {
        self.identity = identity
        self.local = local
        self.endpoint = endpoint
        self.queues = queues
        self.rules = rules
        self.factory = factory
        self.state = state
        policy = RetryPolicy(queues[0])
        var logger = logger
        logger[metadataKey: "worker"] = "\(identity.name)"
        self.logger = logger
    }

    /// The worker's loop, until the pool stops. Connection trouble is retried with backoff.
    func run() {
        let synthesizer: any Synthesizer
        let limits: AccountLimits
        do {
            synthesizer = try factory.make(isCancelled: { [state] in state.isAbandoning })
            limits = try factory.limits()
        } catch {
            logger.error("cannot start the synthesizer: \(error)")
            state.recordFatal("\(error)")
            return
        }
        var connected: [JobQueue] = []
        var backoff = 0.1
        // The next job, taken in the round trip that finished the last one.
        var next: JobQueue.TakenJob?
        while !state.isStopping {
            do {
                if connected.isEmpty {
                    let connection = try RedisConnection(endpoint, commandTimeout: 30)
                    connected = queues.map { JobQueue(connection: connection, settings: $0, knownJobs: local?.jobs) }
                    try connected[0].register(identity)
                    if backoff > 0.1 { logger.info("Redis is back: \(endpoint)") }
                    backoff = 0.1
                }
                let taken: JobQueue.TakenJob, queue: JobQueue
                if let job = next {
                    (taken, queue) = (job, connected[0])
                    next = nil
                } else {
                    guard let job = try take(from: connected) else { continue }
                    (taken, queue) = job
                }
                state.setRunning(taken, for: identity.name)
                defer { state.setRunning(nil, for: identity.name) }
                next = try process(taken, synthesizer: synthesizer, queue: queue, limiter: Limiter(queue: queue, limits: limits))
            } catch {
                logger.warning("Redis: \(error); reconnecting in \(backoff) s")
                connected = []
                state.waitForStop(seconds: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
        if let next, let queue = connected.first { try? queue.giveBack(next, worker: identity.name) }
        if let queue = connected.first { try? queue.deregister(identity) }
    }

    /// The next job from the first queue that has one, in priority order. Only the last queue is waited on,
    /// briefly (a short wait keeps a stopping pool from lingering; an idle worker asks Redis twice a second).
    private func take(from connected: [JobQueue]) throws -> (JobQueue.TakenJob, JobQueue)? {
        for (index, queue) in connected.enumerated() {
            let last = index == connected.count - 1
            do {
                if let taken = try queue.take(worker: identity.name, timeout: last ? 0.5 : nil) { return (taken, queue) }
            } catch let error as JobQueue.ForeignJob {
                // Not ours: it is back in its queue; wait a little so as not to take it again at once.
                logger.warning("\(error)")
                state.waitForStop(seconds: 1)
                return nil
            }
        }
        return nil
    }

    /// One attempt at one job: permission from the account's limiter, synthesis, validation, and then
    /// finished, scheduled for another attempt, or dead-lettered with every attempt's reason. Returns the next
    /// job when finishing this one took it too.
    private func process(_ taken: JobQueue.TakenJob, synthesizer: any Synthesizer, queue: JobQueue, limiter: Limiter) throws
        -> JobQueue.TakenJob? {
        let started = Date()
        let job = taken.job
        let attempt = taken.attempts.count + 1
        let deadline = Date(timeIntervalSince1970: taken.startedAt + Double(settings.jobTimeout))
        var metadata: Logger.Metadata = ["job": "\(taken.id)", "key": "\(job.key.prefix(12))", "attempt": "\(attempt)",
                                         "queue": "\(queue.settings.name)"]
        if let item = job.item { metadata["item"] = "\(item)" }
        var retryAfter: Double?
        do {
            guard let permit = try limiter.acquire(until: deadline, stopping: { state.isAbandoning },
                                                   wait: { state.waitForStop(seconds: $0) }) else {
                try queue.giveBack(taken, worker: identity.name)
                return nil
            }
            let audio: [UInt8]
            do {
                audio = try synthesizer.synthesize(job, deadline: deadline)
                try limiter.release(permit, .success)
            } catch let error as SynthesisError {
                if state.isAbandoning {
                    try limiter.release(permit, .neutral)
                    try queue.giveBack(taken, worker: identity.name)
                    return nil
                }
                retryAfter = error.retryAfter
                let outcome: Limiter.Outcome = error.accountHalted ? .halt(reason: error.message)
                    : error.retryAfter.map { .throttled(seconds: $0) } ?? (error.serviceFault ? .failure : .success)
                try limiter.release(permit, outcome)
                throw error
            }
            var delivered = audio
            let raw = try AudioCheck(rules: rules, expected: job.output).decodeAndCheck(audio, text: job.text)
            var report = raw.report
            if let mastering = job.mastering {
                // Mastered from the samples the check decoded, then checked again as the file that goes into the cache.
                let (mastered, measured) = try Mastering.master(samples: raw.samples, info: raw.info, settings: mastering)
                delivered = mastered
                report = try AudioCheck(rules: rules, expected: job.delivered).check(mastered, text: job.text)
                report.lufs = measured.lufs
                report.truePeakDB = measured.truePeakDB
                report.trimmedMs = measured.trimmedMs
            }
            let next = try deliver(delivered, report: report, taken: taken, queue: queue)
            let seconds = Date().timeIntervalSince(started)
            PipelineMetrics.completed(queue: queue.settings.name, seconds: seconds)
            state.recordJob(seconds: seconds, failed: false)
            metadata["ms"] = "\(Int(seconds * 1000))"
            metadata["audio_ms"] = "\(report.durationMs)"
            logger.info("job finished", metadata: metadata)
            return next
        } catch let error as RedisError {
            throw error
        } catch {
            let reason = "\(error)"
            metadata["reason"] = "\(reason)"
            if Self.isRetryable(error, synthesizer: job.synthesizer) && policy.allowsRetry(after: attempt) {
                let delay = policy.delay(after: attempt, retryAfter: retryAfter)
                try queue.retry(taken, worker: identity.name, reason: reason, delay: delay)
                PipelineMetrics.retried(queue: queue.settings.name)
                metadata["retry_in_s"] = "\(Int(delay.rounded(.up)))"
                logger.info("job attempt failed, retrying", metadata: metadata)
            } else {
                try queue.fail(taken, worker: identity.name, reason: reason)
                PipelineMetrics.failed(queue: queue.settings.name)
                state.recordJob(seconds: Date().timeIntervalSince(started), failed: true)
                logger.warning("job failed for good (dead letter)", metadata: metadata)
            }
            return nil
        }
    }

    /// Finishes the job with its audio: kept in this process when the build here is the only one waiting for
    /// it, otherwise through Redis for every build that waits. A build's worker serving one queue takes its
    /// next job in the same round trip, and returns it.
    private func deliver(_ audio: [UInt8], report: AudioReport, taken: JobQueue.TakenJob, queue: JobQueue) throws -> JobQueue.TakenJob? {
        guard let local else {
            try queue.finish(taken, worker: identity.name, audio: audio, report: report)
            return nil
        }
        // Hashed here, on the worker's thread, rather than by the build's one collecting thread.
        local.put(LocalResults.Result(audio: audio, sha256: SHA256.hex(audio), report: report, attempts: taken.attempts.count + 1,
                                      seconds: max(0, Date().timeIntervalSince1970 - taken.startedAt)),
                  id: taken.id, stopping: { state.isAbandoning })
        var announced = false
        func announce() {
            local.announce(taken.id)
            announced = true
        }
        do {
            if queues.count == 1 && !state.isStopping {
                let (finished, next) = try queue.finishHereAndTake(taken, worker: identity.name, bytes: audio.count, report: report,
                                                                   notifyList: local.notifyList, finished: announce)
                if finished { return next }
            } else if try queue.finishHere(taken, worker: identity.name, bytes: audio.count, report: report, notifyList: local.notifyList) {
                announce()
                return nil
            }
            local.remove(taken.id)
            try queue.finish(taken, worker: identity.name, audio: audio, report: report)
            return nil
        } catch {
            if !announced { local.remove(taken.id) }  // once announced, the collector counts on it
            throw error
        }
    }

    /// What may succeed later: 429, 5xx, timeouts, broken connections and downloads, a job that ran out of
    /// time waiting for its turn, and invalid audio from a remote service (a passing fault there). A refused
    /// key, a bad request or a 402 will not; nor will invalid audio from espeak-ng, which says the same again.
    static func isRetryable(_ error: Error, synthesizer: SynthesizerKind) -> Bool {
        switch error {
        case let error as SynthesisError: return error.retryable && !error.accountHalted
        case is AudioRejected: return !synthesizer.isDeterministic
        case is Limiter.TimedOut: return true
        default: return false
        }
    }
}
