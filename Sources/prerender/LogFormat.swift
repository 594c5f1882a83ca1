import ArgumentParser
import Foundation
import Logging

/// How log lines look: for people (`text`) or one JSON object per line for log collectors (`json`).
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json

    func logger(level: Logger.Level) -> Logger {
        var logger = switch self {
        case .text: Logger(label: "prerender") { StreamLogHandler.standardError(label: $0) }
        case .json: Logger(label: "prerender") { JSONLogHandler(label: $0) }
        }
        logger.logLevel = level
        return logger
    }
}

/// One JSON object per log line on standard error: `ts`, `level`, `message`, then the metadata
/// (job id, key, item, attempt, duration, ...). Values are whatever the code logged; no secret is ever logged.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": RFC3339.now(),
            "level": "\(event.level)",
            "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            FileHandle.standardError.write(data + Data("\n".utf8))
        }
    }
}

enum RFC3339 {
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
