import Foundation
import RedisClient

/// A job that ended for good: its text and every attempt's reason.
public struct DeadLetter: Sendable {
    public var id: String
    public var job: RenderJob?
    public var attempts: [String]
    public var endedAt: String

    public var reason: String { attempts.last ?? "unknown" }
}

extension JobQueue {
    /// The dead letters of this queue, oldest first. Jobs since requeued (`rq requeue`, `retry-dead`) are skipped.
    public func deadLetters() throws -> [DeadLetter] {
        let ids = try connection.command("LRANGE", "rq:queue:\(settings.deadLetterName)", 0, -1).array?.compactMap(\.string) ?? []
        if ids.isEmpty { return [] }
        let replies = try connection.pipeline(ids.map { id in
            ["HMGET", "rq:job:\(id)", "status", "data", "prerender_attempts", "ended_at"].map { Array($0.utf8) }
        })
        var letters: [DeadLetter] = []
        for (id, reply) in zip(ids, replies) {
            let fields = reply.array ?? []
            guard fields.count == 4, fields[0].string == "failed" else { continue }
            var data = fields[1].bytes ?? []
            if Zlib.looksCompressed(data), let plain = Zlib.decompress(data) { data = plain }
            let attempts = (try? JSONDecoder().decode([String].self, from: Data(fields[2].bytes ?? []))) ?? []
            letters.append(DeadLetter(id: id, job: try? RenderJob.fromRQData(data), attempts: attempts, endedAt: fields[3].string ?? ""))
        }
        return letters
    }

    /// Puts dead letters back on the queue with fresh retries. Returns the ids requeued.
    public func requeueDeadLetters(_ ids: [String]) throws -> [String] {
        var requeued: [String] = []
        let letters = Dictionary(uniqueKeysWithValues: try deadLetters().map { ($0.id, $0) })
        for id in ids {
            let key = letters[id]?.job?.key ?? ""
            let moved = try runScript(QueueScripts.requeueDead, [
                settings.name, id, settings.deadLetterName, RQTime.iso(), String(settings.dedupTTL), key,
            ].map { Array($0.utf8) })
            if moved.int == 1 { requeued.append(id) }
        }
        return requeued
    }
}
