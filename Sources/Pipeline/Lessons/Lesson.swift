/// One lesson file: a titled list of lines a learner hears.
public struct Lesson: Sendable, Equatable {
    public var id: String
    public var title: String
    /// The file it came from, as given (relative to the current directory when it was given so).
    public var source: String
    /// Speaker -> voice id, over pipeline.yaml's speakers.
    public var voices: [String: String]
    public var items: [LessonItem]
    /// The lesson's own pronunciations, over pipeline.yaml's.
    public var pronunciations: [String: Pronunciation]

    public init(id: String, title: String, source: String, voices: [String: String] = [:], items: [LessonItem],
                pronunciations: [String: Pronunciation] = [:]) {
        self.id = id
        self.title = title
        self.source = source
        self.voices = voices
        self.items = items
        self.pronunciations = pronunciations
    }
}

/// One line of a lesson, as the author wrote it.
public struct LessonItem: Sendable, Equatable {
    public var id: String
    /// The text the learner sees, exactly as written (trimmed).
    public var text: String
    public var speaker: String
    /// The voice id this line is spoken in, resolved from the item, the lesson's speakers or pipeline.yaml's.
    public var voice: String
    public var style: String?
    /// -50...50, 0 = the voice's own.
    public var rate: Int
    /// -50...50, 0 = the voice's own.
    public var pitch: Int
    /// Where the item starts in its file, for messages.
    public var line: Int
    public var column: Int

    public init(id: String, text: String, speaker: String = "narrator", voice: String, style: String? = nil,
                rate: Int = 0, pitch: Int = 0, line: Int = 0, column: Int = 0) {
        self.id = id
        self.text = text
        self.speaker = speaker
        self.voice = voice
        self.style = style
        self.rate = rate
        self.pitch = pitch
        self.line = line
        self.column = column
    }
}
