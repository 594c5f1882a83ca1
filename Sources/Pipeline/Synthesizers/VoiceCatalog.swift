import Foundation
import HTTPClient

/// A voice a synthesizer offers.
public struct VoiceInfo: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var locale: String
    public var gender: String
    public var styles: [String]
}

/// The voices a synthesizer offers, and the check that every voice and style the lessons use exists,
/// before anything is enqueued.
public enum VoiceCatalog {
    /// espeak-ng's voices for a language (`espeak-ng --voices=pl`), and its variants (`pl+f3`).
    public static func espeak(command: String, language: String = "pl") throws -> [VoiceInfo] {
        let executable = try EspeakSynthesizer.locate(command)
        var voices = try table(executable, "--voices=\(language)").map { columns in
            VoiceInfo(id: columns[1], name: columns[3], locale: columns[1], gender: String(columns[2].suffix(1)), styles: [])
        }
        // Variants combine with any voice: pl+f3, pl+m1, ...
        for columns in try table(executable, "--voices=variant") {
            let variant = columns[4].split(separator: "/").last.map(String.init) ?? columns[3]
            voices.append(VoiceInfo(id: "+\(variant)", name: columns[3], locale: "variant", gender: String(columns[2].suffix(1)), styles: []))
        }
        return voices
    }

    private static func table(_ executable: String, _ argument: String) throws -> [[String]] {
        let result = try ChildProcess.run(executable, [argument], timeout: 10)
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").dropFirst()
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { $0.count >= 5 }
    }

    /// Murf's voices (`GET /v1/speech/voices`), cached in `cacheFile` for a day.
    public static func murf(settings: MurfSettings, apiKey: String, cacheFile: String?) throws -> [VoiceInfo] {
        if let cacheFile, let attributes = try? FileManager.default.attributesOfItem(atPath: cacheFile),
           let modified = attributes[.modificationDate] as? Date, Date().timeIntervalSince(modified) < 86_400,
           let data = FileManager.default.contents(atPath: cacheFile), let voices = try? JSONDecoder().decode([VoiceInfo].self, from: data) {
            return voices
        }
        let base = settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL
        let client = HTTPClient(timeouts: HTTPTimeouts(connect: settings.connectTimeout, total: settings.requestTimeout))
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(url: base + "/v1/speech/voices", headers: [("api-key", apiKey), ("accept", "application/json")]))
        } catch {
            throw SynthesisError("Murf's voice list: \(error)", retryable: true, unavailable: true)
        }
        guard response.status == 200, let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
            throw SynthesisError("Murf's voice list answered HTTP \(response.status)\(response.status == 401 || response.status == 403 ? ": check \(settings.apiKeyEnv)" : "")",
                                 retryable: true, unavailable: true)
        }
        let voices = list.compactMap { voice -> VoiceInfo? in
            guard let id = voice["voiceId"] as? String else { return nil }
            var styles = voice["availableStyles"] as? [String] ?? []
            if let locales = voice["supportedLocales"] as? [String: Any] {
                for case let detail as [String: Any] in locales.values {
                    styles += detail["availableStyles"] as? [String] ?? []
                }
            }
            return VoiceInfo(id: id, name: voice["displayName"] as? String ?? id, locale: voice["locale"] as? String ?? "",
                             gender: voice["gender"] as? String ?? "", styles: Array(Set(styles)).sorted())
        }
        if let cacheFile, let data = try? JSONEncoder().encode(voices) { try? AtomicFile.write(Array(data), to: cacheFile) }
        return voices
    }

    /// Every voice and style the lessons use, checked against what the chosen synthesizer offers.
    /// Problems are reported at the item, as `path:line:column`.
    public static func check(_ lessons: [Lesson], config: PipelineConfig, environment: [String: String]) throws {
        var problems: [Diagnostic] = []
        switch config.synthesizer {
        case .espeak:
            let offered = Set(try espeak(command: config.espeak.command).map(\.id))
            for lesson in lessons {
                for item in lesson.items {
                    guard let voice = config.voices[item.voice]?.espeak?.voice else { continue }
                    let parts = voice.split(separator: "+", maxSplits: 1).map(String.init)
                    if !offered.contains(parts[0]) {
                        problems.append(Diagnostic(path: lesson.source, line: item.line, column: item.column,
                                                   message: "voice '\(item.voice)' is espeak-ng voice '\(parts[0])', which espeak-ng does not have"))
                    } else if parts.count > 1, !offered.contains("+\(parts[1])") {
                        problems.append(Diagnostic(path: lesson.source, line: item.line, column: item.column,
                                                   message: "voice '\(item.voice)' uses espeak-ng variant '\(parts[1])', which espeak-ng does not have"))
                    }
                }
            }
        case .murf:
            let key = try MurfSynthesizer.apiKey(config.murf, environment: environment)
            let account = String(SHA256.hex(Array(key.utf8)).prefix(16))
            let voices = try murf(settings: config.murf, apiKey: key,
                                  cacheFile: "\(config.outputDirectory)/.cache/murf-voices-\(account).json")
            let byID = Dictionary(voices.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for lesson in lessons {
                for item in lesson.items {
                    guard let murf = config.voices[item.voice]?.murf else { continue }
                    guard let offered = byID[murf.voiceId] else {
                        problems.append(Diagnostic(path: lesson.source, line: item.line, column: item.column,
                                                   message: "voice '\(item.voice)' is Murf voice '\(murf.voiceId)', which Murf does not offer"))
                        continue
                    }
                    if let style = item.style ?? murf.style, !offered.styles.isEmpty, !offered.styles.contains(style) {
                        problems.append(Diagnostic(path: lesson.source, line: item.line, column: item.column,
                                                   message: "Murf voice '\(murf.voiceId)' has no style '\(style)'; it has \(offered.styles.joined(separator: ", "))"))
                    }
                }
            }
        }
        if !problems.isEmpty { throw InvalidInput(problems) }
    }
}
