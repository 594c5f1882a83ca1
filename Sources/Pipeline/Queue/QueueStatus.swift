import Foundation
import RedisClient

/// What an operator wants to know about a queue, its workers and the synthesizer accounts' limiters:
/// the numbers `rq info` shows, plus what RQ does not know about (retries, dead letters, limits).
public struct QueueStatus: Sendable, Codable {
    public struct Queue: Sendable, Codable {
        public var name: String
        public var queued: Int
        public var started: Int
        public var scheduled: Int
        public var finished: Int
        public var failed: Int
    }

    public struct Worker: Sendable, Codable {
        public var name: String
        public var hostname: String
        public var pid: Int
        public var state: String
        public var queues: [String]
        public var successfulJobs: Int
        public var failedJobs: Int
        public var lastHeartbeat: String

        enum CodingKeys: String, CodingKey {
            case name, hostname, pid, state, queues, successfulJobs = "successful_jobs", failedJobs = "failed_jobs",
                 lastHeartbeat = "last_heartbeat"
        }
    }

    public struct Account: Sendable, Codable {
        public var account: String
        public var circuit: String
        public var consecutiveFailures: Int
        public var timesOpened: Int
        public var inFlight: Int
        public var pausedForSeconds: Double
        public var halted: String?

        enum CodingKeys: String, CodingKey {
            case account, circuit, consecutiveFailures = "consecutive_failures", timesOpened = "times_opened", inFlight = "in_flight",
                 pausedForSeconds = "paused_for_seconds", halted
        }
    }

    public var queues: [Queue]
    public var deadLetters: Int
    public var workers: [Worker]
    public var accounts: [Account]

    enum CodingKeys: String, CodingKey {
        case queues, deadLetters = "dead_letters", workers, accounts
    }

    /// Reads the status of these queues. Like `rq info`, first drops expired entries from the finished and
    /// failed registries, so both count the same.
    public static func read(_ connection: RedisConnection, queues names: [String], deadLetterQueue: String) throws -> QueueStatus {
        func run(_ commands: [[String]]) throws -> [RedisValue] {
            try connection.pipeline(commands.map { $0.map { Array($0.utf8) } })
        }
        let now = String(Int(Date().timeIntervalSince1970))
        var queues: [Queue] = []
        var workerKeys: Set<String> = []
        for name in names {
            let replies = try run([
                ["ZREMRANGEBYSCORE", "rq:finished:\(name)", "0", now],
                ["ZREMRANGEBYSCORE", "rq:failed:\(name)", "0", now],
                ["LLEN", "rq:queue:\(name)"], ["ZCARD", "rq:wip:\(name)"], ["ZCARD", "rq:scheduled:\(name)"],
                ["ZCARD", "rq:finished:\(name)"], ["ZCARD", "rq:failed:\(name)"], ["SMEMBERS", "rq:workers:\(name)"],
            ])
            queues.append(Queue(name: name, queued: replies[2].int ?? 0, started: replies[3].int ?? 0, scheduled: replies[4].int ?? 0,
                                finished: replies[5].int ?? 0, failed: replies[6].int ?? 0))
            workerKeys.formUnion(replies[7].array?.compactMap(\.string) ?? [])
        }
        let deadLetters = try connection.command("LLEN", "rq:queue:\(deadLetterQueue)").int ?? 0

        let keys = workerKeys.sorted()
        let hashes = keys.isEmpty ? [] : try run(keys.map { ["HGETALL", $0] })
        var workers: [Worker] = []
        for (key, hash) in zip(keys, hashes) {
            let fields = Self.dictionary(hash)
            guard !fields.isEmpty else { continue }  // expired: a dead worker
            workers.append(Worker(
                name: String(key.dropFirst("rq:worker:".count)), hostname: fields["hostname"] ?? "", pid: Int(fields["pid"] ?? "") ?? 0,
                state: fields["state"] ?? "", queues: (fields["queues"] ?? "").split(separator: ",").map(String.init),
                successfulJobs: Int(fields["successful_job_count"] ?? "") ?? 0, failedJobs: Int(fields["failed_job_count"] ?? "") ?? 0,
                lastHeartbeat: fields["last_heartbeat"] ?? ""))
        }

        var accounts: [Account] = []
        var cursor = "0"
        var prefixes: Set<String> = []
        repeat {
            let reply = try connection.command("SCAN", cursor, "MATCH", "prerender:limit:*", "COUNT", 1_000).array ?? []
            cursor = reply.first?.string ?? "0"
            for key in reply.count > 1 ? reply[1].array?.compactMap(\.string) ?? [] : [] {
                if let colon = key.lastIndex(of: ":") { prefixes.insert(String(key[..<colon])) }
            }
        } while cursor != "0"
        let clock = try connection.command("TIME").array?.compactMap(\.int) ?? []
        let serverNow = clock.count == 2 ? Double(clock[0]) + Double(clock[1]) / 1_000_000 : Date().timeIntervalSince1970
        for prefix in prefixes.sorted() {
            let replies = try run([
                ["HGETALL", "\(prefix):circuit"], ["ZCOUNT", "\(prefix):inflight", String(serverNow), "+inf"],
                ["GET", "\(prefix):pause"], ["GET", "\(prefix):halt"],
            ])
            let circuit = Self.dictionary(replies[0])
            var state = circuit["state"] ?? "closed"
            if state == "open", let until = Double(circuit["until"] ?? ""), until <= serverNow { state = "half-open" }
            let pause = Double(replies[2].string ?? "") ?? 0
            accounts.append(Account(
                account: String(prefix.dropFirst("prerender:limit:".count)), circuit: state,
                consecutiveFailures: Int(circuit["failures"] ?? "") ?? 0, timesOpened: Int(circuit["opened"] ?? "") ?? 0,
                inFlight: replies[1].int ?? 0, pausedForSeconds: max(0, ((pause - serverNow) * 10).rounded() / 10), halted: replies[3].string))
        }
        return QueueStatus(queues: queues, deadLetters: deadLetters, workers: workers, accounts: accounts)
    }

    static func dictionary(_ value: RedisValue) -> [String: String] {
        let items = value.array ?? []
        var result: [String: String] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[i].string { result[key] = items[i + 1].string ?? "" }
        }
        return result
    }
}
