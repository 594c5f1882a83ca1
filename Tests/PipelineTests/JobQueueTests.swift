import Foundation
@testable import Pipeline
import PrerenderTesting
import RedisClient
import Testing

/// The queue against a real redis-server: RQ's layout, taking, results, and dedup across producers.
@Suite struct JobQueueTests {
    let settings = QueueSettings()

    func job(_ text: String) -> RenderJob {
        BuildPlan(lessons: [Lesson(id: "l", title: "T", source: "l.yaml", items: [LessonItem(id: "x", text: text, voice: "pl-PL-kasia")])],
                  config: PipelineConfig()).jobs[0]
    }

    func fields(_ connection: RedisConnection, _ key: String) throws -> [String: String] {
        let values = try connection.command("HGETALL", key).array ?? []
        var result: [String: String] = [:]
        for i in stride(from: 0, to: values.count - 1, by: 2) { result[values[i].string!] = values[i + 1].string ?? "" }
        return result
    }

    /// A queue client on its own connection to `redis` (a producer, a worker: as separate processes would have).
    func client(_ redis: TestRedis) throws -> JobQueue {
        JobQueue(connection: try redis.connect(), settings: settings)
    }

    let report = AudioReport(format: "wav", sampleRate: 22_050, channels: 1, frames: 22_050, durationMs: 1_000, peak: 0.5, clippedRatio: 0)

    @Test func timesAreWrittenInRQsForm() {
        #expect(RQTime.iso(Date(timeIntervalSince1970: 1_796_000_647.123456)) == "2026-11-30T01:04:07.123456Z")
        #expect(RQTime.iso(Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500000Z")
        #expect(RQTime.parse(RQTime.iso(Date(timeIntervalSince1970: 1_796_000_647.25))) == 1_796_000_647.25)
    }

    @Test func enqueueWritesRQsLayout() throws {
        let redis = try TestRedis()
        let queue = try client(redis)
        let result = try queue.enqueue([job("Dzień dobry!"), job("Dziękuję.")], build: "b1")
        #expect(result.map(\.outcome) == [.queued, .queued])
        let r = try redis.connect()
        #expect(try r.command("SISMEMBER", "rq:queues", "rq:queue:tts_batch").int == 1)
        #expect(try r.command("LRANGE", "rq:queue:tts_batch", 0, -1).array?.compactMap(\.string) == result.map(\.jobID))
        let hash = try fields(r, "rq:job:\(result[0].jobID)")
        #expect(hash["status"] == "queued")
        #expect(hash["origin"] == "tts_batch")
        #expect(hash["timeout"] == "600")
        #expect(hash["result_ttl"] == "604800")
        #expect(hash["created_at"]?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil)
        #expect(hash["data"]?.hasPrefix("[\"prerender.synthesize\",null,[],{") == true)
        #expect(hash["data"]?.contains("Dzień dobry!") == true)
        let ttl = try r.command("TTL", "rq:job:\(result[0].jobID)").int ?? -1
        #expect(ttl > 0 && ttl <= settings.jobTTL)
        #expect(result[0].jobID.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) != nil)
    }

    @Test func takeStartFinishAndNotify() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let identity = WorkerIdentity.make(queue: "tts_batch", index: 0)
        try worker.register(identity)
        let id = try producer.enqueue([job("Tak.")], build: "b1")[0].jobID

        let taken = try #require(try worker.take(worker: identity.name, timeout: 1))
        #expect(taken.id == id && taken.job.text == "Tak.")
        let r = try redis.connect()
        #expect(try fields(r, "rq:job:\(id)")["status"] == "started")
        #expect(try r.command("ZCARD", "rq:wip:tts_batch").int == 1)
        #expect(try r.command("LLEN", "rq:queue:tts_batch:intermediate").int == 0)
        #expect(try fields(r, "rq:worker:\(identity.name)")["state"] == "busy")
        try worker.heartbeat(identity, running: taken)

        try worker.finish(taken, worker: identity.name, audio: [1, 2, 3], report: report)
        let hash = try fields(r, "rq:job:\(id)")
        #expect(hash["status"] == "finished")
        #expect(try r.command("ZCARD", "rq:wip:tts_batch").int == 0)
        #expect(try r.command("ZSCORE", "rq:finished:tts_batch", id).string != nil)
        let worker_ = try fields(r, "rq:worker:\(identity.name)")
        #expect(worker_["state"] == "idle" && worker_["successful_job_count"] == "1")
        // RQ's results stream: type 1, return value base64 of JSON.
        let entries = try r.command("XRANGE", "rq:results:\(id)", "-", "+").array ?? []
        let entryFields = entries.first?.array?[1].array?.compactMap(\.string) ?? []
        let entry = Dictionary(uniqueKeysWithValues: stride(from: 0, to: entryFields.count - 1, by: 2).map { (entryFields[$0], entryFields[$0 + 1]) })
        #expect(entry["type"] == "1")
        let value = try #require(entry["return_value"].flatMap { Data(base64Encoded: $0) })
        let object = try JSONSerialization.jsonObject(with: value) as? [String: Any]
        #expect(object?["duration_ms"] as? Int == 1_000)
        #expect(object?["key"] as? String == taken.job.key)

        #expect(try producer.waitForEnded(build: "b1", timeout: 1) == [id])
        guard case .finished(let audio, let got) = try producer.outcomes([(id, taken.job.key)])[0] else {
            Issue.record("the job must have finished")
            return
        }
        #expect(audio == [1, 2, 3] && got == report)
        // The only build waiting has it: Redis does not keep it.
        #expect(try r.command("EXISTS", "prerender:audio:\(taken.job.key)").int == 0)
        try worker.deregister(identity)
        #expect(try r.command("SISMEMBER", "rq:workers:tts_batch", "rq:worker:\(identity.name)").int == 0)
    }

    @Test func aSecondProducerJoinsTheJobInsteadOfEnqueueingItAgain() throws {
        let redis = try TestRedis()
        let first = try client(redis)
        let second = try client(redis)
        let worker = try client(redis)
        let a = try first.enqueue([job("Proszę.")], build: "ci-1")[0]
        let b = try second.enqueue([job("Proszę."), job("Przepraszam.")], build: "ci-2")
        #expect(a.outcome == .queued)
        #expect(b[0].outcome == .joined && b[0].jobID == a.jobID)
        #expect(b[1].outcome == .queued)
        let r = try redis.connect()
        #expect(try r.command("LLEN", "rq:queue:tts_batch").int == 2)

        let taken = try #require(try worker.take(worker: "w", timeout: 1))
        try worker.finish(taken, worker: "w", audio: [9], report: report)
        #expect(try first.waitForEnded(build: "ci-1", timeout: 1) == [a.jobID])
        #expect(try second.waitForEnded(build: "ci-2", timeout: 1) == [a.jobID])
        // Finished moments ago and still in Redis: a third build takes the result as it is.
        let c = try client(redis).enqueue([job("Proszę.")], build: "ci-3")[0]
        #expect(c.outcome == .done && c.jobID == a.jobID)
        // Each of the three builds gets the audio; the last one to take it removes it from Redis.
        let third = try client(redis)
        for (n, queue) in [first, second, third].enumerated() {
            guard case .finished(let audio, _) = try queue.outcomes([(a.jobID, taken.job.key)])[0] else {
                Issue.record("build \(n + 1) must get the finished audio")
                continue
            }
            #expect(audio == [9])
            #expect(try r.command("EXISTS", "prerender:audio:\(taken.job.key)").int == (n < 2 ? 1 : 0))
        }
    }

    @Test func scriptsForgottenByRedisAreLoadedAgainInsideAMulti() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let id = try producer.enqueue([job("Tak.")], build: "b")[0].jobID
        let taken = try #require(try worker.take(worker: "w", timeout: 1))
        _ = try producer.outcomes([(id, taken.job.key)])  // the outcome script is loaded now
        try worker.finish(taken, worker: "w", audio: [5], report: report)
        _ = try redis.connect().command("SCRIPT", "FLUSH")  // as after a restart: NOSCRIPT comes back inside EXEC
        guard case .finished(let audio, _) = try producer.outcomes([(id, taken.job.key)])[0] else {
            Issue.record("the job must have finished")
            return
        }
        #expect(audio == [5])
    }

    @Test func aBusyWorkerTakesAndStartsInOneCallAndSkipsExpiredJobs() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let r = try redis.connect()
        let ids = try producer.enqueue([job("Raz."), job("Dwa.")], build: "b").map(\.jobID)
        _ = try r.command("DEL", "rq:job:\(ids[0])")  // expired while queued
        #expect(try worker.take(worker: "w", timeout: 0.1) == nil)  // dropped, not started
        let taken = try #require(try worker.take(worker: "w", timeout: 0.1))
        #expect(taken.id == ids[1] && taken.job.text == "Dwa.")
        #expect(try fields(r, "rq:job:\(ids[1])")["status"] == "started")
        #expect(try r.command("LLEN", "rq:queue:tts_batch:intermediate").int == 0)
        #expect(try r.command("LLEN", "rq:queue:tts_batch").int == 0)
        // An empty queue: the worker waits (BLMOVE) and gets nothing.
        let start = Date()
        #expect(try worker.take(worker: "w", timeout: 0.2) == nil)
        #expect(Date().timeIntervalSince(start) >= 0.15)
    }

    @Test func aBuildsOwnWorkerFinishesItsJobWithoutTheAudioGoingThroughRedis() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let r = try redis.connect()
        let mine = try producer.enqueue([job("Tak.")], build: "b1")[0]
        let taken = try #require(try worker.take(worker: "w", timeout: 1))
        #expect(try worker.finishHere(taken, worker: "w", bytes: 3, report: report, notifyList: JobQueue.notifyList(build: "b1")))
        #expect(try fields(r, "rq:job:\(mine.jobID)")["status"] == "finished")
        #expect(try r.command("EXISTS", "prerender:audio:\(taken.job.key)").int == 0)
        // The build hears of it in its own process (LocalResults), not through its notification list.
        #expect(try producer.ended(build: "b1").isEmpty)
        #expect(try fields(r, "rq:job:\(mine.jobID)")["prerender_notify"] == nil)

        // Another build joined this one: the audio must go through Redis, and finishHere changes nothing.
        let shared = try producer.enqueue([job("Nie.")], build: "b1")[0]
        #expect(try client(redis).enqueue([job("Nie.")], build: "b2")[0].outcome == .joined)
        let second = try #require(try worker.take(worker: "w", timeout: 1))
        #expect(try !worker.finishHere(second, worker: "w", bytes: 1, report: report, notifyList: JobQueue.notifyList(build: "b1")))
        #expect(try fields(r, "rq:job:\(shared.jobID)")["status"] == "started")
        try worker.finish(second, worker: "w", audio: [7], report: report)
        #expect(try producer.waitForEnded(build: "b2", timeout: 1) == [shared.jobID])
        #expect(try r.command("GET", "prerender:audio:\(second.job.key)").bytes == [7])
    }

    @Test func aBuildsWorkerFinishesAJobAndTakesTheNextInOneCall() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let r = try redis.connect()
        let notify = JobQueue.notifyList(build: "b1")
        let identity = WorkerIdentity.make(queue: "tts_batch", index: 0)
        try worker.register(identity)
        let w = identity.name, workerKey = "rq:worker:\(identity.name)"
        let ids = try producer.enqueue([job("Raz."), job("Dwa.")], build: "b1").map(\.jobID)
        let first = try #require(try worker.take(worker: w, timeout: 1))
        #expect(try fields(r, workerKey)["state"] == "busy")
        var heard = false
        let (finished, next) = try worker.finishHereAndTake(first, worker: w, bytes: 3, report: report, notifyList: notify,
                                                            finished: { heard = true })
        #expect(finished && heard)
        #expect(try fields(r, "rq:job:\(ids[0])")["status"] == "finished")
        let second = try #require(next)
        #expect(second.id == ids[1] && second.job.text == "Dwa.")
        #expect(try fields(r, "rq:job:\(ids[1])")["status"] == "started")
        #expect(try r.command("ZCARD", "rq:wip:tts_batch").int == 1)
        // Busy throughout, the first job counted, its execution gone and the second's recorded.
        var state = try fields(r, workerKey)
        #expect(state["state"] == "busy" && state["successful_job_count"] == "1")
        #expect(try r.command("SMEMBERS", "\(workerKey):executions").array?.compactMap(\.string)
                == ["\(second.id):\(second.executionID)"])
        #expect(try r.command("TTL", workerKey).int ?? 0 > 0)
        // The queue is empty now: the job is finished, nothing is taken, and the worker is idle.
        heard = false
        let last = try worker.finishHereAndTake(second, worker: w, bytes: 3, report: report, notifyList: notify, finished: { heard = true })
        #expect(last.finished && last.next == nil && heard)
        #expect(try fields(r, "rq:job:\(ids[1])")["status"] == "finished")
        state = try fields(r, workerKey)
        #expect(state["state"] == "idle" && state["successful_job_count"] == "2")
        #expect(try r.command("SCARD", "\(workerKey):executions").int == 0)
        #expect(try r.command("TTL", workerKey).int ?? 0 > 0)

        // Another build joined the job: nothing changes, nothing is taken (the audio goes through Redis).
        let shared = try producer.enqueue([job("Trzy."), job("Cztery.")], build: "b1").map(\.jobID)
        _ = try client(redis).enqueue([job("Trzy.")], build: "b2")
        let third = try #require(try worker.take(worker: w, timeout: 1))
        heard = false
        let refused = try worker.finishHereAndTake(third, worker: w, bytes: 3, report: report, notifyList: notify, finished: { heard = true })
        #expect(!refused.finished && refused.next == nil && !heard)
        #expect(try fields(r, "rq:job:\(shared[0])")["status"] == "started")
        #expect(try fields(r, "rq:job:\(shared[1])")["status"] == "queued")
        #expect(try fields(r, workerKey)["state"] == "busy")
    }

    @Test func aBuildsWorkerTakesItsBuildsJobsWithoutDecodingThem() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let mine = job("Raz."), other = job("Dwa.")
        _ = try producer.enqueue([mine, other], build: "b1")
        var known = mine
        known.item = "the build's own copy"  // the same key: the same audio
        let worker = JobQueue(connection: try redis.connect(), settings: settings, knownJobs: JobTable([known]))
        let first = try #require(try worker.take(worker: "w", timeout: 1))
        #expect(first.job == known)
        let second = try #require(try worker.take(worker: "w", timeout: 1))
        #expect(second.job == other)  // not in the table: read from its data
    }

    @Test func aFinishedJobWhoseAudioWasCollectedIsEnqueuedAgain() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let r = try redis.connect()
        let first = try producer.enqueue([job("Raz.")], build: "b1")[0]
        let taken = try #require(try worker.take(worker: "w", timeout: 1))
        #expect(try worker.finishHere(taken, worker: "w", bytes: 3, report: report, notifyList: JobQueue.notifyList(build: "b1")))
        // Its audio stayed in b1's process: a later build gets a job of its own, and the dedup entry names it.
        let again = try producer.enqueue([job("Raz.")], build: "b2")[0]
        #expect(again.outcome == .queued && again.jobID != first.jobID)
        #expect(try r.command("GET", "prerender:dedup:tts_batch:\(taken.job.key)").string == again.jobID)
        #expect(try r.command("TTL", "prerender:dedup:tts_batch:\(taken.job.key)").int ?? 0 > 0)
    }

    @Test func failureRecordsTheReasonAndFreesTheKey() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let worker = try client(redis)
        let id = try producer.enqueue([job("Nie.")], build: "b")[0].jobID
        let taken = try #require(try worker.take(worker: "w", timeout: 1))
        try worker.fail(taken, worker: "w", reason: "invalid audio: silent")
        let r = try redis.connect()
        #expect(try r.command("ZSCORE", "rq:failed:tts_batch", id).string != nil)
        guard case .failed(let reason) = try producer.outcomes([(id, taken.job.key)])[0] else {
            Issue.record("the job must have failed")
            return
        }
        #expect(reason == "invalid audio: silent")
        // RQ reads exc_string as base64 of zlib.
        let entries = try r.command("XRANGE", "rq:results:\(id)", "-", "+").array ?? []
        let entryFields = entries.first?.array?[1].array?.compactMap(\.string) ?? []
        let index = try #require(entryFields.firstIndex(of: "exc_string"))
        let compressed = try #require(Data(base64Encoded: entryFields[index + 1]))
        #expect(Zlib.decompress(Array(compressed)).map { String(decoding: $0, as: UTF8.self) } == "invalid audio: silent")
        // The next build tries again.
        #expect(try producer.enqueue([job("Nie.")], build: "b2")[0].outcome == .queued)
    }

    @Test func acceptsJobDataThatRQCompressed() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let id = try producer.enqueue([job("Dobranoc.")], build: "b")[0].jobID
        let r = try redis.connect()
        let data = try #require(try r.command("HGET", "rq:job:\(id)", "data").bytes)
        try r.command("HSET", "rq:job:\(id)", "data", Zlib.compress(data))  // what `rq requeue` leaves behind
        let taken = try #require(try client(redis).take(worker: "w", timeout: 1))
        #expect(taken.job.text == "Dobranoc.")
    }

    @Test func expiredJobsAreSkipped() throws {
        let redis = try TestRedis()
        let producer = try client(redis)
        let id = try producer.enqueue([job("Cześć.")], build: "b")[0].jobID
        try redis.connect().command("DEL", "rq:job:\(id)")
        #expect(try client(redis).take(worker: "w", timeout: 1) == nil)
        #expect(try redis.connect().command("LLEN", "rq:queue:tts_batch:intermediate").int == 0)
    }

    @Test func otherProducersJobsAreLeftForRQsWorkers() throws {
        let redis = try TestRedis()
        let r = try redis.connect()
        try r.command("HSET", "rq:job:app-1", "status", "queued", "origin", "tts_batch", "data", #"["backend.tts.tasks.generate", null, [], {}]"#)
        try r.command("RPUSH", "rq:queue:tts_batch", "app-1")
        let queue = try client(redis)
        #expect(throws: JobQueue.ForeignJob.self) { _ = try queue.take(worker: "w", timeout: 1) }
        #expect(try r.command("HGET", "rq:job:app-1", "status").string == "queued")
        #expect(try r.command("LRANGE", "rq:queue:tts_batch", 0, -1).array?.compactMap(\.string) == ["app-1"])
        #expect(try r.command("LLEN", "rq:queue:tts_batch:intermediate").int == 0)
    }
}
