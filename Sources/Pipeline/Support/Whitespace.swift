/// Whitespace handling for lesson text, without Foundation: it runs once or twice for every line of a build.
extension Character {
    /// Unicode White_Space, with ASCII answered without a property lookup (most text is ASCII).
    var isSpace: Bool {
        guard let ascii = asciiValue else { return isWhitespace }
        return ascii == 0x20 || (ascii >= 0x09 && ascii <= 0x0d)  // space, \t \n \v \f \r (and \r\n, whose asciiValue is \n)
    }
}

extension String {
    /// The text without leading and trailing whitespace (line breaks included).
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isSpace }), let last = lastIndex(where: { !$0.isSpace }) else { return "" }
        if first == startIndex && index(after: last) == endIndex { return self }
        return String(self[first...last])
    }

    /// Trimmed, with each run of whitespace (Unicode White_Space) turned into one space. Works on the UTF-8
    /// bytes: it runs for every line of a build, and walking Characters was most of its time.
    func collapsingWhitespace() -> String {
        let bytes = Array(utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var pendingSpace = false
        var i = 0
        while i < bytes.count {
            let length = Self.whitespaceLength(bytes, at: i)
            if length > 0 {
                pendingSpace = !out.isEmpty
                i += length
                continue
            }
            if pendingSpace {
                out.append(0x20)
                pendingSpace = false
            }
            out.append(bytes[i])
            i += 1
        }
        return out.count == bytes.count ? self : String(decoding: out, as: UTF8.self)
    }

    /// The length of the White_Space scalar at `i` in UTF-8, or 0: ASCII \t...\r and space, U+0085, U+00A0,
    /// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
    private static func whitespaceLength(_ b: [UInt8], at i: Int) -> Int {
        let first = b[i]
        if first < 0x80 { return first == 0x20 || (first >= 0x09 && first <= 0x0d) ? 1 : 0 }
        func at(_ k: Int) -> UInt8 { i + k < b.count ? b[i + k] : 0 }
        switch first {
        case 0xc2: return at(1) == 0x85 || at(1) == 0xa0 ? 2 : 0
        case 0xe1: return at(1) == 0x9a && at(2) == 0x80 ? 3 : 0
        case 0xe2:
            if at(1) == 0x80 { return (0x80...0x8a).contains(at(2)) || [0xa8, 0xa9, 0xaf].contains(at(2)) ? 3 : 0 }
            return at(1) == 0x81 && at(2) == 0x9f ? 3 : 0
        case 0xe3: return at(1) == 0x80 && at(2) == 0x80 ? 3 : 0
        default: return 0
        }
    }
}
