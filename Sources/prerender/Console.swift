import Foundation
import Logging
import Pipeline
import Synchronization

/// What a person sees: progress on standard error (one updating line on a terminal, plain lines
/// otherwise, as in CI logs), problems on standard error, the summary on standard output.
final class Console: Sendable {
    let quiet: Bool
    let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    private struct State {
        var started = Date()
        var lastLine = Date.distantPast
        var lastPercent = -1
        var lineOpen = false
    }

    init(quiet: Bool) {
        self.quiet = quiet
    }

    /// A value as pretty-printed JSON with sorted keys on standard output: the `--json` of every command.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    func problem(_ text: String) {
        finishLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private func say(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func report(_ event: BuildEvent) {
        switch event {
        case .planned(let lessons, let items, let unique, let cached, let toRender):
            state.withLock { $0.started = Date() }
            say("\(lessons) lessons, \(items) items, \(unique) distinct audio files: \(cached) cached, \(toRender) to render")
        case .redisStarted(let what):
            say("started a \(what)")
        case .enqueued(let queue, let new, let joined):
            say(joined > 0 ? "queued \(new) jobs on \(queue); \(joined) already queued by another build" : "queued \(new) jobs on \(queue)")
        case .waitingForWorkers(let redis):
            say("no workers in this process (--workers 0): waiting for workers on \(redis) (prerender or RQ-compatible)")
        case .stalled(let queue, let workers):
            finishLine()
            if workers == 0 {
                problem("no worker serves \(queue): start `prerender worker --redis ...` somewhere, or build with --workers N")
            } else {
                say("still waiting: \(workers) workers serve \(queue) (retries wait in RQ's scheduled registry; see prerender status)")
            }
        case .progress(let done, let failed, let total):
            progress(done: done, failed: failed, total: total)
        }
    }

    private func progress(done: Int, failed: Int, total: Int) {
        guard !quiet else { return }
        let now = Date()
        let (line, show): (String, Bool) = state.withLock { s in
            let elapsed = max(now.timeIntervalSince(s.started), 0.001)
            let rate = Double(done) / elapsed
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let percent = total > 0 ? done * 100 / total : 100
            let failures = failed > 0 ? ", \(failed) failed" : ""
            let text = String(format: "%d/%d jobs done (%d%%)%@, %.1f/s, ETA %@", done, total, percent, failures, rate, Console.duration(eta))
            if isTerminal {
                let due = now.timeIntervalSince(s.lastLine) > 0.1 || done == total
                if due { s.lastLine = now; s.lineOpen = true }
                return (text, due)
            }
            // Plain lines: every 10% or every 5 seconds, and the last one.
            let due = done == total || percent / 10 > s.lastPercent / 10 || now.timeIntervalSince(s.lastLine) > 5
            if due { s.lastLine = now; s.lastPercent = percent }
            return (text, due)
        }
        guard show else { return }
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Ends an open progress line on a terminal.
    func finishLine() {
        let open = state.withLock { s -> Bool in defer { s.lineOpen = false }; return s.lineOpen }
        if open && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func summary(_ summary: BuildSummary, settings: PipelineConfig) {
        var lines: [String] = []
        if summary.enqueued + summary.joined == 0 && summary.failures.isEmpty {
            lines.append("nothing to render: all \(summary.uniqueAudio) audio files are cached")
        } else {
            lines.append("rendered \(summary.rendered) audio files (\(summary.cached) cached) in \(String(format: "%.1f", summary.seconds)) s")
        }
        if !summary.failures.isEmpty {
            lines.append("\(summary.failures.count) items have no valid audio:")
            lines += summary.failures.map { "  \($0)" }
            lines.append("the manifest was not written; \(summary.manifestPath) is unchanged; good audio stays cached")
        } else if summary.manifestChanged {
            lines.append("wrote \(summary.manifestPath): \(summary.lessons) lessons, \(summary.items) items")
        } else if summary.manifestWritten {
            lines.append("\(summary.manifestPath) is up to date: \(summary.lessons) lessons, \(summary.items) items")
        }
        let text = lines.joined(separator: "\n") + "\n"
        if summary.failures.isEmpty {
            if !quiet { FileHandle.standardOutput.write(Data(text.utf8)) }
        } else {
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

extension BuildSummary {
    /// The summary for machines: stable keys, one object.
    var json: String {
        let object: [String: Any] = [
            "lessons": lessons, "items": items, "unique_audio": uniqueAudio, "cached": cached, "enqueued": enqueued,
            "joined": joined, "rendered": rendered, "manifest_written": manifestWritten, "manifest_changed": manifestChanged,
            "manifest": manifestPath, "redis_commands": redisCommands,
            "seconds": (seconds * 1000).rounded() / 1000,
            "failures": failures.map { ["lesson": $0.lesson, "item": $0.item, "source": $0.source, "line": $0.line, "key": $0.key, "reason": $0.reason] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
