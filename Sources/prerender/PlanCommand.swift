import ArgumentParser
import Foundation
import Pipeline

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a build would do: items, distinct audio, cached, to render, characters, time.",
        discussion: """
        Reads and checks the lessons exactly as `build` does (exit 2 on bad lessons), looks in the cache, \
        and talks to no synthesizer and no Redis. Prints per lesson how many items, distinct audio files, \
        how many are cached and how many would be rendered, the characters that would be sent to a paid \
        synthesizer, and the time the render takes at the configured rate limit.

        Examples:
          prerender plan
          prerender plan --synthesizer murf --verbose        # what a Murf render would send
          prerender plan --json | jq .characters
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("espeak or murf (default: pipeline.yaml's synthesizer).", valueName: "name"))
    var synthesizer: SynthesizerKind?

    @Option(name: .long, help: ArgumentHelp("The lessons folder.", valueName: "dir"))
    var lessons: String?

    @Option(name: .long, help: ArgumentHelp("The output folder whose cache is consulted.", valueName: "dir"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Only this lesson (repeatable).", valueName: "id"))
    var lesson: [String] = []

    @Flag(name: .shortAndLong, help: "List every line that would be rendered.")
    var verbose = false

    @Flag(name: .long, help: "Print the plan as JSON.")
    var json = false


    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        if let synthesizer { settings.synthesizer = synthesizer }
        if let lessons { settings.lessonsDirectory = lessons }
        if let output { settings.outputDirectory = output }
        let plan: PlanReport
        do {
            plan = try PlanReport.make(config: settings, lessons: lesson.isEmpty ? nil : lesson, environment: ProcessInfo.processInfo.environment)
        } catch let error as InvalidInput {
            console.problem(error.description)
            throw ExitCode.invalidInput
        }
        if json {
            try Console.printJSON(plan)
            return
        }
        print("lesson                      items  distinct  cached  to render  characters")
        for l in plan.lessons {
            print(l.id.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + [l.items, l.unique, l.cached, l.toRender, l.characters].enumerated()
                    .map { String($0.element).leftPadded(to: [7, 10, 8, 11, 12][$0.offset]) }.joined())
        }
        print("total".padding(toLength: 26, withPad: " ", startingAt: 0)
              + [plan.items, plan.unique, plan.cached, plan.toRender, plan.characters].enumerated()
                .map { String($0.element).leftPadded(to: [7, 10, 8, 11, 12][$0.offset]) }.joined())
        print("")
        print("the total counts lines shared between lessons once")
        if plan.toRender == 0 {
            print("nothing to render: every audio file is cached")
        } else {
            var line = "\(plan.toRender) jobs for \(plan.synthesizer)"
            if plan.paid { line += ", \(plan.characters) characters sent to a paid API" }
            if let seconds = plan.estimatedSeconds, let rate = plan.ratePerMinute {
                line += ", about \(Console.duration(seconds)) at \(rate) a minute"
            } else {
                line += " (no rate limit)"
            }
            print(line)
        }
        if let unchecked = plan.voicesUnchecked { print("voices not checked against \(plan.synthesizer): \(unchecked)") }
        if verbose {
            for job in plan.jobs { print("  \(job.item)  \(job.voice)  \(job.text)") }
        }
    }
}
