import ArgumentParser
import Dispatch
import Foundation
import Logging
import Pipeline
import Synchronization

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Render every lesson's audio into the output folder and write its manifest.",
        discussion: """
        Every lesson is read and checked first; any problem is printed as path:line:column: message and \
        nothing is enqueued (exit 2). Lines whose audio is already cached make no job; lines with the same \
        audio key share one job and one file. The manifest is written only when every item has valid audio; \
        otherwise the previous manifest stays, the good audio stays cached, and the failures are listed (exit 1).

        Examples:
          Render with pipeline.yaml, espeak-ng and a private Redis:
            prerender build
          Eight workers in this process (default 4), a summary for machines:
            prerender build --workers 8 --json
          Murf on a shared Redis (CI):
            REDIS_URL=redis://ci-redis:6379/0 prerender build --synthesizer murf
          Enqueue and collect only; workers on other machines render:
            prerender build --redis redis://queue-host:6379/0 --workers 0
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The lessons folder (default: pipeline.yaml's lessons, Lessons).", valueName: "dir"))
    var lessons: String?

    @Option(name: .long, help: ArgumentHelp("The output folder (default: pipeline.yaml's output, Output).", valueName: "dir"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("espeak (offline, default) or murf (needs MURF_API_KEY).", valueName: "name"))
    var synthesizer: SynthesizerKind?

    @Option(name: .long, help: ArgumentHelp("Workers in this process (default: queue.workers or TTS_WORKER_COUNT, else 4; 0: only enqueue and collect, workers run elsewhere).", valueName: "n"))
    var workers: Int?

    @Flag(name: .long, help: "Run no workers here: enqueue and collect while `prerender worker`s elsewhere render (same as --workers 0).")
    var noWorkers = false

    @Option(name: .long, help: ArgumentHelp("text, or json: one JSON object per line.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(name: .long, help: ArgumentHelp("Render only this lesson (repeatable); the manifest keeps the others' entries.", valueName: "id"))
    var lesson: [String] = []

    @Flag(name: .long, help: "Only lessons that changed since the manifest was written; the others keep their entries.")
    var onlyChanged = false

    @Flag(name: .long, help: "Build, then build again whenever a lesson file or pipeline.yaml is saved, until Ctrl-C.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp("Refuse to start a paid render (murf) that would send more characters than this.", valueName: "n"))
    var maxCharacters: Int?

    @Option(name: .long, help: ArgumentHelp("Write a JSON report: per item lesson, item, key, status (rendered, cached, failed), attempts, duration, reason.", valueName: "path"))
    var report: String?

    @Option(name: .long, help: ArgumentHelp("Write JUnit XML: a test case per item, failures with their reasons (for CI dashboards).", valueName: "path"))
    var junit: String?

    @Flag(name: .long, help: "Print the summary as JSON on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only problems.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log every job.")
    var verbose = false

    func validate() throws {
        if let workers, workers < 0 || workers > 256 { throw ValidationError("--workers must be from 0 to 256") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together") }
        if noWorkers, let workers, workers > 0 { throw ValidationError("--no-workers and --workers \(workers) contradict each other") }
        if let maxCharacters, maxCharacters < 0 { throw ValidationError("--max-characters must be 0 or more") }
    }

    func run() throws {
        let console = Console(quiet: quiet || json)
        let environment = ProcessInfo.processInfo.environment
        var settings = try options.load(console)
        if let lessons { settings.lessonsDirectory = lessons }
        if let output { settings.outputDirectory = output }
        if let synthesizer { settings.synthesizer = synthesizer }
        if let workers { settings.queue.workers = workers }
        if noWorkers { settings.queue.workers = 0 }
        if settings.queue.workers == 0 && settings.usesEmbeddedRedis {
            console.problem("error: with no workers in this process (--workers 0) the build needs a shared Redis (--redis URL or REDIS_URL): nothing else can reach its private one")
            throw ExitCode.invalidInput
        }

        let logger = logFormat.logger(level: verbose ? .debug : (quiet ? .error : .warning))
        var buildOptions = Build.Options(config: settings, environment: environment, lessons: lesson.isEmpty ? nil : lesson,
                                         maxCharacters: maxCharacters)
        buildOptions.onlyChanged = onlyChanged
        if watch {
            try watchLessons(buildOptions, logger: logger, console: console)
            return
        }
        let summary = try runOnce(buildOptions, logger: logger, console: console, settings: settings)
        if !summary.failures.isEmpty { throw ExitCode.itemsFailed }
    }

    /// One build with its reports and summary; errors become the documented exit codes.
    private func runOnce(_ buildOptions: Build.Options, logger: Logger, console: Console, settings: PipelineConfig,
                         trap: Bool = true) throws -> BuildSummary {
        let build = Build(options: buildOptions, logger: logger) { event in
            console.report(event)
        }
        let signals = trap ? SignalTrap { count in
            if count == 1 {
                build.cancel()
            } else {
                EmbeddedRedis.stopAll()
                Foundation.exit(ExitCode.interrupted.rawValue)
            }
        } : nil
        defer { signals?.release() }

        let summary: BuildSummary
        do {
            summary = try build.run()
        } catch let error as InvalidInput {
            console.finishLine()
            console.problem(error.description)
            console.problem("nothing was rendered; \(settings.outputDirectory)/ is unchanged")
            throw ExitCode.invalidInput
        } catch let error as InfrastructureError {
            console.finishLine()
            console.problem("error: \(error.message)")
            throw ExitCode.infrastructure
        } catch let error as BuildInterrupted {
            console.finishLine()
            console.problem(error.description)
            throw ExitCode.interrupted
        }
        console.finishLine()
        do {
            if let report { try BuildSummary.write(try summary.reportJSON(), to: report) }
            if let junit { try BuildSummary.write(summary.junitXML(), to: junit) }
        } catch {
            console.problem("error: cannot write a report: \(error)")
            throw ExitCode.infrastructure
        }
        if json {
            print(summary.json)
        } else {
            console.summary(summary, settings: settings)
        }
        return summary
    }

    /// `--watch`: builds, then looks at the lesson files and pipeline.yaml twice a second and builds the
    /// lessons that changed, until Ctrl-C. Bad lessons are reported and waited out, not fatal.
    private func watchLessons(_ first: Build.Options, logger: Logger, console: Console) throws {
        let stop = WatchStop()
        let signals = SignalTrap { _ in stop.set() }
        defer { signals.release() }
        var buildOptions = first
        var seen = Self.snapshot(lessons: first.config.lessonsDirectory, config: options.config ?? "pipeline.yaml")
        while !stop.isSet {
            do {
                _ = try runOnce(buildOptions, logger: logger, console: console, settings: buildOptions.config, trap: false)
            } catch let code as ExitCode where code != .interrupted {
                // Reported already; wait for the next save.
            }
            console.problem("watching \(buildOptions.config.lessonsDirectory)/ for changes (Ctrl-C to stop)")
            while !stop.isSet {
                Thread.sleep(forTimeInterval: 0.5)
                let now = Self.snapshot(lessons: buildOptions.config.lessonsDirectory, config: options.config ?? "pipeline.yaml")
                if now != seen {
                    seen = now
                    if let reloaded = try? options.load(console) {
                        var config = reloaded
                        config.lessonsDirectory = buildOptions.config.lessonsDirectory
                        config.outputDirectory = buildOptions.config.outputDirectory
                        config.queue.workers = buildOptions.config.queue.workers
                        config.synthesizer = buildOptions.config.synthesizer
                        buildOptions.config = config
                    }
                    buildOptions.onlyChanged = true
                    break
                }
            }
        }
    }

    /// Modification times and sizes of the lesson files and the settings, to notice a save.
    static func snapshot(lessons: String, config: String) -> [String: String] {
        var result: [String: String] = [:]
        let files = ((try? LessonLoader.lessonFiles(in: lessons)) ?? []) + [config]
        for file in files {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: file) {
                result[file] = "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\(attributes[.size] as? Int ?? 0)"
            }
        }
        return result
    }
}


/// Set once by a signal to end `--watch`.
private final class WatchStop: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
