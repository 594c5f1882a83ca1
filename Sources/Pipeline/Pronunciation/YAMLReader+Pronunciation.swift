import Yams

extension YAMLReader {
    /// `word: replacement`, `word: {ipa: ..., espeak: ...}` or `word: {say_as: ...}`.
    mutating func pronunciations(_ node: Node, _ what: String) -> [String: Pronunciation] {
        guard let m = mapping(node, what) else { return [:] }
        var entries: [String: Pronunciation] = [:]
        for entry in m.entries {
            let name = "\(what).\(entry.key)"
            if entry.key.trimmingCharacters(in: .whitespaces).isEmpty {
                report(at: entry.keyNode, "\(what): an entry needs a word")
                continue
            }
            if case .mapping = entry.value {
                guard let e = mapping(entry.value, name, allowed: ["ipa", "espeak", "say_as"]) else { continue }
                if let ipa = e["ipa"].flatMap({ string($0, "\(name).ipa") }) {
                    entries[entry.key] = .ipa(ipa, espeak: e["espeak"].flatMap { string($0, "\(name).espeak") })
                } else if let sayAs = e["say_as"].flatMap({ string($0, "\(name).say_as") }) {
                    entries[entry.key] = .sayAs(sayAs)
                } else {
                    report(at: entry.value, "\(name) needs ipa: or say_as:")
                }
            } else if let text = string(entry.value, name) {
                entries[entry.key] = .text(text)
            }
        }
        return entries
    }

    /// `- {pattern: '...', replace: '...'}` in order; a bad regular expression is reported where it is.
    mutating func textRules(_ node: Node, _ what: String) -> [TextRule] {
        guard let list = sequence(node, what) else { return [] }
        var rules: [TextRule] = []
        for (index, item) in list.enumerated() {
            let name = "\(what)[\(index)]"
            guard let m = mapping(item, name, allowed: ["pattern", "replace"]) else { continue }
            guard let patternNode = m["pattern"], let pattern = string(patternNode, "\(name).pattern") else {
                if m["pattern"] == nil { report(at: item, "\(name): missing required key 'pattern'") }
                continue
            }
            let replacement = m["replace"].flatMap { node -> String? in
                if case .scalar(let scalar) = node { return scalar.string }
                return string(node, "\(name).replace")
            } ?? ""
            do {
                rules.append(try TextRule(pattern: pattern, replacement: replacement))
            } catch {
                report(at: patternNode, "\(name).pattern is not a valid regular expression: \(pattern)")
            }
        }
        return rules
    }
}

import Foundation
