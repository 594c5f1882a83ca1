import ArgumentParser
import Foundation
import Pipeline

struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List jobs that failed for good, with every attempt's reason.",
        discussion: """
        A job lands in the dead-letter queue (tts_dead_letter) when it cannot succeed (the API refused the key \
        or the request, or the account is out of characters) or when it is out of retries. RQ's failed registry \
        holds it too, so `rq info` counts it. Requeue with `prerender retry-dead`, or with `rq requeue`.

        Examples:
          prerender dead-letters --redis redis://ci-redis:6379/0
          prerender dead-letters --json | jq '.[].reason'
        """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Print them as JSON.")
    var json = false

    func run() throws {
        let console = Console(quiet: false)
        let settings = try options.load(console)
        let connection = try options.sharedRedis(settings, console, for: "dead letters")
        let letters: [DeadLetter]
        do {
            letters = try JobQueue(connection: connection, settings: settings.queue).deadLetters()
        } catch {
            console.problem("error: \(error)")
            throw ExitCode.infrastructure
        }
        if json {
            let objects: [[String: Any]] = letters.map { letter in
                [
                    "id": letter.id, "key": letter.job?.key ?? "", "text": letter.job?.text ?? "", "voice": letter.job?.voice ?? "",
                    "synthesizer": letter.job?.synthesizer.rawValue ?? "", "attempts": letter.attempts, "reason": letter.reason,
                    "ended_at": letter.endedAt,
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if letters.isEmpty {
            print("no dead letters on \(settings.queue.deadLetterName)")
            return
        }
        print("\(letters.count) dead letters on \(settings.queue.deadLetterName):")
        for letter in letters {
            let text = letter.job.map { "\($0.voice): \($0.text)" } ?? "(job data unreadable)"
            print("\(letter.id)  \(letter.endedAt)  \(text)")
            for (index, reason) in letter.attempts.enumerated() {
                print("    attempt \(index + 1): \(reason)")
            }
        }
        print("requeue them with: prerender retry-dead --all" + (options.redis.map { " --redis \($0)" } ?? ""))
    }
}

struct RetryDeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-dead",
        abstract: "Put dead-lettered jobs back on the queue with fresh retries.",
        discussion: """
        The jobs go back to tts_batch; workers on that Redis render them, and the next \
        `prerender build --redis URL` collects their audio instead of enqueueing them again.

        Examples:
          prerender retry-dead --all --redis redis://ci-redis:6379/0
          prerender retry-dead 1f0c3c9e-... 7a41e2d0-...
        """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Requeue every dead letter.")
    var all = false

    @Argument(help: ArgumentHelp("Job ids (from `prerender dead-letters`).", valueName: "id"))
    var ids: [String] = []

    func validate() throws {
        if all != ids.isEmpty { throw ValidationError(all ? "pass --all or job ids, not both" : "name job ids, or pass --all") }
    }

    func run() throws {
        let console = Console(quiet: false)
        let settings = try options.load(console)
        let connection = try options.sharedRedis(settings, console, for: "dead letters")
        let queue = JobQueue(connection: connection, settings: settings.queue)
        do {
            let wanted = all ? try queue.deadLetters().map(\.id) : ids
            let requeued = try queue.requeueDeadLetters(wanted)
            print("requeued \(requeued.count) of \(wanted.count) dead letters on \(settings.queue.name)")
            let missing = Set(wanted).subtracting(requeued)
            if !missing.isEmpty {
                console.problem("not dead letters (any more): \(missing.sorted().joined(separator: ", "))")
                throw ExitCode.itemsFailed
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            console.problem("error: \(error)")
            throw ExitCode.infrastructure
        }
    }
}
