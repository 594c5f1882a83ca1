import Foundation

/// Offline Polish speech from espeak-ng, run as a child process per line.
public final class EspeakSynthesizer: Synthesizer {
    let executable: String
    let settings: EspeakSettings
    let scratch: String

    public init(settings: EspeakSettings) throws {
        self.settings = settings
        executable = try Self.locate(settings.command)
        scratch = NSTemporaryDirectory() + "prerender-espeak-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    static func locate(_ command: String) throws -> String {
        guard let path = ChildProcess.find(command) else {
            throw SynthesisError("\(command) is not installed (Debian: apt-get install espeak-ng; `make run` installs it)",
                                 retryable: false, unavailable: true)
        }
        return path
    }

    /// The text as espeak-ng reads it. Murf's pause mark `[pause 1.5s]` becomes SSML's `<break time="1500ms"/>`
    /// (with the rest of the text escaped for XML and `-m`); phoneme input `[[...]]` passes as it is.
    static func input(for text: String) -> (text: String, ssml: Bool) {
        let pause = #/\[pause\s+(\d+(?:\.\d+)?)\s*s\]/#
        guard text.contains(pause) else { return (text, false) }
        var out = "<speak>"
        var rest = Substring(text)
        while let match = rest.firstMatch(of: pause) {
            out += escapeXML(String(rest[..<match.range.lowerBound]))
            let milliseconds = Int(((Double(String(match.1)) ?? 0) * 1000).rounded())
            out += "<break time=\"\(min(milliseconds, 5000))ms\"/>"
            rest = rest[match.range.upperBound...]
        }
        return (out + escapeXML(String(rest)) + "</speak>", true)
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public func synthesize(_ job: RenderJob, deadline: Date) throws -> [UInt8] {
        let voice = job.parameters["espeak_voice"]?.string ?? "pl"
        let speed = job.parameters["speed"]?.int ?? 160
        let pitch = job.parameters["pitch"]?.int ?? 50
        // -w writes a WAV with correct sizes (with --stdout the header holds placeholders).
        let file = "\(scratch)/\(job.key).wav"
        defer { unlink(file) }
        let result: ChildProcess.Result
        let timeout = min(settings.timeout, deadline.timeIntervalSinceNow)
        guard timeout > 0 else { throw SynthesisError("the job's time ran out before espeak-ng could start", retryable: true) }
        do {
            let (input, ssml) = Self.input(for: job.text)
            result = try ChildProcess.run(executable, ["-v", voice, "-s", String(speed), "-p", String(pitch), "-b", "1"] + (ssml ? ["-m"] : [])
                                          + ["-w", file, "--stdin"], stdin: Array(input.utf8), timeout: timeout)
        } catch {
            throw SynthesisError("cannot start \(executable): \(error)", retryable: false, unavailable: true)
        }
        if result.timedOut {
            throw SynthesisError("espeak-ng took longer than \(Int(timeout.rounded(.up))) s", retryable: true)
        }
        guard result.status == 0 else {
            throw SynthesisError("espeak-ng exited with status \(result.status): \(result.stderrText.isEmpty ? "no message" : result.stderrText)", retryable: false)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SynthesisError("espeak-ng wrote no audio file", retryable: true)
        }
        return Array(data)
    }
}
