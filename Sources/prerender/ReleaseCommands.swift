import ArgumentParser
import Foundation
import Pipeline

/// The output folder options the release commands share.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The output folder (default: pipeline.yaml's output, Output).", valueName: "dir"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("The lessons folder (default: pipeline.yaml's lessons, Lessons).", valueName: "dir"))
    var lessons: String?

    func apply(to settings: inout PipelineConfig) {
        if let output { settings.outputDirectory = output }
        if let lessons { settings.lessonsDirectory = lessons }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the output folder against its manifest before release (exit 1 on any problem).",
        discussion: """
        Re-opens every file the manifest names with libsndfile and checks its sha256, size, duration and the \
        validation rules; finds files missing and files present but not indexed. Exit 0: all good; \
        exit 1: problems, one per line as path: message.
        """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var folders: OutputOptions

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        folders.apply(to: &settings)
        let result = CacheAudit.verify(output: settings.outputDirectory, rules: settings.validation, mastering: settings.mastering)
        if json {
            try Console.printJSON(result)
        } else if result.problems.isEmpty {
            print("\(settings.outputDirectory): \(result.checked) audio files match the manifest")
        } else {
            for problem in result.problems { console.problem("\(settings.outputDirectory)/\(problem)") }
            console.problem("\(result.problems.count) problems in \(settings.outputDirectory) (\(result.checked) files in the manifest)")
        }
        if !result.problems.isEmpty { throw ExitCode.itemsFailed }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete cached audio that no lesson uses any more.",
        discussion: """
        Keeps every file the manifest names and every file the current lessons would use; deletes the rest \
        of audio/ (and temporary files a crash left). Bad lessons exit 2 and delete nothing.
        """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var folders: OutputOptions

    @Flag(name: .long, help: "List what would be deleted, delete nothing.")
    var dryRun = false

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        folders.apply(to: &settings)
        let result: (removed: [String], bytes: Int)
        do {
            result = try CacheAudit.collectGarbage(config: settings, dryRun: dryRun)
        } catch let error as InvalidInput {
            console.problem(error.description)
            throw ExitCode.invalidInput
        }
        for file in result.removed { print((dryRun ? "would delete " : "deleted ") + "\(settings.outputDirectory)/\(file)") }
        let size = String(format: "%.1f", Double(result.bytes) / 1_048_576)
        print(dryRun ? "\(result.removed.count) files (\(size) MiB) would be deleted" : "deleted \(result.removed.count) files (\(size) MiB)")
    }
}

struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Pack the manifest and exactly the audio it names, with SHA256SUMS, reproducibly.",
        discussion: """
        Entries are sorted, with one fixed time (SOURCE_DATE_EPOCH, else 0), owner 0 and mode 0644, so two \
        packages of the same cache are byte-identical. Every file is checked against its sha256 first.

        Example:
          SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) prerender package --out lesson-audio-1.4.0.tar.gz
        """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var folders: OutputOptions

    @Option(name: .long, help: ArgumentHelp("The package to write: .tar.gz (or .tar).", valueName: "file"))
    var out: String

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        folders.apply(to: &settings)
        let epochText = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"]
        let epoch = epochText.flatMap { Int($0) }
        if let epochText, !epochText.isEmpty, epoch == nil {
            console.problem("environment: SOURCE_DATE_EPOCH=\(epochText): must be a whole number of seconds")
            throw ExitCode.invalidInput
        }
        do {
            let contents = try LessonPackage.write(output: settings.outputDirectory, to: out, sourceDateEpoch: epoch)
            print("wrote \(out): \(contents.files) files, \(contents.bytes) bytes")
        } catch let error as LessonPackage.Refused {
            console.problem("error: \(error)")
            throw ExitCode.itemsFailed
        }
    }
}

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Say where a line's audio is, and play it where a player exists.",
        discussion: """
        Looks the item up in the manifest. With --play (the default on a terminal) it plays the file with \
        the first of paplay, aplay, ffplay or play (sox) found on PATH.

        Example:
          prerender listen a1-greetings good-morning
        """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var folders: OutputOptions

    @Argument(help: "The lesson id.")
    var lesson: String

    @Argument(help: "The item id.")
    var item: String

    @Flag(name: .long, inversion: .prefixedNo, help: "Play the file (default: only when standard output is a terminal).")
    var play: Bool?

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        folders.apply(to: &settings)
        guard let manifest = Manifest.load(from: "\(settings.outputDirectory)/\(Manifest.fileName)") else {
            console.problem("error: no manifest in \(settings.outputDirectory): run prerender build first")
            throw ExitCode.itemsFailed
        }
        guard let found = manifest.lessons.first(where: { $0.id == lesson }) else {
            console.problem("error: no lesson '\(lesson)' in the manifest; lessons: \(manifest.lessons.map(\.id).joined(separator: ", "))")
            throw ExitCode.invalidInput
        }
        guard let entry = found.items.first(where: { $0.id == item }), let audio = manifest.audio[entry.audio] else {
            console.problem("error: no item '\(item)' in \(lesson); items: \(found.items.map(\.id).joined(separator: ", "))")
            throw ExitCode.invalidInput
        }
        let path = "\(settings.outputDirectory)/\(audio.path)"
        print(path)
        print("\(entry.text)  (\(entry.voice), \(audio.durationMs) ms, \(audio.synthesizer))")
        guard play ?? (isatty(STDOUT_FILENO) == 1) else { return }
        let players = [("paplay", [String]()), ("aplay", ["-q"]), ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]), ("play", ["-q"])]
        for (player, arguments) in players {
            guard let executable = ChildProcess.find(player) else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + [path]
            try process.run()
            process.waitUntilExit()
            return
        }
        console.problem("no audio player found (paplay, aplay, ffplay, play); open the file above")
    }
}
