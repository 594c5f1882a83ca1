import Foundation

/// Times as RQ writes them: ISO 8601 in UTC with microseconds and a trailing Z.
enum RQTime {
    /// `2026-11-29T02:44:07.123456Z`, RQ's form. Written digit by digit: String(format:) was 1.4% of a busy
    /// build's CPU (a few times a job).
    static func iso(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let micros = min(Int((date.timeIntervalSince1970 - Double(t)) * 1_000_000), 999_999)
        var text: [UInt8] = []
        text.reserveCapacity(27)
        func digits(_ value: Int, _ count: Int, then separator: Character) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
            text.append(UInt8(ascii: separator.unicodeScalars.first!))
        }
        digits(Int(parts.tm_year) + 1900, 4, then: "-")
        digits(Int(parts.tm_mon) + 1, 2, then: "-")
        digits(Int(parts.tm_mday), 2, then: "T")
        digits(Int(parts.tm_hour), 2, then: ":")
        digits(Int(parts.tm_min), 2, then: ":")
        digits(Int(parts.tm_sec), 2, then: ".")
        digits(micros, 6, then: "Z")
        return String(decoding: text, as: UTF8.self)
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
