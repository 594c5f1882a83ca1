import Foundation
import RedisClient

/// The `tts_batch` queue in RQ's Redis layout, over one Redis connection.
///
/// The producer side (`enqueue`, `waitForEnded`, `outcomes`) is what `build` uses; the consumer side
/// (`take`, `finish`, `fail`, worker registration) is what workers use. Every state change is one
/// Lua script, so each step is atomic and costs one round trip. Blocking: one queue per thread.
public final class JobQueue {
    public let connection: RedisConnection
    public let settings: QueueSettings
    private var scriptSHA: [String: String] = [:]

    /// Jobs this process already has, by audio key (a build's own workers): taken without decoding their data.
    let knownJobs: JobTable?

    public convenience init(connection: RedisConnection, settings: QueueSettings) {
        self.init(connection: connection, settings: settings, knownJobs: nil)
    }

    init(connection: RedisConnection, settings: QueueSettings, knownJobs: JobTable?) {
        self.connection = connection
        self.settings = settings
        self.knownJobs = knownJobs
    }

    /// Seconds a finished job's audio waits in Redis for the builds that asked for it.
    var audioTTL: Int { max(settings.dedupTTL, 600) }
    /// RQ's default failure TTL: a failed job stays visible to `rq info` for a year.
    static let failureTTL = 31_536_000

    static func notifyList(build: String) -> String { "prerender:notify:\(build)" }

    // MARK: - Producer

    public enum EnqueueOutcome: String, Sendable {
        /// A new job is on the queue.
        case queued
        /// The same audio is already queued or running (another build asked for it): this build waits for that job.
        case joined
        /// The same audio finished moments ago and is still in Redis.
        case done
    }

    /// Enqueues jobs, deduplicated against everything queued or running on this Redis: one script call per
    /// batch of `batchSize`, streamed so that Redis enqueues one batch while the next is being written.
    /// Returns, per job, what happened and the id of the job that will deliver its audio.
    public func enqueue(_ jobs: [RenderJob], build: String, batchSize: Int = 500) throws -> [(outcome: EnqueueOutcome, jobID: String)] {
        // Loaded now rather than on a NOSCRIPT: replies arrive after later batches are already sent.
        let sha = try load(QueueScripts.enqueue)
        let shared: [[UInt8]] = [Array("EVALSHA".utf8), Array(sha.utf8), Array("0".utf8)]
            + [settings.name, String(settings.dedupTTL), String(settings.jobTTL), String(settings.resultTTL),
               String(settings.jobTimeout), RQTime.iso(), Self.notifyList(build: build)].map { Array($0.utf8) }
        let ids = RandomID.uuids(jobs.count)
        var encoder = RenderJob.DataEncoder()
        var results: [(EnqueueOutcome, String)] = []
        results.reserveCapacity(jobs.count)
        func collect(_ reply: RedisValue) throws {
            let flat = try reply.throwingError().array ?? []
            for pair in stride(from: 0, to: flat.count - 1, by: 2) {
                guard let word = flat[pair].string, let outcome = EnqueueOutcome(rawValue: word), let id = flat[pair + 1].string else {
                    throw RedisError(.unexpectedReply, "enqueue answered \(reply)")
                }
                results.append((outcome, id))
            }
        }
        var inFlight = 0
        do {
            for start in stride(from: 0, to: jobs.count, by: batchSize) {
                var arguments = shared
                arguments.reserveCapacity(shared.count + 4 * batchSize)
                for n in start..<min(start + batchSize, jobs.count) {
                    arguments.append(Array(ids[n].utf8))
                    arguments.append(Array(jobs[n].key.utf8))
                    arguments.append(encoder.rqData(jobs[n]))
                    arguments.append(Array(jobs[n].summary.utf8))
                }
                try connection.send([arguments])
                inFlight += 1
                if inFlight > 2 {  // two batches queued at Redis keep it busy; replies are read as they come
                    try collect(connection.receive(1)[0])
                    inFlight -= 1
                }
            }
            for reply in try connection.receive(inFlight) { try collect(reply) }
        } catch {
            connection.close()  // replies may still be on the way: this connection is out of step now
            throw error
        }
        guard results.count == jobs.count else {
            throw RedisError(.unexpectedReply, "enqueue answered for \(results.count) of \(jobs.count) jobs")
        }
        PipelineMetrics.submitted(results.filter { $0.0 == .queued }.count, queue: settings.name)
        return results
    }

    /// Waits up to `timeout` seconds for jobs of this build to end; returns the ids that ended (maybe none).
    public func waitForEnded(build: String, timeout: Double) throws -> [String] {
        let reply = try connection.command("BLPOP", Self.notifyList(build: build), String(format: "%.3f", timeout))
        guard let pair = reply.array, pair.count == 2, let first = pair[1].string else { return [] }
        // Drain what else is there in one more round trip.
        return try [first] + ended(build: build)
    }

    /// The jobs of this build that ended since the last look, without waiting.
    public func ended(build: String) throws -> [String] {
        try connection.command("LPOP", Self.notifyList(build: build), 1_000).array?.compactMap(\.string) ?? []
    }

    public enum JobOutcome: Sendable {
        case finished(audio: [UInt8], report: AudioReport)
        case failed(reason: String)
        /// Still queued or running.
        case pending
        /// Redis no longer has the job or its audio (expired, or Redis restarted).
        case missing
    }

    /// The outcome of ended jobs, in one round trip.
    public func outcomes(_ jobs: [(id: String, key: String)]) throws -> [JobOutcome] {
        try outcomeDetails(jobs).map(\.outcome)
    }

    /// What happened to a job: its outcome, how many attempts it took, and how long the last one ran.
    public struct JobDetails: Sendable {
        public var outcome: JobOutcome
        public var attempts: Int
        public var seconds: Double?
    }

    /// Outcomes with attempts and durations, in one round trip. A finished job's audio is taken: the last
    /// build waiting for it removes it from Redis, so each finished job must be asked about once.
    public func outcomeDetails(_ jobs: [(id: String, key: String)]) throws -> [JobDetails] {
        guard !jobs.isEmpty else { return [] }
        // GET then the outcome script, per job, in one MULTI: a job finishing between the two cannot make this
        // build give up a share of audio it did not get.
        let exec = try pipeline(running: QueueScripts.outcome) { evalsha in
            [[Array("MULTI".utf8)]]
                + jobs.flatMap { job in
                    [[Array("GET".utf8), Array("prerender:audio:\(job.key)".utf8)], evalsha + [Array(job.id.utf8), Array(job.key.utf8)]]
                }
                + [[Array("EXEC".utf8)]]
        }.last ?? .null
        guard let replies = try exec.throwingError().array, replies.count == 2 * jobs.count else {
            throw RedisError(.unexpectedReply, "the outcome of \(jobs.count) jobs came back as \(exec)")
        }
        if let error = replies.first(where: { if case .error = $0 { true } else { false } }) { _ = try error.throwingError() }
        return (0..<jobs.count).map { i in
            let fields = replies[2 * i + 1].array ?? []
            func field(_ n: Int) -> RedisValue { n < fields.count ? fields[n] : .null }
            let failedAttempts = (try? JSONDecoder().decode([String].self, from: Data(field(3).bytes ?? []))).map(\.count) ?? 0
            let seconds = RQTime.parse(field(5).string ?? "").flatMap { end in RQTime.parse(field(4).string ?? "").map { end - $0 } }
            let status = field(0).string
            switch status {
            case "finished":
                guard let audio = replies[2 * i].bytes, let json = field(2).bytes,
                      let report = try? JSONDecoder().decode(AudioReport.self, from: Data(json)) else {
                    return JobDetails(outcome: .missing, attempts: failedAttempts, seconds: nil)
                }
                return JobDetails(outcome: .finished(audio: audio, report: report), attempts: failedAttempts + 1, seconds: seconds)
            case "failed", "stopped", "canceled":
                let reason = field(1).string.flatMap { $0.isEmpty ? nil : $0 }
                return JobDetails(outcome: .failed(reason: reason ?? "the job was \(status!) outside this pipeline (rq requeue, cancel, or abandoned)"),
                                  attempts: failedAttempts, seconds: seconds)
            case nil:
                return JobDetails(outcome: .missing, attempts: 0, seconds: nil)
            default:
                return JobDetails(outcome: .pending, attempts: failedAttempts, seconds: nil)
            }
        }
    }

    // MARK: - Consumer

    /// A job a worker holds.
    public struct TakenJob: Sendable {
        public var id: String
        public var executionID: String
        public var job: RenderJob
        /// Unix time the worker started it.
        public var startedAt: Double
        /// The reasons of the attempts before this one.
        public var attempts: [String] = []
        /// The queue it came from.
        public var queue: String = ""
    }

    /// Takes the next job, waiting up to `timeout` seconds for one (nil: not at all). Jobs whose data cannot
    /// be read fail at once.
    public func take(worker: String, timeout: Double?) throws -> TakenJob? {
        let queue = settings.name
        var start = Start(worker: worker, settings: settings)
        // A queue with jobs: take one and start it in one round trip.
        var data = try runScript(QueueScripts.takeAndStart, start.arguments(id: ""))
        if case .null = data {
            // Nothing queued: wait for a job (BLMOVE keeps it in the intermediate list until it is started).
            let reply = if let timeout {
                try connection.command("BLMOVE", "rq:queue:\(queue)", "rq:queue:\(queue):intermediate", "LEFT", "RIGHT",
                                       String(format: "%.3f", timeout))
            } else {
                try connection.command("LMOVE", "rq:queue:\(queue)", "rq:queue:\(queue):intermediate", "LEFT", "RIGHT")
            }
            guard let id = reply.string else { return nil }
            start = Start(worker: worker, settings: settings)
            data = try runScript(QueueScripts.start, start.arguments(id: id))
        }
        return try started(data, start)
    }

    /// `finishHere`, and when it finished the job, the next job taken and started in the same round trip (nil
    /// when the queue is empty or its first job expired: then `take` waits as usual). `finished` runs as soon
    /// as the job is known to be finished, before the next job's data is read.
    func finishHereAndTake(_ taken: TakenJob, worker: String, bytes: Int, report: AudioReport, notifyList: String,
                           finished: () -> Void) throws -> (finished: Bool, next: TakenJob?) {
        let start = Start(worker: worker, settings: settings)
        let arguments = try finishArguments(taken, worker: worker, bytes: bytes, report: report) + [Array(notifyList.utf8)]
        let reply = try runScript(QueueScripts.finishHereAndTake, arguments + start.arguments(id: ""))
        guard let parts = reply.array, let done = parts.first?.int else {
            throw RedisError(.unexpectedReply, "finishing job \(taken.id) gave no answer")
        }
        guard done == 1 else { return (false, nil) }
        finished()
        guard parts.count == 2 else { return (true, nil) }
        do {
            return (true, try started(parts[1], start))
        } catch is ForeignJob {
            return (true, nil)  // back at the end of its queue; `take` says so when it meets it again
        }
    }

    /// The arguments of the scripts that start a job: who starts it, and when.
    private struct Start {
        let queue: String
        let worker: String
        let execution = RandomID.hex(bytes: 16)
        let now = Date()
        let heartbeatTimeout: Int

        init(worker: String, settings: QueueSettings) {
            queue = settings.name
            self.worker = worker
            heartbeatTimeout = settings.heartbeatTimeout
        }

        func arguments(id: String) -> [[UInt8]] {
            [queue, id, worker, RQTime.iso(now), String(Int(RQTime.unix(now))), execution, String(RQTime.unix(now)),
             String(heartbeatTimeout)].map { Array($0.utf8) }
        }
    }

    /// The job a start script answered with; nil for none, and for `skip` (an expired job was dropped: the caller
    /// asks again). Jobs whose data cannot be read fail at once.
    private func started(_ data: RedisValue, _ start: Start) throws -> TakenJob? {
        if let word = data.string, word.hasPrefix("foreign:") {
            throw ForeignJob(id: String(word.dropFirst("foreign:".count)), queue: start.queue)
        }
        guard let reply = data.array, reply.count == 4, var bytes = reply[0].bytes, let id = reply[2].string else { return nil }
        let attemptsJSON = reply[1].bytes ?? []
        let attempts = attemptsJSON == Array("[]".utf8) ? [] : (try? JSONDecoder().decode([String].self, from: Data(attemptsJSON))) ?? []
        let startedAt = RQTime.unix(start.now)
        if let key = reply[3].string, let known = knownJobs?[key] {
            return TakenJob(id: id, executionID: start.execution, job: known, startedAt: startedAt, attempts: attempts, queue: start.queue)
        }
        if Zlib.looksCompressed(bytes), let plain = Zlib.decompress(bytes) {
            bytes = plain  // rq requeue and RQ's abandoned-job cleanup store data zlib-compressed
        }
        let taken: RenderJob
        do {
            taken = try RenderJob.fromRQData(bytes)
        } catch {
            try fail(TakenJob(id: id, executionID: start.execution, job: RenderJob(key: "", text: "", voice: "", synthesizer: .espeak,
                                                                                   parameters: [:], format: "", sampleRate: 0, channels: 0),
                              startedAt: startedAt, attempts: attempts),
                     worker: start.worker, reason: "unreadable job data: \(error)")
            return nil
        }
        return TakenJob(id: id, executionID: start.execution, job: taken, startedAt: startedAt, attempts: attempts, queue: start.queue)
    }

    /// A job on a prerender queue that is not prerender's (another producer's RQ job): it went back to
    /// the end of its queue for RQ's own workers.
    public struct ForeignJob: Error, CustomStringConvertible {
        public var id: String
        public var queue: String
        public var description: String { "job \(id) on \(queue) is not a prerender job: left for RQ's own workers" }
    }

    /// Hands valid audio back: stored for the waiting builds, the job finished as RQ would finish it.
    public func finish(_ taken: TakenJob, worker: String, audio: [UInt8], report: AudioReport) throws {
        let arguments = try finishArguments(taken, worker: worker, bytes: audio.count, report: report)
        // The audio goes by a plain SET (see QueueScripts.finish), before the script that announces it.
        try runPipelined(QueueScripts.finish, [arguments],
                         before: [[Array("SET".utf8), Array("prerender:audio:\(taken.job.key)".utf8), audio, Array("EX".utf8), arguments[9]]])
    }

    /// Finishes a job whose audio stays in this process, for the build with notification list `notifyList`
    /// (`LocalResults`), which is told in the process, not through that list. False when another build waits
    /// for the same audio too: then nothing has changed, and the audio must go through Redis with `finish`.
    func finishHere(_ taken: TakenJob, worker: String, bytes: Int, report: AudioReport, notifyList: String) throws -> Bool {
        let arguments = try finishArguments(taken, worker: worker, bytes: bytes, report: report) + [Array(notifyList.utf8)]
        return try runScript(QueueScripts.finishHere, arguments).int == 1
    }

    private func finishArguments(_ taken: TakenJob, worker: String, bytes: Int, report: AudioReport) throws -> [[UInt8]] {
        let now = Date()
        let resultJSON = report.json
        // RQ's return value: the report with the key and size in front (no round trip through JSONSerialization).
        var returnJSON = Array(#"{"bytes":\#(bytes),"key":"#.utf8)
        CanonicalJSON.quote(taken.job.key, into: &returnJSON)
        returnJSON += resultJSON.count > 2 ? [UInt8(ascii: ",")] + resultJSON.dropFirst() : [UInt8(ascii: "}")]
        let seconds = max(0, RQTime.unix(now) - taken.startedAt)
        return [
            Array(settings.name.utf8), Array(taken.id.utf8), Array(taken.executionID.utf8), Array(worker.utf8),
            Array(RQTime.iso(now).utf8), Array(String(RQTime.unix(now)).utf8), Array(String(settings.resultTTL).utf8),
            Array(Data(returnJSON).base64EncodedString().utf8), Array(taken.job.key.utf8), Array(String(audioTTL).utf8),
            Array(String(seconds).utf8), Array(resultJSON), Array(String(taken.startedAt).utf8),
        ]
    }

    /// Ends a job for good: it cannot succeed, or it is out of retries. RQ's failed registry and the dead-letter
    /// queue get it with every attempt's reason, and the waiting builds are told.
    public func fail(_ taken: TakenJob, worker: String, reason: String) throws {
        let now = Date()
        let seconds = max(0, RQTime.unix(now) - taken.startedAt)
        let attempts = taken.attempts + [reason]
        let summary = attempts.count == 1 ? reason
            : "failed \(attempts.count) attempts: " + attempts.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "; ")
        let excString = Data(Zlib.compress(Array(summary.utf8))).base64EncodedString()
        try runScript(QueueScripts.fail, [
            settings.name, taken.id, taken.executionID, worker, RQTime.iso(now), String(RQTime.unix(now)),
            String(Self.failureTTL), excString, summary, taken.job.key, String(seconds), String(taken.startedAt),
            Self.json(attempts), settings.deadLetterName,
        ].map { Array($0.utf8) })
    }

    /// Schedules another attempt after `delay` seconds (RQ's scheduled registry); the job stays the same job,
    /// so builds waiting for it keep waiting.
    public func retry(_ taken: TakenJob, worker: String, reason: String, delay: Double) throws {
        let now = Date()
        let seconds = max(0, RQTime.unix(now) - taken.startedAt)
        let excString = Data(Zlib.compress(Array(reason.utf8))).base64EncodedString()
        try runScript(QueueScripts.retry, [
            settings.name, taken.id, taken.executionID, worker, RQTime.iso(now), String(max(0, delay)),
            Self.json(taken.attempts + [reason]), String(seconds), String(taken.startedAt), String(settings.jobTTL), excString,
        ].map { Array($0.utf8) })
    }

    /// Moves scheduled retries whose time has come back onto the queue. Returns how many moved.
    @discardableResult
    public func promoteDueRetries(most: Int = 1_000) throws -> Int {
        try runScript(QueueScripts.promote, [settings.name, String(most), RQTime.iso()].map { Array($0.utf8) }).int ?? 0
    }

    /// Returns the jobs of workers that stopped sending heartbeats to the queue (or to the dead letters when
    /// they are out of retries). Any process may run it: workers and builds do, about once a second.
    @discardableResult
    public func reapLostJobs() throws -> Int {
        try runScript(QueueScripts.reap, [
            settings.name, RQTime.iso(), String(Self.intermediateGrace), String(settings.maxRetries), String(Self.failureTTL),
            settings.deadLetterName,
        ].map { Array($0.utf8) }).int ?? 0
    }

    /// Seconds a job id may sit in the intermediate list before it counts as stranded. A live worker moves it
    /// on within milliseconds.
    static let intermediateGrace = 10

    /// Hands an unfinished job back to the front of the queue (a worker stopping at once).
    public func giveBack(_ taken: TakenJob, worker: String) throws {
        try runScript(QueueScripts.giveBack, [settings.name, taken.id, taken.executionID, worker, RQTime.iso()].map { Array($0.utf8) })
    }

    static func json(_ strings: [String]) -> String {
        (try? JSONEncoder().encode(strings)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// Nothing queued, running or waiting to retry on this queue.
    public func isIdle() throws -> Bool {
        let name = settings.name
        let counts = try connection.pipeline([
            ["LLEN", "rq:queue:\(name)"], ["ZCARD", "rq:wip:\(name)"], ["ZCARD", "rq:scheduled:\(name)"],
            ["LLEN", "rq:queue:\(name):intermediate"],
        ].map { $0.map { Array($0.utf8) } })
        return counts.allSatisfy { $0.int == 0 }
    }


    // MARK: - Scripts

    @discardableResult
    func runScript(_ script: QueueScripts.Script, _ arguments: [[UInt8]]) throws -> RedisValue {
        try runPipelined(script, [arguments])[0].throwingError()
    }

    /// Runs a script once per argument list in one round trip, loading it first if Redis does not have it
    /// (a new server, or one restarted since). `before`: plain commands sent first in the same round trip.
    @discardableResult
    func runPipelined(_ script: QueueScripts.Script, _ argumentLists: [[[UInt8]]], before: [[[UInt8]]] = []) throws -> [RedisValue] {
        try pipeline(running: script) { evalsha in before + argumentLists.map { evalsha + $0 } }
    }

    /// Sends, in one round trip, commands that run `script` (each made with the `EVALSHA <sha> 0` prefix it is
    /// given). When Redis no longer has the script (a new server, or one restarted since: NOSCRIPT, also inside
    /// a MULTI's EXEC), it is loaded and the commands are sent once more. Throws on an error reply.
    private func pipeline(running script: QueueScripts.Script, _ commands: (_ evalsha: [[UInt8]]) -> [[[UInt8]]]) throws -> [RedisValue] {
        func isNoScript(_ value: RedisValue) -> Bool { if case .error(let message) = value { message.hasPrefix("NOSCRIPT") } else { false } }
        for attempt in 0..<2 {
            let sha = try sha1(of: script)
            let replies = try connection.pipeline(commands([Array("EVALSHA".utf8), Array(sha.utf8), Array("0".utf8)]))
            if attempt == 0, replies.contains(where: { isNoScript($0) || $0.array?.contains(where: isNoScript) == true }) {
                scriptSHA[script.source] = nil
                continue
            }
            if let error = replies.first(where: { if case .error = $0 { true } else { false } }) { _ = try error.throwingError() }
            return replies
        }
        throw RedisError(.server, "Redis keeps forgetting the queue's scripts (NOSCRIPT)")
    }

    private func sha1(of script: QueueScripts.Script) throws -> String {
        if let sha = scriptSHA[script.source] { return sha }
        return try load(script)
    }

    /// Loads a script into Redis (again, if it had it) and returns its SHA1.
    private func load(_ script: QueueScripts.Script) throws -> String {
        guard let sha = try connection.command("SCRIPT", "LOAD", script.source).string else {
            throw RedisError(.unexpectedReply, "SCRIPT LOAD gave no SHA1")
        }
        scriptSHA[script.source] = sha
        return sha
    }
}

extension RedisValue {
    func throwingError() throws -> RedisValue {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }
}
