import Foundation
import Logging
import RedisClient

/// One worker: takes jobs from the queue, synthesizes, validates and hands the audio back through Redis.
/// Runs on its own thread (`WorkerPool` makes it), with its own Redis connection and synthesizer, so that
/// its blocking calls never touch Swift's cooperative pool.
final class Worker: Sendable {
    let identity: WorkerIdentity
    let endpoint: RedisEndpoint
    let settings: QueueSettings
    let rules: ValidationRules
    let factory: SynthesizerFactory
    let state: WorkerPool.SharedState
    let logger: Logger

    init(identity: WorkerIdentity, endpoint: RedisEndpoint, settings: QueueSettings, rules: ValidationRules,
         factory: SynthesizerFactory, state: WorkerPool.SharedState, logger: Logger) {
        self.identity = identity
        self.endpoint = endpoint
        self.settings = settings
        self.rules = rules
        self.factory = factory
        self.state = state
        var logger = logger
        logger[metadataKey: "worker"] = "\(identity.name)"
        self.logger = logger
    }

    /// The worker's loop, until the pool stops. Connection trouble is retried with backoff.
    func run() {
        let synthesizer: any Synthesizer
        do {
            synthesizer = try factory.make(isCancelled: { [state] in state.isAbandoning })
        } catch {
            logger.error("cannot start the synthesizer: \(error)")
            state.recordFatal("\(error)")
            return
        }
        var queue: JobQueue?
        var backoff = 0.1
        while !state.isStopping {
            do {
                if queue == nil {
                    let q = JobQueue(connection: try RedisConnection(endpoint, commandTimeout: 30), settings: settings)
                    try q.register(identity)
                    queue = q
                    backoff = 0.1
                }
                guard let taken = try queue!.take(worker: identity.name, timeout: 1) else { continue }
                state.setRunning(taken, for: identity.name)
                defer { state.setRunning(nil, for: identity.name) }
                try process(taken, synthesizer: synthesizer, queue: queue!)
            } catch {
                logger.warning("Redis: \(error); reconnecting in \(backoff) s")
                queue = nil
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
        if let queue { try? queue.deregister(identity) }
    }

    private func process(_ taken: JobQueue.TakenJob, synthesizer: any Synthesizer, queue: JobQueue) throws {
        let started = Date()
        let job = taken.job
        do {
            let audio = try synthesizer.synthesize(job)
            let report = try AudioCheck(rules: rules, expected: job.output).check(audio, text: job.text)
            try queue.finish(taken, worker: identity.name, audio: audio, report: report)
            logger.debug("job finished", metadata: [
                "job": "\(taken.id)", "key": "\(job.key.prefix(12))", "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
                "audio_ms": "\(report.durationMs)",
            ])
        } catch let error as RedisError {
            throw error
        } catch {
            let reason = "\(error)"
            try queue.fail(taken, worker: identity.name, reason: reason)
            logger.info("job failed", metadata: ["job": "\(taken.id)", "key": "\(job.key.prefix(12))", "reason": "\(reason)"])
        }
    }
}
