import ArgumentParser
import Foundation
import Pipeline

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the queues, the workers and the synthesizer accounts' limiters on a shared Redis.",
        discussion: """
        Per queue: queued, started, scheduled (waiting to retry), finished and failed, the same numbers \
        `rq info` shows (like it, this first drops expired entries from the finished and failed registries); \
        then dead letters; workers with host, pid, state, jobs done and last heartbeat; and per synthesizer \
        account the circuit breaker, permits in flight, a Retry-After pause or a 402 halt.

        Examples:
          prerender status --redis redis://queue-host:6379/0
          prerender status --json | jq '.queues[] | select(.name == "tts_batch")'
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Queues to show (default: every queue of pipeline.yaml's pools).", valueName: "name"))
    var queue: [String] = []

    @Flag(name: .long, help: "Print the status as JSON.")
    var json = false

    func run() throws {
        let console = Console(quiet: false)
        let settings = try options.load(console)
        let connection = try options.sharedRedis(settings, console, for: "queues and workers")
        var names = queue
        if names.isEmpty {
            names = [settings.queue.name]
            for pool in settings.pools.keys.sorted() {
                for name in settings.pools[pool]!.queues where !names.contains(name) { names.append(name) }
            }
        }
        let status: QueueStatus
        do {
            status = try QueueStatus.read(connection, queues: names, deadLetterQueue: settings.queue.deadLetterName)
        } catch {
            console.problem("error: \(error)")
            throw ExitCode.infrastructure
        }
        if json {
            try Console.printJSON(status)
            return
        }
        print("queue                 queued  started  scheduled  finished  failed")
        for q in status.queues {
            print(q.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + [q.queued, q.started, q.scheduled, q.finished, q.failed].map { String($0).leftPadded(to: 9) }.joined())
        }
        print("dead letters (\(settings.queue.deadLetterName)): \(status.deadLetters)")
        print("\n\(status.workers.count) workers")
        for w in status.workers {
            print("  \(w.name)  \(w.hostname) pid \(w.pid)  \(w.state)  \(w.queues.joined(separator: ","))  "
                  + "\(w.successfulJobs) done, \(w.failedJobs) failed  last heartbeat \(w.lastHeartbeat)")
        }
        if !status.accounts.isEmpty {
            print("\nsynthesizer accounts")
            for a in status.accounts {
                var line = "  \(a.account)  circuit \(a.circuit)"
                if a.consecutiveFailures > 0 { line += " (\(a.consecutiveFailures) failures in a row)" }
                line += ", \(a.inFlight) in flight"
                if a.pausedForSeconds > 0 { line += ", paused \(a.pausedForSeconds) s (Retry-After)" }
                if let halted = a.halted { line += ", HALTED: \(halted)" }
                print(line)
            }
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
