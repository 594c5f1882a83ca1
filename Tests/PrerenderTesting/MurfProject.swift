import Foundation

/// A project folder for tests that render through the fake Murf server: a pipeline.yaml pointing the
/// murf synthesizer at the server, and a lesson.
public enum MurfProject {
    /// Lines the generated lesson cycles through (line-N gets `lines[N % count]`, plus "!" per round).
    public static let lines = ["Dzień dobry, jak się masz?", "Dziękuję, bardzo dobrze.", "Do zobaczenia jutro!", "Ile to kosztuje?",
                               "Poproszę kawę z mlekiem.", "Gdzie jest dworzec?"]

    /// - Parameters:
    ///   - queue: lines under `queue:` (indented two spaces), such as `max_retries: 1`.
    ///   - murf: lines under `synthesizers.murf:` (indented four spaces), such as `rate_limit: none`.
    ///   - lesson: the lesson's YAML; by default lesson `a` with `items` generated lines `line-0`, `line-1`, ...
    public static func make(server: FakeMurfServer, items: Int = 3, queue: [String] = [], murf: [String] = [],
                            lesson: String? = nil) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        var yaml = ["synthesizer: murf"]
        if !queue.isEmpty { yaml += ["queue:"] + queue.map { "  " + $0 } }
        yaml += ["synthesizers:", "  murf:", "    base_url: \(server.baseURL)", "    request_timeout: 20"] + murf.map { "    " + $0 }
        try directory.write("pipeline.yaml", yaml.joined(separator: "\n") + "\n")
        try directory.write("Lessons/a.yaml", lesson ?? "id: a\ntitle: A\nitems:\n" + (0..<items).map {
            "  - id: line-\($0)\n    text: \(lines[$0 % lines.count])\(String(repeating: "!", count: $0 / lines.count))\n"
        }.joined())
        return directory
    }
}

extension AudioFixtures {
    /// What the fake Murf server serves: Polish speech as 24 kHz mono WAV, Murf's default output.
    public static func murfAudio() throws -> [UInt8] {
        try encode(try speechSamples("Dzień dobry, jak się masz?"), sampleRate: 24_000)
    }
}
