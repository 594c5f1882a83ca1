import ArgumentParser
import Foundation
import Pipeline

@main
struct Prerender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prerender",
        abstract: "Pre-renders the Polish tutor's lesson audio into a validated, content-addressed cache.",
        discussion: """
        Reads lessons (Lessons/*.yaml), expands them into deduplicated text-to-speech jobs on the Redis \
        queue tts_batch (RQ's layout, so `rq info` sees them), renders them with espeak-ng (offline, the \
        default) or the Murf API, validates every file with libsndfile, and writes Output/audio/ plus \
        Output/manifest.json for the tutor app.

        Settings come from pipeline.yaml, then the environment (REDIS_URL, TTS_WORKER_COUNT, ...; see \
        env.template), then flags. With no Redis URL a private redis-server runs for the length of the build.

        Exit codes: 0 done, 1 some items failed, 2 invalid lessons or configuration, \
        3 infrastructure (Redis or a synthesizer unavailable), 130 interrupted.
        """,
        version: "0.1.0",
        subcommands: [
            BuildCommand.self, PlanCommand.self, WorkerCommand.self, StatusCommand.self, DeadLettersCommand.self, RetryDeadCommand.self,
            VerifyCommand.self, GCCommand.self, PackageCommand.self, ListenCommand.self, SayCommand.self, VoicesCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// As ArgumentParser's own `main`, except that a bad command line exits 2 (the code for invalid input
    /// the README documents) instead of 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitCode.invalidInput.rawValue)
            }
            exit(withError: error)
        }
    }
}
