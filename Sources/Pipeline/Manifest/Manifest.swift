import Foundation

/// `manifest.json`: the index the tutor app reads. Lessons sorted by id, items in file order,
/// keys sorted, no timestamps: the same lessons and audio always give the same bytes.
public struct Manifest: Codable, Sendable, Equatable {
    public static let schemaVersion = 1
    public static let fileName = "manifest.json"

    public var schema: Int
    public var lessons: [Lesson]
    public var audio: [String: Audio]

    public init(lessons: [Lesson], audio: [String: Audio]) {
        schema = Self.schemaVersion
        self.lessons = lessons.sorted { $0.id < $1.id }
        self.audio = audio
    }

    public struct Lesson: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        /// The lesson file, relative to the folder the build ran in.
        public var source: String
        public var items: [Item]
    }

    public struct Item: Codable, Sendable, Equatable {
        public var id: String
        /// The text the learner sees.
        public var text: String
        public var speaker: String
        public var voice: String
        /// The audio key: an entry of `audio`.
        public var audio: String
    }

    public struct Audio: Codable, Sendable, Equatable {
        /// Relative to the manifest's folder.
        public var path: String
        public var sha256: String
        public var bytes: Int
        public var format: String
        public var sampleRate: Int
        public var channels: Int
        public var durationMs: Int
        public var synthesizer: String
        public var voice: String

        enum CodingKeys: String, CodingKey {
            case path, sha256, bytes, format, sampleRate = "sample_rate", channels, durationMs = "duration_ms", synthesizer, voice
        }
    }

    /// The bytes of `manifest.json`: pretty-printed, keys sorted, a final newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var bytes = Array(try encoder.encode(self))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Reads a manifest; nil when there is none or it is not one this version understands.
    public static func load(from path: String) -> Manifest? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.schema == schemaVersion else { return nil }
        return manifest
    }

    /// Writes the manifest (temporary file + rename) unless the file already holds exactly these bytes.
    /// Returns whether the file changed.
    @discardableResult
    public func write(to path: String) throws -> Bool {
        let bytes = try encoded()
        if let existing = FileManager.default.contents(atPath: path), existing.elementsEqual(bytes) { return false }
        try AtomicFile.write(bytes, to: path)
        return true
    }
}
