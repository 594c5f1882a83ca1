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
        /// Mastered audio: integrated loudness (LUFS), true peak (dBTP), leading and trailing silence removed (ms).
        public var lufs: Double?
        public var truePeakDB: Double?
        public var trimmedMs: Int?

        enum CodingKeys: String, CodingKey {
            case path, sha256, bytes, format, sampleRate = "sample_rate", channels, durationMs = "duration_ms", synthesizer, voice,
                 lufs, truePeakDB = "true_peak_db", trimmedMs = "trimmed_ms"
        }

        /// The entry of a file in the cache, from what its check measured.
        init(job: RenderJob, bytes: [UInt8], report: AudioReport) {
            self.init(job: job, sha256: SHA256.hex(bytes), bytes: bytes.count, report: report)
        }

        /// The same, with the file's digest already known.
        init(job: RenderJob, sha256: String, bytes: Int, report: AudioReport) {
            self.init(path: AudioCache.relativePath(key: job.key, format: job.fileFormat), sha256: sha256, bytes: bytes,
                      format: report.format, sampleRate: report.sampleRate, channels: report.channels, durationMs: report.durationMs,
                      synthesizer: job.synthesizer.rawValue, voice: job.voice, lufs: report.lufs, truePeakDB: report.truePeakDB,
                      trimmedMs: report.trimmedMs)
        }

        init(path: String, sha256: String, bytes: Int, format: String, sampleRate: Int, channels: Int, durationMs: Int,
             synthesizer: String, voice: String, lufs: Double? = nil, truePeakDB: Double? = nil, trimmedMs: Int? = nil) {
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
            self.format = format
            self.sampleRate = sampleRate
            self.channels = channels
            self.durationMs = durationMs
            self.synthesizer = synthesizer
            self.voice = voice
            self.lufs = lufs
            self.truePeakDB = truePeakDB
            self.trimmedMs = trimmedMs
        }
    }

    /// The bytes of `manifest.json`: pretty-printed, keys sorted, a final newline — what JSONEncoder writes
    /// with `.prettyPrinted, .sortedKeys, .withoutEscapingSlashes` (a test holds the two equal).
    public func encoded() throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode { bytes += $0 }
        return bytes
    }

    /// The same bytes, handed over in pieces of about 1 MB as they are written: JSONEncoder's intermediate
    /// tree for a 100,000-line manifest took 170 MB, and the whole text 60 MB more.
    func encode(_ chunk: ([UInt8]) throws -> Void) throws {
        try withoutActuallyEscaping(chunk) { chunk in try encode(handingTo: chunk) }
    }

    private func encode(handingTo chunk: @escaping ([UInt8]) throws -> Void) throws {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20 + 4_096)
        func flushIfFull() throws {
            if out.count >= 1 << 20 {
                try chunk(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        func text(_ value: String) { CanonicalJSON.quote(value, into: &out) }
        func number(_ value: Double) throws {
            guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "not a finite number")) }
            out += "\(value)".utf8
        }
        /// `members` in sorted key order, each written by its closure, at `indent` levels.
        func object(_ indent: Int, _ members: [(String, () throws -> Void)]) throws {
            guard !members.isEmpty else { return out += "{\n\n\(String(repeating: "  ", count: indent))}".utf8 }
            let inner = Array(String(repeating: "  ", count: indent + 1).utf8)
            out += "{\n".utf8
            for (n, member) in members.enumerated() {
                out += inner
                text(member.0)
                out += " : ".utf8
                try member.1()
                out += (n == members.count - 1 ? "\n" : ",\n").utf8
            }
            out += String(repeating: "  ", count: indent).utf8
            out.append(UInt8(ascii: "}"))
        }
        func array<T>(_ indent: Int, _ elements: [T], _ write: (T) throws -> Void) throws {
            guard !elements.isEmpty else { return out += "[\n\n\(String(repeating: "  ", count: indent))]".utf8 }
            let inner = Array(String(repeating: "  ", count: indent + 1).utf8)
            out += "[\n".utf8
            for (n, element) in elements.enumerated() {
                out += inner
                try write(element)
                out += (n == elements.count - 1 ? "\n" : ",\n").utf8
            }
            out += String(repeating: "  ", count: indent).utf8
            out.append(UInt8(ascii: "]"))
        }
        try object(0, [
            ("audio", {
                try object(1, audio.keys.sorted().map { key in (key, {
                    let a = audio[key]!
                    var members: [(String, () throws -> Void)] = [
                        ("bytes", { out += String(a.bytes).utf8 }), ("channels", { out += String(a.channels).utf8 }),
                        ("duration_ms", { out += String(a.durationMs).utf8 }), ("format", { text(a.format) }),
                    ]
                    if let lufs = a.lufs { members.append(("lufs", { try number(lufs) })) }
                    members += [("path", { text(a.path) }), ("sample_rate", { out += String(a.sampleRate).utf8 }),
                                ("sha256", { text(a.sha256) }), ("synthesizer", { text(a.synthesizer) })]
                    if let trimmed = a.trimmedMs { members.append(("trimmed_ms", { out += String(trimmed).utf8 })) }
                    if let peak = a.truePeakDB { members.append(("true_peak_db", { try number(peak) })) }
                    members.append(("voice", { text(a.voice) }))
                    try object(2, members)
                    try flushIfFull()
                }) })
            }),
            ("lessons", {
                try array(1, lessons) { lesson in
                    try object(2, [
                        ("id", { text(lesson.id) }),
                        ("items", {
                            try array(3, lesson.items) { item in
                                try object(4, [("audio", { text(item.audio) }), ("id", { text(item.id) }), ("speaker", { text(item.speaker) }),
                                           ("text", { text(item.text) }), ("voice", { text(item.voice) })])
                                try flushIfFull()
                            }
                        }),
                        ("source", { text(lesson.source) }), ("title", { text(lesson.title) }),
                    ])
                }
            }),
            ("schema", { out += String(schema).utf8 }),
        ])
        out.append(UInt8(ascii: "\n"))
        try chunk(out)
    }

    /// What JSONEncoder writes for the manifest (the definition `encoded()` is tested against).
    func encodedByFoundation() throws -> [UInt8] {
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
    public func write(to path: String, previous: Manifest? = nil) throws -> Bool {
        // The same entries as the file already says (a no-op rebuild): nothing to encode or compare.
        if let previous, previous == self, FileManager.default.fileExists(atPath: path) { return false }
        if previous != nil || !FileManager.default.fileExists(atPath: path) {
            // The file says something else, or there is none: its bytes cannot be these. Streamed to the file.
            try AtomicFile.write(to: path) { write in try encode(write) }
            return true
        }
        let bytes = try encoded()
        if let existing = FileManager.default.contents(atPath: path), existing.elementsEqual(bytes) { return false }
        try AtomicFile.write(bytes, to: path)
        return true
    }
}
