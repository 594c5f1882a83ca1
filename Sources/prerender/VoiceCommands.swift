import ArgumentParser
import Foundation
import Pipeline

struct SayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "say",
        abstract: "Show how one line will be spoken (after the rules and the dictionary) and render it to a file.",
        discussion: """
        Prints the spoken text, and for Murf the pronunciationDictionary it sends, then renders the line with \
        the chosen synthesizer into a temporary WAV file (or --out) and checks it like the cache does. \
        Nothing goes to Redis or the cache.

        Examples:
          prerender say "Np. w 2024 roku [pause 1s] {{uwaga}} pojedziemy do Krakowa."
          prerender say "Dzień dobry!" --lesson a1-greetings --voice pl-PL-jacek
        """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The line, as an author would write it in a lesson.")
    var text: String

    @Option(name: .long, help: ArgumentHelp("Use this lesson's pronunciations too.", valueName: "id"))
    var lesson: String?

    @Option(name: .long, help: ArgumentHelp("The voice id (default: the narrator's).", valueName: "id"))
    var voice: String?

    @Option(name: .long, help: ArgumentHelp("espeak or murf (default: pipeline.yaml's synthesizer).", valueName: "name"))
    var synthesizer: SynthesizerKind?

    @Option(name: .long, help: ArgumentHelp("Write the audio here instead of a temporary file.", valueName: "file"))
    var out: String?

    @Flag(name: .long, help: "Only print the spoken text; render nothing.")
    var dryRun = false


    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        if let synthesizer { settings.synthesizer = synthesizer }
        var pronunciations: [String: Pronunciation] = [:]
        if let lesson {
            do {
                let lessons = try LessonLoader(config: settings).loadAll(from: settings.lessonsDirectory)
                guard let found = lessons.first(where: { $0.id == lesson }) else {
                    console.problem("error: no lesson '\(lesson)'; lessons: \(lessons.map(\.id).joined(separator: ", "))")
                    throw ExitCode.invalidInput
                }
                pronunciations = found.pronunciations
            } catch let error as InvalidInput {
                console.problem(error.description)
                throw ExitCode.invalidInput
            }
        }
        let voiceID = voice ?? settings.speakers["narrator"] ?? "pl-PL-kasia"
        guard settings.voices[voiceID] != nil else {
            console.problem("error: unknown voice '\(voiceID)'; known voices: \(settings.voices.keys.sorted().joined(separator: ", "))")
            throw ExitCode.invalidInput
        }
        let job = settings.renderJob(text: text, voice: voiceID, lessonPronunciations: pronunciations)
        print("spoken: \(job.text)")
        for (word, entry) in (job.pronunciations ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("  \(word): \(entry.type) \(entry.pronunciation)")
        }
        if dryRun { return }
        let factory = SynthesizerFactory(config: settings, environment: ProcessInfo.processInfo.environment)
        do {
            let audio = try factory.make().synthesize(job)
            let report = try AudioCheck(rules: settings.validation, expected: job.output).check(audio, text: job.text)
            let path = out ?? NSTemporaryDirectory() + "prerender-say-\(job.key.prefix(12)).\(job.format)"
            try Data(audio).write(to: URL(fileURLWithPath: path))
            print("\(path)  (\(report.durationMs) ms, \(settings.synthesizer.rawValue), \(voiceID))")
        } catch let error as SynthesisError where error.unavailable {
            console.problem("error: \(error)")
            throw ExitCode.infrastructure
        } catch {
            console.problem("error: \(error)")
            throw ExitCode.itemsFailed
        }
    }
}

struct VoicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voices",
        abstract: "List the voices a synthesizer offers, with locale and styles.",
        discussion: """
        espeak: espeak-ng's Polish voices and the variants that combine with them (pl+f3). \
        murf: Murf's GET /v1/speech/voices (needs the API key), Polish voices first; --all for every locale.
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("espeak or murf (default: pipeline.yaml's synthesizer).", valueName: "name"))
    var synthesizer: SynthesizerKind?

    @Flag(name: .long, help: "Every locale, not only Polish.")
    var all = false

    @Flag(name: .long, help: "Print them as JSON.")
    var json = false

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        if let synthesizer { settings.synthesizer = synthesizer }
        var voices: [VoiceInfo]
        do {
            switch settings.synthesizer {
            case .espeak:
                voices = try VoiceCatalog.espeak(command: settings.espeak.command)
            case .murf:
                let key = try SynthesizerFactory(config: settings, environment: ProcessInfo.processInfo.environment).murfAPIKey()
                voices = try VoiceCatalog.murf(settings: settings.murf, apiKey: key, cacheFile: nil)
                if !all { voices = voices.filter { $0.locale.hasPrefix("pl") } }
            }
        } catch let error as SynthesisError {
            console.problem("error: \(error)")
            throw ExitCode.infrastructure
        }
        if json {
            try Console.printJSON(voices)
            return
        }
        for voice in voices {
            let styles = voice.styles.isEmpty ? "" : "  styles: \(voice.styles.joined(separator: ", "))"
            print("\(voice.id.padding(toLength: 20, withPad: " ", startingAt: 0)) \(voice.locale.padding(toLength: 8, withPad: " ", startingAt: 0)) \(voice.gender.padding(toLength: 7, withPad: " ", startingAt: 0)) \(voice.name)\(styles)")
        }
    }
}
