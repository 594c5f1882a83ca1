import Foundation
import Yams

/// Reads every lesson in a folder and checks it against the configuration before anything is enqueued.
/// All problems in all files are collected and thrown together as `InvalidInput`.
public struct LessonLoader {
    public static let idPattern = "^[a-z0-9][a-z0-9_-]{0,63}$"
    public static let maxTextLength = 3_000

    let config: PipelineConfig

    public init(config: PipelineConfig) {
        self.config = config
    }

    /// The lesson files in a folder (`*.yaml`, `*.yml`), sorted by name.
    public static func lessonFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InvalidInput([Diagnostic(path: directory, line: 0, column: 0, message: "no such lessons folder")])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
        // The manifest records these paths: one spelling for one folder ("./Lessons/" and "Lessons" alike).
        var folder = directory
        while folder.hasPrefix("./") { folder.removeFirst(2) }
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        if folder.isEmpty || folder == "." { return names }
        return names.map { folder + "/" + $0 }
    }

    /// Loads every lesson in the folder, sorted by id.
    public func loadAll(from directory: String) throws -> [Lesson] {
        let files = try Self.lessonFiles(in: directory)
        if files.isEmpty {
            throw InvalidInput([Diagnostic(path: directory, line: 0, column: 0, message: "no lesson files (*.yaml) in this folder")])
        }
        var lessons: [Lesson] = []
        var diagnostics: [Diagnostic] = []
        var firstSeen: [String: (path: String, line: Int, column: Int)] = [:]
        for path in files {
            var reader = YAMLReader(path: path)
            guard let data = FileManager.default.contents(atPath: path) else {
                diagnostics.append(Diagnostic(path: path, line: 0, column: 0, message: "cannot read the file"))
                continue
            }
            let lesson = load(text: String(decoding: data, as: UTF8.self), reader: &reader)
            if let lesson {
                if let earlier = firstSeen[lesson.id.value] {
                    reader.report(line: lesson.id.line, column: lesson.id.column,
                                  "lesson id '\(lesson.id.value)' is already used by \(earlier.path):\(earlier.line):\(earlier.column)")
                } else {
                    firstSeen[lesson.id.value] = (path, lesson.id.line, lesson.id.column)
                }
            }
            // In file order, as an author reads the file.
            diagnostics += reader.diagnostics.enumerated().sorted { a, b in
                (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
            }.map(\.element)
            if let lesson, reader.diagnostics.isEmpty { lessons.append(lesson.lesson) }
        }
        if !diagnostics.isEmpty { throw InvalidInput(diagnostics) }
        return lessons.sorted { $0.id < $1.id }
    }

    /// Loads one lesson from its text; problems go to the reader.
    func load(text: String, reader r: inout YAMLReader) -> (lesson: Lesson, id: (value: String, line: Int, column: Int))? {
        guard let root = r.parse(text) else { return nil }
        guard let top = r.mapping(root, "lesson", allowed: ["id", "title", "voices", "items", "pronunciations"]) else { return nil }
        let pronunciations = top["pronunciations"].map { r.pronunciations($0, "pronunciations") } ?? [:]
        let before = r.diagnostics.count

        let id = readID(top["id"], what: "id", owner: "lesson", at: root, &r)
        var title = ""
        if let n = top["title"] {
            if let v = r.string(n, "title") {
                title = v.trimmingCharacters(in: .whitespacesAndNewlines)
                if title.isEmpty { r.report(at: n, "title must not be empty") }
            }
        } else {
            r.report(at: root, "lesson: missing required key 'title'")
        }

        var speakerVoices = config.speakers
        if let n = top["voices"], let m = r.mapping(n, "voices") {
            for entry in m.entries {
                guard let voice = r.string(entry.value, "voices.\(entry.key)") else { continue }
                if config.voices[voice] == nil {
                    r.report(at: entry.value, "speaker '\(entry.key)' maps to unknown voice '\(voice)'\(knownVoices)")
                } else {
                    speakerVoices[entry.key] = voice
                }
            }
        }

        var items: [LessonItem] = []
        var itemIDs: [String: Node] = [:]
        if let n = top["items"] {
            if let list = r.sequence(n, "items") {
                if list.isEmpty { r.report(at: n, "items must list at least one item") }
                for node in list {
                    guard let item = readItem(node, speakerVoices: speakerVoices, &r) else { continue }
                    if let earlier = itemIDs[item.id] {
                        r.report(at: node.mapping.flatMap { m in m.first { $0.key.string == "id" }?.value } ?? node,
                                 "item id '\(item.id)' is already used in this lesson at line \(earlier.mark?.line ?? 0)")
                        continue
                    }
                    itemIDs[item.id] = node
                    items.append(item)
                }
            }
        } else {
            r.report(at: root, "lesson: missing required key 'items'")
        }
        guard r.diagnostics.count == before || !id.isEmpty else { return nil }
        let mark = top["id"]?.mark
        return (Lesson(id: id, title: title, source: r.path, voices: speakerVoices.filter { config.speakers[$0.key] != $0.value }, items: items,
                       pronunciations: pronunciations),
                (id, mark?.line ?? 1, mark?.column ?? 1))
    }

    private func readItem(_ node: Node, speakerVoices: [String: String], _ r: inout YAMLReader) -> LessonItem? {
        guard let m = r.mapping(node, "item", allowed: ["id", "text", "speaker", "voice", "style", "rate", "pitch"]) else { return nil }
        let before = r.diagnostics.count
        let id = readID(m["id"], what: "item id", owner: "item", at: node, &r)
        var text = ""
        if let n = m["text"] {
            if let v = r.string(n, "text") {
                text = v.trimmingWhitespace()
                if text.isEmpty {
                    r.report(at: n, "text must not be empty")
                } else if text.count > Self.maxTextLength {
                    r.report(at: n, "text is \(text.count) characters long; at most \(Self.maxTextLength) are allowed")
                } else if let bad = text.unicodeScalars.first(where: Self.isForbiddenControl) {
                    r.report(at: n, String(format: "text contains the control character U+%04X", bad.value))
                }
            }
        } else {
            r.report(at: node, "item: missing required key 'text'")
        }
        var speaker = "narrator"
        var speakerNode: Node?
        if let n = m["speaker"], let v = r.string(n, "speaker") {
            speaker = v
            speakerNode = n
        }
        var voice: String?
        if let n = m["voice"], let v = r.string(n, "voice") {
            if config.voices[v] == nil {
                r.report(at: n, "unknown voice '\(v)'\(knownVoices)")
            } else {
                voice = v
            }
        } else if let mapped = speakerVoices[speaker] {
            voice = mapped
        } else {
            r.report(at: speakerNode ?? node, "speaker '\(speaker)' has no voice: map it under the lesson's voices: or pipeline.yaml's speakers:")
        }
        if let voice, let settings = config.voices[voice] {
            let available = config.synthesizer == .espeak ? settings.espeak != nil : settings.murf != nil
            if !available {
                r.report(at: m["voice"] ?? speakerNode ?? node,
                         "voice '\(voice)' has no \(config.synthesizer.rawValue) settings under voices.\(voice) in \(config.source)")
            }
        }
        var style: String?
        if let n = m["style"], let v = r.string(n, "style") { style = v }
        let rate = m["rate"].flatMap { r.int($0, "rate", in: -50...50) } ?? 0
        let pitch = m["pitch"].flatMap { r.int($0, "pitch", in: -50...50) } ?? 0
        guard r.diagnostics.count == before, let voice else { return nil }
        return LessonItem(id: id, text: text, speaker: speaker, voice: voice, style: style, rate: rate, pitch: pitch,
                          line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    /// A lesson's or an item's id: required, and of the id pattern. Empty when it is missing or bad (reported).
    private func readID(_ node: Node?, what: String, owner: String, at parent: Node, _ r: inout YAMLReader) -> String {
        guard let node else {
            r.report(at: parent, "\(owner): missing required key 'id'")
            return ""
        }
        guard let value = r.string(node, what) else { return "" }
        guard Self.isValidID(value) else {
            r.report(at: node, "\(what) '\(value)' must be 1 to 64 of a-z 0-9 _ - and start with a letter or digit")
            return ""
        }
        return value
    }

    private var knownVoices: String {
        "; known voices: " + config.voices.keys.sorted().joined(separator: ", ")
    }

    /// `idPattern`, checked without a regex (ids are checked once per line).
    static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        func allowed(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }
        guard let first = bytes.first, bytes.count <= 64, allowed(first) else { return false }
        return bytes.dropFirst().allSatisfy { allowed($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// C0 and C1 control characters. Tabs and line breaks count as whitespace (block scalars make them).
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\n" || scalar == "\t" || scalar == "\r" { return false }
        if scalar.value >= 0x20 && scalar.value < 0x7f { return false }
        return scalar.properties.generalCategory == .control
    }
}
