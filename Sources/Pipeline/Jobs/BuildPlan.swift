import Foundation

/// Lessons expanded into render jobs: one job per distinct audio key, and each item's key.
public struct BuildPlan: Sendable {
    public var lessons: [Lesson]
    /// For each lesson (same order), the audio key of each item (same order).
    public var itemKeys: [[String]]
    /// One job per distinct key, in the order the keys first appear.
    public var jobs: [RenderJob]

    public var itemCount: Int { itemKeys.reduce(0) { $0 + $1.count } }

    /// Expands the lessons with the configuration's voices and chosen synthesizer.
    public init(lessons: [Lesson], config: PipelineConfig) {
        self.lessons = lessons
        let masteringJSON = config.mastering.map { $0.canonical.bytes }
        let pronouncers = lessons.map { config.pronouncer.merging($0.pronunciations) }
        let items = lessons.indices.flatMap { l in lessons[l].items.indices.map { (lesson: l, item: $0) } }
        // Every item's job on its own (the rules, the dictionary, the key's hash): spread over the cores for
        // large plans, then deduplicated in order.
        let made = Self.map(items.count) { n -> RenderJob in
            let (l, i) = items[n]
            var job = Self.job(for: lessons[l].items[i], config: config, pronouncer: pronouncers[l], masteringJSON: masteringJSON)
            job.item = "\(lessons[l].id)/\(lessons[l].items[i].id)"
            return job
        }
        var keys: [[String]] = lessons.map { _ in [] }
        var jobs: [RenderJob] = []
        var seen: Set<String> = []
        for (n, job) in made.enumerated() {
            keys[items[n].lesson].append(job.key)
            if seen.insert(job.key).inserted { jobs.append(job) }
        }
        self.itemKeys = keys
        self.jobs = jobs
    }

    /// `(0..<count).map(transform)`, on every core when there is enough work to share. Blocks the caller
    /// like any computation; no task waits on another.
    static func map<T: Sendable>(_ count: Int, _ transform: @Sendable (Int) -> T) -> [T] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard count >= 2_000, cores > 1 else { return (0..<count).map(transform) }
        let chunks = min(cores, 8)
        let size = (count + chunks - 1) / chunks
        let slots = ChunkSlots<T>(chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            slots.store((c * size..<min(count, (c + 1) * size)).map(transform), at: c)
        }
        return slots.joined()
    }

    /// The job that renders one item. The loader has already checked that its voice exists for this synthesizer.
    /// `masteringJSON`: the canonical JSON of `config.mastering`, written once by the caller for all its jobs.
    static func job(for item: LessonItem, config: PipelineConfig, pronouncer: Pronouncer, masteringJSON: [UInt8]?) -> RenderJob {
        let output = config.audioFormat
        // What the synthesizer hears: the text after the rules and the dictionary. The manifest keeps item.text.
        let spoken = pronouncer.speak(item.text, for: config.synthesizer)
        let settings = config.voices[item.voice] ?? VoiceSettings()
        var parameters: [String: ParameterValue] = [:]
        switch config.synthesizer {
        case .espeak:
            let voice = settings.espeak ?? EspeakVoice(voice: "pl")
            // rate and pitch are -50...50 around the voice's own: a percentage of its speed, and steps of its 0-99 pitch.
            parameters["espeak_voice"] = .string(voice.voice)
            parameters["speed"] = .int(max(80, min(450, (voice.speed * (100 + item.rate) + 50) / 100)))
            parameters["pitch"] = .int(max(0, min(99, voice.pitch + item.pitch)))
        case .murf:
            let voice = settings.murf ?? MurfVoice(voiceId: item.voice)
            parameters["voice_id"] = .string(voice.voiceId)
            if let style = item.style ?? voice.style { parameters["style"] = .string(style) }
            parameters["rate"] = .int(item.rate)
            parameters["pitch"] = .int(item.pitch)
            parameters["model_version"] = .string(config.murf.modelVersion)
            parameters["locale"] = .string(config.murf.locale)
            if !spoken.murfDictionary.isEmpty {
                // In the key, so that editing an entry re-renders exactly the lines that use it.
                parameters["pronunciations"] = .string(spoken.murfDictionary.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value.type):\($0.value.pronunciation)" }.joined(separator: "|"))
            }
        }
        let key = AudioKey.make(text: spoken.text, voice: item.voice, synthesizer: config.synthesizer,
                                parameters: parameters.mapValues { $0.canonical }, output: output,
                                masteringJSON: masteringJSON)
        var job = RenderJob(key: key, text: spoken.text, voice: item.voice, synthesizer: config.synthesizer,
                            parameters: parameters, format: output.format, sampleRate: output.sampleRate, channels: output.channels)
        if !spoken.murfDictionary.isEmpty { job.pronunciations = spoken.murfDictionary }
        job.mastering = config.mastering
        return job
    }
}

extension PipelineConfig {
    /// The job one line would make (for `prerender say`): the same rules, dictionary and key as a build.
    public func renderJob(text: String, voice: String, lessonPronunciations: [String: Pronunciation] = [:]) -> RenderJob {
        BuildPlan.job(for: LessonItem(id: "say", text: text, voice: voice), config: self,
                      pronouncer: pronouncer.merging(lessonPronunciations), masteringJSON: mastering.map { $0.canonical.bytes })
    }
}

/// One result slot per chunk of `BuildPlan.map`: each chunk writes only its own slot, and the slots are read
/// after every chunk has ended (concurrentPerform returns), so no two threads touch the same memory.
private final class ChunkSlots<T>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<[T]>
    private let count: Int

    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: [], count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func store(_ values: [T], at index: Int) { slots[index] = values }

    func joined() -> [T] { (0..<count).flatMap { slots[$0] } }
}
