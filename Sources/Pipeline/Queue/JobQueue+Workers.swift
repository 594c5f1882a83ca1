import Foundation
import RedisClient

/// Who a worker is, as RQ's worker registry shows it (`rq info`, rq-dashboard).
public struct WorkerIdentity: Sendable {
    public var name: String
    public var hostname: String
    public var pid: Int32
    public var queues: [String]

    /// Unique names, as RQ requires: `prerender-<host>-<pid>-<n>-<random>`.
    public static func make(queue: String, index: Int) -> WorkerIdentity {
        make(queues: [queue], index: index)
    }

    public static func make(queues: [String], index: Int) -> WorkerIdentity {
        let host = ProcessInfo.processInfo.hostName
        let safeHost = host.replacingOccurrences(of: "[^A-Za-z0-9_-]", with: "-", options: .regularExpression)
        let suffix = UUID().uuidString.prefix(6).lowercased()
        return WorkerIdentity(name: "prerender-\(safeHost)-\(getpid())-\(index)-\(suffix)", hostname: host, pid: getpid(), queues: queues)
    }
}

extension JobQueue {
    /// Adds the worker to RQ's registry (`rq:workers`, `rq:workers:<queue>`, hash `rq:worker:<name>`), idle.
    public func register(_ worker: WorkerIdentity) throws {
        let key = "rq:worker:\(worker.name)"
        let now = RQTime.iso()
        var commands: [[String]] = [
            ["MULTI"],
            ["DEL", key],
            ["HSET", key, "birth", now, "last_heartbeat", now, "queues", worker.queues.joined(separator: ","),
             "pid", String(worker.pid), "hostname", worker.hostname, "ip_address", "", "version", "prerender 0.1",
             "python_version", "prerender (Swift)", "state", "idle", "successful_job_count", "0",
             "failed_job_count", "0", "total_working_time", "0"],
            ["EXPIRE", key, String(QueueScripts.idleWorkerTTL)],
            ["SADD", "rq:workers", key],
        ]
        for queue in worker.queues { commands.append(["SADD", "rq:workers:\(queue)", key]) }
        commands.append(["EXEC"])
        let replies = try connection.pipeline(commands.map { $0.map { Array($0.utf8) } })
        if case .error(let message)? = replies.last { throw RedisError(.server, message) }
    }

    /// Keeps the worker (and the job it runs) alive in RQ's registries. Re-registers a worker whose key expired.
    public func heartbeat(_ worker: WorkerIdentity, running: TakenJob?) throws {
        let now = Date()
        let alive = try runScript(QueueScripts.heartbeat, [
            running?.queue ?? settings.name, worker.name, RQTime.iso(now), String(Int(RQTime.unix(now))), String(RQTime.unix(now)),
            running?.id ?? "", running?.executionID ?? "", String(settings.heartbeatTimeout),
        ].map { Array($0.utf8) })
        if alive.int == 0 { try register(worker) }
    }

    /// Removes the worker from RQ's registry, as RQ does when a worker exits.
    public func deregister(_ worker: WorkerIdentity) throws {
        let key = "rq:worker:\(worker.name)"
        var commands: [[String]] = [["MULTI"], ["SREM", "rq:workers", key]]
        for queue in worker.queues { commands.append(["SREM", "rq:workers:\(queue)", key]) }
        commands += [["HSET", key, "death", RQTime.iso(), "state", "dead"], ["EXPIRE", key, "60"], ["DEL", "\(key):executions"], ["EXEC"]]
        _ = try connection.pipeline(commands.map { $0.map { Array($0.utf8) } })
    }
}
