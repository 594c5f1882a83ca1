import Foundation
import Logging
import RedisClient

/// The build's side of the queue: enqueues the jobs, then waits for each to end and stores its audio in
/// the cache. Survives Redis going away: it reconnects with backoff, then checks every job it waits for;
/// a job that Redis lost (a restart without persistence) is enqueued again, and one whose notification
/// was lost is found by that check too (it also runs after 5 quiet seconds).
final class Collector {
    let endpoint: RedisEndpoint
    let settings: QueueSettings
    let cache: AudioCache
    let logger: Logger
    let buildID: String
    /// Where this process's workers leave the audio of this build's jobs (see `LocalResults`).
    let local: LocalResults
    /// How long Redis may stay away before the build gives up (exit 3).
    static let reconnectTimeout = 120.0

    private var queue: JobQueue?
    /// Job id -> audio key, for the jobs still to end.
    private var outstanding: [String: String] = [:]
    private func job(_ key: String) -> RenderJob? { local.jobs[key] }
    private(set) var enqueued = 0
    private(set) var joined = 0
    private(set) var rendered: [String: Manifest.Audio] = [:]
    private(set) var failed: [String: String] = [:]
    /// Per audio key: attempts and the last attempt's seconds, for reports.
    private(set) var details: [String: (attempts: Int, seconds: Double?)] = [:]
    private var total: Int { local.jobs.jobs.count }

    /// For the build's `jobs` (`enqueue` puts them on the queue).
    init(jobs: [RenderJob], endpoint: RedisEndpoint, settings: QueueSettings, cache: AudioCache, logger: Logger) throws {
        self.endpoint = endpoint
        self.settings = settings
        self.cache = cache
        self.logger = logger
        buildID = RandomID.uuid()
        local = LocalResults(notifyList: JobQueue.notifyList(build: buildID), jobs: JobTable(jobs))
        queue = JobQueue(connection: try RedisConnection(endpoint), settings: settings)
    }

    func enqueue() throws {
        let jobs = local.jobs.jobs
        // Sized once: a dictionary that doubles near the end holds its old and new tables at once (for 100,000
        // jobs, 26 + 51 MB for `rendered` in the build's last seconds, its peak).
        rendered.reserveCapacity(jobs.count)
        details.reserveCapacity(jobs.count)
        try enqueueAgain(jobs, counting: true)
    }

    private func enqueueAgain(_ jobs: [RenderJob], counting: Bool) throws {
        let results = try connected().enqueue(jobs, build: buildID)
        for (job, result) in zip(jobs, results) {
            outstanding[result.jobID] = job.key
            if counting {
                if result.outcome == .queued { enqueued += 1 } else { joined += 1 }
            }
        }
    }

    /// Waits until every job has ended. `shouldStop` throws to end the wait (Ctrl-C, workers that cannot start).
    /// `idle` hears, every 30 quiet seconds, whether any worker serves the queue at all. `localWorkers`: this
    /// process runs workers, which announce their jobs in `local`; Redis' notifications (other processes'
    /// workers, failures) are then looked at four times a second instead of waited for.
    func collect(localWorkers: Bool, shouldStop: () throws -> Void, progress: (Int, Int, Int) -> Void,
                 idle: (_ workers: Int) -> Void = { _ in }) throws {
        var lastNews = Date()
        var lastIdleReport = Date()
        var lastUpkeep = Date.distantPast
        var nextLook = Date.distantPast
        var lostSince: Date?
        var backoff = 0.1
        while !outstanding.isEmpty {
            try shouldStop()
            do {
                let queue = try connected()
                if let since = lostSince {
                    logger.warning("Redis is back after \(Int(Date().timeIntervalSince(since))) s: checking every job this build waits for")
                    lostSince = nil
                    backoff = 0.1
                    try reconcile(queue)
                }
                var notified: [String]
                if localWorkers {
                    notified = local.waitForFinished(timeout: 0.25)
                    if notified.isEmpty || Date() >= nextLook {
                        notified += try queue.ended(build: buildID)
                        nextLook = Date().addingTimeInterval(0.25)
                    }
                } else {
                    notified = try queue.waitForEnded(build: buildID, timeout: 1)
                }
                let ended = notified.filter { outstanding[$0] != nil }
                for id in notified where outstanding[id] == nil { local.remove(id) }  // already settled: nothing to keep
                if ended.isEmpty {
                    // Keep the queue moving even with no worker in this process: due retries, dead workers' jobs.
                    if Date().timeIntervalSince(lastUpkeep) >= 1 {
                        lastUpkeep = Date()
                        try queue.promoteDueRetries()
                        try queue.reapLostJobs()
                    }
                    if Date().timeIntervalSince(lastNews) > 5 {
                        lastNews = Date()
                        try reconcile(queue)
                    }
                    if Date().timeIntervalSince(lastIdleReport) > 30 {
                        lastIdleReport = Date()
                        idle(try queue.connection.command("SCARD", "rq:workers:\(settings.name)").int ?? 0)
                    }
                    continue
                }
                lastNews = Date()
                lastIdleReport = Date()
                try settle(ended, queue)
                progress(total - outstanding.count, failed.count, total)
            } catch let error as RedisError {
                self.queue = nil
                let since = lostSince ?? Date()
                lostSince = since
                if Date().timeIntervalSince(since) > Self.reconnectTimeout {
                    throw InfrastructureError("lost Redis at \(endpoint) for over \(Int(Self.reconnectTimeout)) s: \(error)")
                }
                logger.warning("Redis: \(error); reconnecting in \(backoff) s")
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
    }

    /// Looks at every job still outstanding: ended ones are recorded, lost ones enqueued again.
    private func reconcile(_ queue: JobQueue) throws {
        let ids = try recordLocalResults(Array(outstanding.keys))
        guard !ids.isEmpty else { return }
        let outcomes = try queue.outcomeDetails(ids.map { ($0, outstanding[$0]!) })
        var lost: [RenderJob] = []
        var ended: [(String, JobQueue.JobDetails)] = []
        for (id, outcome) in zip(ids, outcomes) {
            switch outcome.outcome {
            case .pending: continue
            case .missing:
                lost.append(job(outstanding[id]!)!)
                outstanding[id] = nil
            default: ended.append((id, outcome))
            }
        }
        try record(ended.map(\.0), outcomes: ended.map(\.1))
        if !lost.isEmpty {
            logger.warning("\(lost.count) jobs are no longer in Redis (restarted without persistence?): enqueueing them again")
            try enqueueAgain(lost, counting: false)
        }
    }

    /// Records jobs that ended: from this process's workers without asking Redis, the others' from Redis.
    private func settle(_ ids: [String], _ queue: JobQueue) throws {
        let remote = try recordLocalResults(ids)
        if !remote.isEmpty { try record(remote, outcomes: try queue.outcomeDetails(remote.map { ($0, outstanding[$0]!) })) }
    }

    /// Records the jobs whose results this process's workers left here (no question to Redis for those);
    /// returns the other ids.
    private func recordLocalResults(_ ids: [String]) throws -> [String] {
        var remote: [String] = []
        for id in ids {
            if let result = local.take(id) { try recordHere(id, result) } else { remote.append(id) }
        }
        return remote
    }

    /// A job this process's workers finished: its audio, digest and report came without Redis.
    private func recordHere(_ id: String, _ result: LocalResults.Result) throws {
        guard let key = outstanding[id], let job = job(key) else { return }
        do {
            try cache.store(result.audio, key: key, format: job.fileFormat)
        } catch {
            throw InfrastructureError("cannot write the cache: \(error)")
        }
        rendered[key] = Manifest.Audio(job: job, sha256: result.sha256, bytes: result.audio.count, report: result.report)
        details[key] = (result.attempts, result.seconds)
        outstanding[id] = nil
    }

    private func record(_ ids: [String], outcomes: [JobQueue.JobDetails]) throws {
        for (id, details) in zip(ids, outcomes) {
            guard let key = outstanding[id], let job = job(key) else { continue }
            self.details[key] = (details.attempts, details.seconds)
            switch details.outcome {
            case .finished(let audio, let report):
                do {
                    try cache.store(audio, key: key, format: job.fileFormat)
                } catch {
                    throw InfrastructureError("cannot write the cache: \(error)")
                }
                rendered[key] = Manifest.Audio(job: job, bytes: audio, report: report)
            case .failed(let reason):
                failed[key] = reason
            case .missing:
                if let result = local.take(id) {  // finished here between the look at the results and the question
                    try recordHere(id, result)
                    continue
                }
                // The job ended, but its audio expired before it was collected: render it again.
                outstanding[id] = nil
                try enqueueAgain([job], counting: false)
                continue
            case .pending:
                continue
            }
            outstanding[id] = nil
        }
    }

    private func connected() throws -> JobQueue {
        if let queue { return queue }
        let queue = JobQueue(connection: try RedisConnection(endpoint), settings: settings)
        self.queue = queue
        return queue
    }

    /// Removes this build's notification list.
    func finish() {
        _ = try? queue?.connection.command("DEL", JobQueue.notifyList(build: buildID))
    }
}
