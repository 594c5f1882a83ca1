import Foundation

/// Reports of a build for CI dashboards: JSON (`--report`) and JUnit XML (`--junit`), one entry per item.
extension BuildSummary {
    /// `{"summary": {...}, "items": [{lesson, item, source, line, key, status, attempts, duration_ms, reason}]}`.
    public func reportJSON() throws -> [UInt8] {
        let items: [[String: Any]] = itemResults.map { result in
            var object: [String: Any] = [
                "lesson": result.lesson, "item": result.item, "source": result.source, "line": result.line, "key": result.key,
                "status": result.status.rawValue, "attempts": result.attempts,
            ]
            if let seconds = result.seconds { object["duration_ms"] = Int((seconds * 1000).rounded()) }
            if let reason = result.reason { object["reason"] = reason }
            return object
        }
        let summary: [String: Any] = [
            "lessons": lessons, "items": self.items, "unique_audio": uniqueAudio, "cached": cached, "enqueued": enqueued,
            "joined": joined, "rendered": rendered, "failed": failures.count, "manifest_written": manifestWritten,
            "seconds": (seconds * 1000).rounded() / 1000,
        ]
        var data = try JSONSerialization.data(withJSONObject: ["summary": summary, "items": items],
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return Array(data)
    }

    /// JUnit XML: a test suite per lesson, a test case per item; failed items carry their reason.
    public func junitXML() -> [UInt8] {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let failed = itemResults.filter { $0.status == .failed }.count
        xml += #"<testsuites name="prerender" tests="\#(itemResults.count)" failures="\#(failed)" time="\#(String(format: "%.3f", seconds))">"# + "\n"
        var lessonsInOrder: [String] = []
        var byLesson: [String: [ItemResult]] = [:]
        for result in itemResults {
            if byLesson[result.lesson] == nil { lessonsInOrder.append(result.lesson) }
            byLesson[result.lesson, default: []].append(result)
        }
        for lesson in lessonsInOrder {
            let results = byLesson[lesson]!
            let failures = results.filter { $0.status == .failed }.count
            let time = results.compactMap(\.seconds).reduce(0, +)
            xml += #"  <testsuite name="\#(Self.escape(lesson))" tests="\#(results.count)" failures="\#(failures)" time="\#(String(format: "%.3f", time))">"# + "\n"
            for result in results {
                let attributes = #"classname="\#(Self.escape(lesson))" name="\#(Self.escape(result.item))" file="\#(Self.escape(result.source))" line="\#(result.line)" time="\#(String(format: "%.3f", result.seconds ?? 0))""#
                switch result.status {
                case .failed:
                    let reason = Self.escape(result.reason ?? "failed")
                    xml += "    <testcase \(attributes)>\n      <failure message=\"\(reason)\">\(reason)</failure>\n    </testcase>\n"
                case .rendered, .cached:
                    xml += "    <testcase \(attributes)>\n      <system-out>\(result.status.rawValue) \(result.key)</system-out>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return Array(xml.utf8)
    }

    /// XML text and attribute escaping; control characters other than tab and newlines are dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Writes a report through a temporary file and a rename.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try AtomicFile.write(bytes, to: path)
    }
}
