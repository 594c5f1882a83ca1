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

    /// Unix time from RQ's ISO form (`2026-11-29T02:44:07.123456Z`), nil when empty or malformed.
    static func parse(_ text: String) -> Double? {
        // YYYY-MM-DDTHH:MM:SS[.ffffff]Z
        let numbers = text.split(whereSeparator: { !$0.isNumber }).map(String.init)
        guard numbers.count >= 6, text.count >= 19 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(numbers[0])! - 1900
        parts.tm_mon = Int32(numbers[1])! - 1
        parts.tm_mday = Int32(numbers[2])!
        parts.tm_hour = Int32(numbers[3])!
        parts.tm_min = Int32(numbers[4])!
        parts.tm_sec = Int32(numbers[5])!
        var seconds = Double(timegm(&parts))
        if numbers.count > 6, let fraction = Double("0." + numbers[6]) { seconds += fraction }
        return seconds
    }
}
