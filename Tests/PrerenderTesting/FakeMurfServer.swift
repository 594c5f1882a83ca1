// A fake of Murf's text-to-speech REST API (api.murf.ai) on loopback, with
// scripted faults and request recording for tests.
import Foundation
@_exported import HTTPServer
#if canImport(Glibc)
import Glibc
#endif

public final class FakeMurfServer: Sendable {
    /// A scripted misbehaviour; each `POST /v1/speech/generate` consumes one
    /// (before the api-key check), and an empty queue means success.
    public enum Fault: Sendable, Equatable {
        /// Answer with this status; an empty body becomes Murf's error JSON.
        case status(Int, body: String = "", headers: [String: String] = [:])
        /// 200 whose JSON body is cut off: `{"audioFile": `.
        case badJSON
        /// Wait, then succeed. Same as `.delay`; meant to exceed a client timeout.
        case hang(seconds: Double)
        /// Succeed, but the returned audio URL answers 404.
        case audio404
        /// Succeed, but the audio download announces the full Content-Length,
        /// sends half the bytes and closes the connection.
        case truncatedAudio
        /// Succeed, but the audio download is `<html>not audio</html>` with 200.
        case notAudio
        /// Wait, then succeed.
        case delay(seconds: Double)
    }

    /// Every request the server received, in arrival order.
    public typealias RecordedRequest = HTTPServerRequest

    private struct State {
        var faults: [Fault] = []
        /// Faults for every request whose text contains a string, before the FIFO (a line the API always refuses).
        var textFaults: [(text: String, fault: Fault)] = []
        var requests: [RecordedRequest] = []
        var generateCount = 0
        var inFlight = 0
        var maxInFlight = 0
        var generateTimes: [Double] = []
        var issuedAudio = 0               // audio ids 1...issuedAudio exist
        var audioFaults: [Int: Fault] = [:]
    }

    public let apiKey: String
    public let audio: [UInt8]
    private let server: BlockingHTTPServer
    private let state: ConditionLocked<State>

    /// `recordingRequests: false` keeps `requests` empty: a benchmark's 100,000 requests would otherwise be held,
    /// bodies and all, for the server's life (hundreds of MB, and the allocations' time on the two cores).
    public init(apiKey: String, audio: [UInt8], recordingRequests: Bool = true) throws {
        let state = ConditionLocked(State())
        self.apiKey = apiKey
        self.audio = audio
        self.state = state
        // The handler captures only immutable values and the locked state (not
        // self), so dropping the FakeMurfServer runs deinit, which stops the server.
        server = try BlockingHTTPServer { request in
            FakeMurfServer.handle(request, state: state, apiKey: apiKey, audio: audio, recording: recordingRequests)
        }
    }

    deinit { server.stop() }

    public var port: UInt16 { server.port }
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }

    /// Every generate request whose text contains `text` gets `fault`, until `clearTextFaults()`.
    /// Deterministic whichever worker sends the line, unlike the FIFO.
    public func fail(linesContaining text: String, with fault: Fault) {
        state.withLock { $0.textFaults.append((text, fault)) }
    }

    public func clearTextFaults() { state.withLock { $0.textFaults.removeAll() } }

    /// Appends faults to the FIFO.
    public func inject(_ faults: [Fault]) { state.withLock { $0.faults += faults } }
    public func inject(_ fault: Fault) { inject([fault]) }

    /// Stops the server; a hanging response is abandoned (the client sees the
    /// connection close). Idempotent.
    public func stop() { server.stop() }

    public var requests: [RecordedRequest] { state.withLock { $0.requests } }
    public var generateCount: Int { state.withLock { $0.generateCount } }
    /// The largest number of generate requests in progress (including their delay) at once.
    public var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    /// Arrival times of generate requests, from `FakeMurfServer.monotonicNow()`.
    public var generateTimes: [Double] { state.withLock { $0.generateTimes } }
    /// Faults injected but not consumed yet.
    public var pendingFaults: [Fault] { state.withLock { $0.faults } }
    /// Number of TCP connections accepted (keep-alive reuse shows as fewer connections than requests).
    public var acceptedConnections: Int { server.acceptedConnections }

    /// Seconds on CLOCK_MONOTONIC, the clock of `generateTimes`.
    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    // MARK: - Request handling

    private static func handle(_ request: HTTPServerRequest, state: ConditionLocked<State>,
                               apiKey: String, audio: [UInt8], recording: Bool) -> HTTPServerResponse {
        if recording { state.withLock { $0.requests.append(request) } }
        let path = String(request.path.split(separator: "?", maxSplits: 1).first ?? "")
        switch (request.method, path) {
        case ("POST", "/v1/speech/generate"):
            return generate(request, state: state, apiKey: apiKey, audio: audio)
        case ("GET", "/v1/speech/voices"):
            guard request.header("api-key") == apiKey else { return invalidKey }
            return .json(200, voicesJSON)
        case ("GET", _) where path.hasPrefix("/audio/") && path.hasSuffix(".wav"):
            let id = Int(path.dropFirst("/audio/".count).dropLast(".wav".count)) ?? 0
            return audioDownload(id: id, state: state, audio: audio)
        case (_, "/v1/speech/generate"), (_, "/v1/speech/voices"):
            return error(405, "Method not allowed")
        default:
            return error(404, "Not found")
        }
    }

    private static func generate(_ request: HTTPServerRequest, state: ConditionLocked<State>,
                                 apiKey: String, audio: [UInt8]) -> HTTPServerResponse {
        let now = monotonicNow()
        // Read once, for the faults keyed by text and for the answer (the server's own CPU counts in benchmarks).
        let body = try? request.decodeJSON(GenerateRequest.self)
        let text = body?.text ?? ""
        let fault = state.withLock { s -> Fault? in
            s.generateCount += 1
            s.generateTimes.append(now)
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            if let rule = s.textFaults.first(where: { !$0.text.isEmpty && text.contains($0.text) }) { return rule.fault }
            return s.faults.isEmpty ? nil : s.faults.removeFirst()
        }
        var response = generateResponse(request, body: body, fault: fault, state: state, apiKey: apiKey, audio: audio)
        switch fault {
        case let .hang(seconds)?, let .delay(seconds)?: response.delay = seconds
        default: break
        }
        // In flight until the (possibly delayed) response is written or abandoned.
        response.onFinish = { state.withLock { $0.inFlight -= 1 } }
        return response
    }

    private static func generateResponse(_ request: HTTPServerRequest, body: GenerateRequest?, fault: Fault?, state: ConditionLocked<State>,
                                         apiKey: String, audio: [UInt8]) -> HTTPServerResponse {
        switch fault {
        case let .status(code, body, headers)?:
            var response = body.isEmpty ? error(code, "Injected fault") : .json(code, body)
            response.headers.merge(headers) { $1 }
            return response
        case .badJSON?:
            return .json(200, #"{"audioFile": "#)
        default:
            break
        }
        guard request.header("api-key") == apiKey else { return invalidKey }
        guard let text = body?.text, !text.isEmpty else { return error(400, "Invalid request: text is required") }

        // Issue an audio id only on success, so failed requests leave no downloadable file.
        let audioID = state.withLock { s in
            s.issuedAudio += 1
            if let fault, [.audio404, .truncatedAudio, .notAudio].contains(fault) { s.audioFaults[s.issuedAudio] = fault }
            return s.issuedAudio
        }
        let base64 = body?.encodeAsBase64 ?? false
        let audioFile = base64 ? "" : "http://127.0.0.1:\(request.serverPort)/audio/\(audioID).wav"
        let encoded = base64 ? "\"\(Data(audio).base64EncodedString())\"" : "null"
        return .json(200, """
            {"audioFile":"\(audioFile)","encodedAudio":\(encoded),\
            "audioLengthInSeconds":\(wavDuration(audio)),"remainingCharacterCount":100000,\
            "consumedCharacterCount":\(text.count),"wordDurations":[],"warning":null,"someUnknownField":1}
            """)
    }

    private static func audioDownload(id: Int, state: ConditionLocked<State>, audio: [UInt8]) -> HTTPServerResponse {
        let (exists, fault) = state.withLock { s in (id >= 1 && id <= s.issuedAudio, s.audioFaults[id]) }
        let wav = HTTPServerResponse(status: 200, headers: ["Content-Type": "audio/wav"], body: audio)
        switch fault {
        case _ where !exists, .audio404?:
            return HTTPServerResponse(status: 404, headers: ["Content-Type": "text/plain"], body: Array("Not Found".utf8))
        case .truncatedAudio?:
            var response = wav
            response.truncateAfter = audio.count / 2
            return response
        case .notAudio?:
            return HTTPServerResponse(status: 200, headers: ["Content-Type": "text/html"],
                                      body: Array("<html>not audio</html>".utf8))
        default:
            return wav
        }
    }

    private static var invalidKey: HTTPServerResponse { error(401, "Invalid api key") }

    /// Murf's error body shape.
    private static func error(_ code: Int, _ message: String) -> HTTPServerResponse {
        .json(code, #"{"errorMessage":"\#(message)","errorCode":\#(code)}"#)
    }

    /// Duration of a canonical 44-byte-header PCM WAV; 1.0 for anything else.
    private static func wavDuration(_ wav: [UInt8]) -> Double {
        guard wav.count >= 44, wav.starts(with: Array("RIFF".utf8)) else { return 1.0 }
        let byteRate = (28..<32).reversed().reduce(0) { $0 << 8 | Int(wav[$1]) }  // little-endian UInt32
        return byteRate > 0 ? Double(wav.count - 44) / Double(byteRate) : 1.0
    }

    private static let voicesJSON: String = {
        func voice(_ id: String, _ name: String, _ gender: String, _ styles: [String],
                   accent: String, language: String, description: String) -> String {
            let locale = String(id.prefix(5))
            let styleList = styles.map { "\"\($0)\"" }.joined(separator: ",")
            return """
                {"voiceId":"\(id)","displayName":"\(name) (\(gender.prefix(1)))","locale":"\(locale)",\
                "displayLanguage":"\(language)","accent":"\(accent)","description":"\(description)",\
                "gender":"\(gender)","availableStyles":[\(styleList)],\
                "supportedLocales":{"\(locale)":{"detail":"\(language)","availableStyles":[\(styleList)]}}}
                """
        }
        return "[" + [
            voice("pl-PL-jacek", "Jacek", "Male", ["Conversational"], accent: "Polish", language: "Polish", description: "Middle-Aged"),
            voice("pl-PL-kasia", "Kasia", "Female", ["Conversational"], accent: "Polish", language: "Polish", description: "Young Adult"),
            voice("pl-PL-blazej", "Blazej", "Male", ["Conversational", "Narration"], accent: "Polish", language: "Polish", description: "Middle-Aged"),
            voice("en-US-natalie", "Natalie", "Female", ["Promo", "Narration", "Conversational"], accent: "US & Canada", language: "English", description: "Middle-Aged"),
        ].joined(separator: ",") + "]"
    }()
}

/// The fields of a generate request the fake server looks at; any others are accepted, as Murf's API accepts
/// them. A field of another type reads as absent.
private struct GenerateRequest: Decodable {
    var text: String?
    var encodeAsBase64: Bool?

    init(from decoder: Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        text = try? fields.decodeIfPresent(String.self, forKey: .text)
        encodeAsBase64 = try? fields.decodeIfPresent(Bool.self, forKey: .encodeAsBase64)
    }

    enum CodingKeys: String, CodingKey { case text, encodeAsBase64 }
}
