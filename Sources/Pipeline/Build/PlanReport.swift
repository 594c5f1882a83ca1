import Foundation

/// `prerender plan`: what a build would do, without Redis or any synthesizer. Reads and checks the
/// lessons (the same errors as `build`), looks in the cache, and counts.
public struct PlanReport: Sendable, Codable {
    public struct LessonPlan: Sendable, Codable {
        public var id: String
        public var items: Int
        /// Distinct audio keys among the lesson's items.
        public var unique: Int
        public var cached: Int
        public var toRender: Int
        /// Characters the lesson's lines to render would send to the synthesizer.
        public var characters: Int

        enum CodingKeys: String, CodingKey { case id, items, unique, cached, toRender = "to_render", characters }
    }

    /// A line that would be rendered.
    public struct Job: Sendable, Codable {
        public var item: String
        public var voice: String
        public var text: String
        public var key: String
    }

    public var synthesizer: String
    /// Whether the synthesizer bills per character (Murf).
    public var paid: Bool
    public var lessons: [LessonPlan]
    public var items: Int
    /// Distinct audio keys across all lessons: the jobs a build from nothing would run.
    public var unique: Int
    public var cached: Int
    public var toRender: Int
    public var characters: Int
    public var ratePerMinute: Int?
    /// The time the jobs to render take at the configured rate limit; nil with no rate limit.
    public var estimatedSeconds: Double?
    public var jobs: [Job]
    /// Why the voices could not be checked against the synthesizer (no API key, no network), if so.
    public var voicesUnchecked: String?

    enum CodingKeys: String, CodingKey {
        case synthesizer, paid, lessons, items, unique, cached, toRender = "to_render", characters,
             ratePerMinute = "rate_per_minute", estimatedSeconds = "estimated_seconds", jobs, voicesUnchecked = "voices_unchecked"
    }

    /// - Parameter environment: for the synthesizer's voice list (Murf's needs the API key); voices that do
    ///   not exist are invalid input, as in `build`; a voice list that cannot be had is noted, not fatal.
    public static func make(config: PipelineConfig, lessons ids: [String]? = nil, environment: [String: String] = [:]) throws -> PlanReport {
        // The cache's manifest is read while the lessons load, as a build reads it (the two biggest costs of a
        // plan when most lines are cached).
        let manifest = Background { Manifest.load(from: "\(config.outputDirectory)/\(Manifest.fileName)") }
        let lessons = try Build.select(ids, from: try LessonLoader(config: config).loadAll(from: config.lessonsDirectory))
        var unchecked: String?
        do {
            try VoiceCatalog.check(lessons, config: config, environment: environment)
        } catch let error as SynthesisError {
            unchecked = error.message
        }
        let plan = BuildPlan(lessons: lessons, config: config)
        let cache = AudioCache(root: config.outputDirectory)
        let previous = manifest.value
        let (cached, pending) = Build.lookUp(plan.jobs, in: cache, previous: previous, logger: nil, rules: config.validation)
        let pendingKeys = Set(pending.map(\.key))
        let jobByKey = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.key, $0) })

        var lessonPlans: [LessonPlan] = []
        for (lesson, keys) in zip(plan.lessons, plan.itemKeys) {
            let distinct = Set(keys)
            let toRender = distinct.filter { pendingKeys.contains($0) }
            lessonPlans.append(LessonPlan(id: lesson.id, items: keys.count, unique: distinct.count,
                                          cached: distinct.filter { cached[$0] != nil }.count, toRender: toRender.count,
                                          characters: toRender.reduce(0) { $0 + (jobByKey[$1]?.text.count ?? 0) }))
        }
        let rate: RateLimit = config.synthesizer == .murf ? config.murf.rateLimit : config.espeak.rateLimit
        let estimate = rate.perMinute.map { perMinute in
            // GCRA: the first `burst` go at once, then one every 60/per_minute seconds.
            Double(max(0, pending.count - rate.burst)) * 60 / Double(perMinute)
        }
        return PlanReport(
            synthesizer: config.synthesizer.rawValue, paid: !config.synthesizer.isFree, lessons: lessonPlans, items: plan.itemCount,
            unique: plan.jobs.count, cached: cached.count, toRender: pending.count, characters: pending.reduce(0) { $0 + $1.text.count },
            ratePerMinute: rate.perMinute, estimatedSeconds: pending.isEmpty ? 0 : estimate,
            jobs: pending.map { Job(item: $0.item ?? "", voice: $0.voice, text: $0.text, key: $0.key) }, voicesUnchecked: unchecked)
    }
}
