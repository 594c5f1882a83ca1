import Foundation

/// Times as RQ writes them: ISO 8601 in UTC with microseconds and a trailing Z.
enum RQTime {
    static func iso(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let micros = Int((date.timeIntervalSince1970 - Double(t)) * 1_000_000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(micros, 999_999))
    }

    static func unix(_ date: Date = Date()) -> Double { date.timeIntervalSince1970 }
}
