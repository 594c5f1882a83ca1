import Foundation
import HTTPClient

/// Speech from the Murf API: `POST /v1/speech/generate`, then a download of the audio it points to.
/// The API key goes only into the `api-key` header of requests to the configured base URL;
/// it is kept out of every message this type produces.
public final class MurfSynthesizer: Synthesizer {
    let settings: MurfSettings
    private let apiKey: String
    private let client: HTTPClient

    public init(settings: MurfSettings, apiKey: String, isCancelled: (@Sendable () -> Bool)? = nil) {
        self.settings = settings
        self.apiKey = apiKey
        client = HTTPClient(timeouts: HTTPTimeouts(connect: settings.connectTimeout, total: settings.requestTimeout,
                                                   maxResponseBytes: settings.maxDownloadBytes),
                            isCancelled: isCancelled)
    }

    /// The key from the environment variable pipeline.yaml names.
    static func apiKey(_ settings: MurfSettings, environment: [String: String]) throws -> String {
        guard let key = environment[settings.apiKeyEnv]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            throw SynthesisError("the murf synthesizer needs an API key in the environment variable \(settings.apiKeyEnv)",
                                 retryable: false, unavailable: true)
        }
        return key
    }

    var generateURL: String {
        (settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL) + "/v1/speech/generate"
    }

    /// The request body Murf's API takes (field names from Murf's SDK), written straight as bytes: JSONEncoder
    /// (and before it JSONSerialization's sorting of keys) was a tenth of a worker's time. Absent options are left out.
    func requestBody(for job: RenderJob) -> [UInt8] {
        var body: [String: CanonicalJSON] = [
            "text": .string(job.text), "voiceId": .string(job.parameters["voice_id"]?.string ?? job.voice),
            "format": .string(job.format.uppercased()), "sampleRate": .int(job.sampleRate),
            "channelType": .string(job.channels == 2 ? "STEREO" : "MONO"),
            "rate": .int(job.parameters["rate"]?.int ?? 0), "pitch": .int(job.parameters["pitch"]?.int ?? 0),
            "encodeAsBase64": .bool(false),
        ]
        for (field, parameter) in [("style", "style"), ("modelVersion", "model_version"), ("locale", "locale")] {
            if let value = job.parameters[parameter]?.string { body[field] = .string(value) }
        }
        if let pronunciations = job.pronunciations, !pronunciations.isEmpty {
            body["pronunciationDictionary"] = .object(pronunciations.mapValues {
                .object(["type": .string($0.type), "pronunciation": .string($0.pronunciation)])
            })
        }
        return CanonicalJSON.object(body).bytes
    }

    /// The fields of Murf's answer that matter here; the others are ignored, as the API allows.
    struct Answer: Decodable {
        var audioFile: String?
        var encodedAudio: String?

        init(from decoder: Decoder) throws {
            // A field of another type counts as absent, as it would in a dictionary lookup.
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            audioFile = try? fields.decodeIfPresent(String.self, forKey: .audioFile)
            encodedAudio = try? fields.decodeIfPresent(String.self, forKey: .encodedAudio)
        }

        enum CodingKeys: String, CodingKey { case audioFile, encodedAudio }
    }

    public func synthesize(_ job: RenderJob, deadline: Date) throws -> [UInt8] {
        // Each request is bounded by its own timeout and by what is left of the job's time.
        func bounded() throws {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw SynthesisError("the job's time (TTS_WORKER_TIMEOUT) ran out", retryable: true) }
            client.timeouts.total = min(settings.requestTimeout, remaining)
        }
        try bounded()
        let request = HTTPRequest(method: "POST", url: generateURL, headers: [
            ("api-key", apiKey), ("content-type", "application/json"), ("accept", "application/json"),
        ], body: requestBody(for: job))
        let response = try send(request, what: "Murf generate")
        guard (200..<300).contains(response.status) else { throw statusError(response) }

        // JSONDecoder rather than JSONSerialization, which built a dictionary of Foundation objects for every
        // field of the answer (wordDurations included) to read two.
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            throw SynthesisError(redact("Murf answered \(response.status) with a body that is not JSON: \(Self.snippet(response.body))"),
                                 retryable: true, serviceFault: true)
        }
        if let encoded = answer.encodedAudio, !encoded.isEmpty {
            guard let audio = Data(base64Encoded: encoded) else {
                throw SynthesisError("Murf's encodedAudio is not valid base64", retryable: true)
            }
            return Array(audio)
        }
        guard let url = answer.audioFile, !url.isEmpty else {
            throw SynthesisError("Murf's answer has neither audioFile nor encodedAudio", retryable: true)
        }
        // The audio URL is presigned: it gets no api-key header (it may point at another host).
        try bounded()
        let download = try send(HTTPRequest(method: "GET", url: url), what: "audio download")
        guard download.status == 200 else {
            throw SynthesisError("audio download answered HTTP \(download.status)", retryable: true, serviceFault: download.status >= 500)
        }
        return download.body
    }

    private func send(_ request: HTTPRequest, what: String) throws -> HTTPResponse {
        do {
            return try client.send(request)
        } catch let error as HTTPError {
            switch error.code {
            case .badURL:
                throw SynthesisError(redact("\(what): bad URL: \(error.message)"), retryable: false, unavailable: true)
            case .tooLarge:
                throw SynthesisError(redact("\(what): \(error.message)"), retryable: false)
            default:
                throw SynthesisError(redact("\(what): \(error.message)"), retryable: true, serviceFault: error.code != .cancelled)
            }
        }
    }

    private func statusError(_ response: HTTPResponse) -> SynthesisError {
        let detail = Self.errorMessage(response.body)
        let reason: String
        var retryable = false
        var serviceFault = false
        switch response.status {
        case 400: reason = "bad request"
        case 401, 403: reason = "the API key was refused: check \(settings.apiKeyEnv)"
        case 402: reason = "payment required: the account's characters are used up or the plan expired"
        case 408, 409, 425, 429:
            reason = response.status == 429 ? "too many requests" : "try again later"
            retryable = true
        case 500...599:
            reason = "server error"
            retryable = true
            serviceFault = true
        default: reason = "unexpected status"
        }
        let wait = Self.retryAfter(response.headers)
        let retryAfter = response.headers["retry-after"].map { " (Retry-After: \($0))" } ?? ""
        return SynthesisError(redact("Murf answered HTTP \(response.status), \(reason)\(retryAfter)\(detail.isEmpty ? "" : ": \(detail)")"),
                              retryable: retryable, retryAfter: response.status == 429 ? (wait ?? 0) : wait,
                              accountHalted: response.status == 402, serviceFault: serviceFault)
    }

    /// Seconds to wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, at most an hour.
    static func retryAfter(_ headers: [String: String], now: Date = Date()) -> Double? {
        if let ms = headers["retry-after-ms"].flatMap(Double.init), ms >= 0 { return min(ms / 1000, 3_600) }
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return min(seconds, 3_600) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) { return min(max(0, date.timeIntervalSince(now)), 3_600) }
        }
        return nil
    }

    /// Murf's error JSON carries `errorMessage`; anything else is shown as a short snippet.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            for field in ["errorMessage", "message", "error", "detail"] {
                if let text = json[field] as? String { return text }
            }
        }
        return snippet(body)
    }

    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return body.count > 200 ? text + "…" : text
    }

    /// The key never appears in a message, even when a server echoes it back.
    private func redact(_ text: String) -> String {
        apiKey.count >= 4 ? text.replacingOccurrences(of: apiKey, with: "***") : text
    }
}
