import Foundation

/// How one word (or phrase) is to be said, without changing the text the learner reads.
public enum Pronunciation: Sendable, Equatable {
    /// Say this text instead: `np.` -> `na przykład`, `2024` -> `dwa tysiące dwadzieścia cztery`.
    case text(String)
    /// Say it as this IPA. Murf gets it in the request's `pronunciationDictionary`; espeak-ng gets the
    /// given espeak phonemes (`[[...]]`), or says the word as written when there are none.
    case ipa(String, espeak: String?)
    /// Murf's SAY_AS: say it as this (espeak-ng says the text).
    case sayAs(String)
}

/// A regular-expression rule run over the text before synthesis: `pattern` -> `replacement` (`$1` ...).
public struct TextRule: Sendable {
    public let pattern: String
    public let replacement: String
    let regex: NSRegularExpressionBox

    /// A character every match starts with, when the pattern says so plainly (`\{\{...`, `<...`): text
    /// without it is left alone without running the regex, which is most text and most of a plan's time.
    let leadingCharacter: Character?

    public init(pattern: String, replacement: String) throws {
        self.pattern = pattern
        self.replacement = replacement
        regex = NSRegularExpressionBox(try NSRegularExpression(pattern: pattern))
        leadingCharacter = Self.leadingCharacter(of: pattern)
    }

    func apply(_ text: String) -> String {
        if let leadingCharacter, !text.contains(leadingCharacter) { return text }
        return regex.value.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: replacement)
    }

    /// The literal the pattern begins with, or nil when that is not certain: an alternation anywhere, a
    /// group, class or anchor first, an optional first character, or inline flags.
    static func leadingCharacter(of pattern: String) -> Character? {
        let characters = Array(pattern)
        guard !characters.contains("|"), let first = characters.first else { return nil }
        var literal: Character
        var next = 1
        if first == "\\" {
            // An escaped punctuation character is itself; `\d`, `\w`, `\s`, `\b`... are classes or assertions.
            guard characters.count > 1, !characters[1].isLetter, !characters[1].isNumber else { return nil }
            literal = characters[1]
            next = 2
        } else {
            guard !".^$*+?()[]{}".contains(first) else { return nil }
            literal = first
        }
        if next < characters.count, "?*{".contains(characters[next]) { return nil }  // may match zero times
        return literal
    }
}

/// NSRegularExpression is immutable after creation and safe to share between threads.
struct NSRegularExpressionBox: @unchecked Sendable {
    let value: NSRegularExpression
    init(_ value: NSRegularExpression) { self.value = value }
}

/// The text as the synthesizer should hear it, and the dictionary entries Murf should get with it.
public struct SpokenText: Sendable, Equatable {
    public var text: String
    /// word -> (IPA | SAY_AS, pronunciation), for the words of the text that have such entries.
    public var murfDictionary: [String: MurfPronunciation]

    public struct MurfPronunciation: Sendable, Equatable, Codable {
        public var type: String
        public var pronunciation: String
    }
}

/// A pronunciation dictionary (pipeline.yaml's, with a lesson's entries winning) and the text rules.
public struct Pronouncer: Sendable {
    public var entries: [String: Pronunciation] {
        didSet { entryIndex = Self.index(entries) }
    }
    public var rules: [TextRule]
    /// Entries by their first (case-folded) character, longest first, as (entry, folded characters).
    private var entryIndex: [Character: [(name: String, folded: [Character])]]

    public init(entries: [String: Pronunciation] = [:], rules: [TextRule] = []) {
        self.entries = entries
        self.rules = rules
        entryIndex = Self.index(entries)
    }

    /// The same rules with a lesson's own entries over these.
    public func merging(_ lessonEntries: [String: Pronunciation]) -> Pronouncer {
        Pronouncer(entries: entries.merging(lessonEntries) { $1 }, rules: rules)
    }

    /// Rules first, in order; then dictionary entries, whole words only, longest first where entries
    /// overlap. Matching ignores case (Polish letters included); a replacement of a capitalized word starts
    /// with a capital too.
    public func speak(_ text: String, for synthesizer: SynthesizerKind) -> SpokenText {
        var result = text
        for rule in rules { result = rule.apply(result) }
        result = result.collapsingWhitespace()
        guard !entries.isEmpty else { return SpokenText(text: result, murfDictionary: [:]) }

        let characters = Array(result)
        let folded = characters.map(Self.fold)
        var out = ""
        var murf: [String: SpokenText.MurfPronunciation] = [:]
        var i = 0
        while i < characters.count {
            let atWordStart = i == 0 || !Self.isWordCharacter(characters[i - 1])
            var matched = false
            if atWordStart, let candidates = entryIndex[folded[i]] {
                for (name, key) in candidates where i + key.count <= characters.count {
                    guard folded[i..<(i + key.count)].elementsEqual(key) else { continue }
                    let end = i + key.count
                    // A word ends where a letter or digit does not follow (an entry may end in punctuation: "np.").
                    if end < characters.count, Self.isWordCharacter(characters[end]), Self.isWordCharacter(key[key.count - 1]) { continue }
                    let original = String(characters[i..<end])
                    switch entries[name]! {
                    case .text(let replacement):
                        out += Self.matchCase(of: original, replacement)
                    case .ipa(let ipa, let espeak):
                        if synthesizer == .espeak, let espeak { out += "[[\(espeak)]]" } else { out += original }
                        if synthesizer == .murf { murf[original] = .init(type: "IPA", pronunciation: ipa) }
                    case .sayAs(let sayAs):
                        out += original
                        if synthesizer == .murf { murf[original] = .init(type: "SAY_AS", pronunciation: sayAs) }
                    }
                    i = end
                    matched = true
                    break
                }
            }
            if !matched {
                out.append(characters[i])
                i += 1
            }
        }
        return SpokenText(text: out, murfDictionary: murf)
    }

    private static func index(_ entries: [String: Pronunciation]) -> [Character: [(name: String, folded: [Character])]] {
        var index: [Character: [(name: String, folded: [Character])]] = [:]
        let keys = entries.keys.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        for key in keys {
            let folded = key.map(Self.fold)
            if let first = folded.first { index[first, default: []].append((key, folded)) }
        }
        return index
    }

    /// A character in lower case, ASCII without a Unicode lookup.
    static func fold(_ c: Character) -> Character {
        if let ascii = c.asciiValue { return (65...90).contains(ascii) ? Character(Unicode.Scalar(ascii + 32)) : c }
        return Character(c.lowercased())
    }

    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber }

    /// "Np." with "na przykład" gives "Na przykład"; an all-capital "NP." keeps the replacement's own case.
    static func matchCase(of original: String, _ replacement: String) -> String {
        guard let first = original.first, first.isUppercase, !original.dropFirst().contains(where: \.isUppercase),
              let head = replacement.first else { return replacement }
        return head.uppercased() + replacement.dropFirst()
    }
}
