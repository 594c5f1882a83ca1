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
        var keys: [[String]] = []
        var jobs: [RenderJob] = []
        var seen: Set<String> = []
        for lesson in lessons {
            var lessonKeys: [String] = []
            let pronouncer = config.pronouncer.merging(lesson.pronunciations)
            for item in lesson.items {
                var job = Self.job(for: item, config: config, pronouncer: pronouncer)
                job.item = "\(lesson.id)/\(item.id)"
                lessonKeys.append(job.key)
                if seen.insert(job.key).inserted { jobs.append(job) }
            }
            keys.append(lessonKeys)
        }
        self.itemKeys = keys
        self.jobs = jobs
    }

    /// The job that renders one item. The loader has already checked that its voice exists for this synthesizer.
    static func job(for item: LessonItem, config: PipelineConfig, pronouncer: Pronouncer? = nil) -> RenderJob {
        let output = config.audioFormat
        // What the synthesizer hears: the text after the rules and the dictionary. The manifest keeps item.text.
        let spoken = (pronouncer ?? config.pronouncer).speak(item.text, for: config.synthesizer)
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
                                parameters: parameters.mapValues(\.canonical), output: output, mastering: config.mastering)
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
                      pronouncer: pronouncer.merging(lessonPronunciations))
    }
}
