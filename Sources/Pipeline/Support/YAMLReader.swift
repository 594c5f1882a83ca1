import Foundation
import Yams

/// Reads a YAML document node by node, keeping the line and column of every value so
/// that each problem can be reported where it is, and collecting all problems.
struct YAMLReader {
    let path: String
    private(set) var diagnostics: [Diagnostic] = []

    init(path: String) {
        self.path = path
    }

    /// Parses the text into a node tree; a syntax error becomes a diagnostic with its position.
    mutating func parse(_ text: String) -> Node? {
        do {
            // No implicit tag resolution: the reader decides what a scalar may be, and resolving every scalar
            // against YAML's regexes was a fifth of the time to read a large lesson.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                report(line: 1, column: 1, "the file is empty")
                return nil
            }
            return node
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _),
                 .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let contextText = context.map { " \($0.text)" } ?? ""
                report(line: mark.line, column: mark.column, "YAML syntax error: \(problem)\(contextText)")
            case .reader(let problem, _, _, _):
                report(line: 1, column: 1, "cannot read the file as UTF-8 text: \(problem)")
            default:
                report(line: 1, column: 1, "YAML error: \(error)")
            }
            return nil
        } catch {
            report(line: 1, column: 1, "YAML error: \(error)")
            return nil
        }
    }

    mutating func report(line: Int, column: Int, _ message: String) {
        diagnostics.append(Diagnostic(path: path, line: line, column: column, message: message))
    }

    mutating func report(at node: Node?, _ message: String) {
        let mark = node?.mark
        report(line: mark?.line ?? 1, column: mark?.column ?? 1, message)
    }

    /// A mapping's entries by key, in file order. Unknown and repeated keys are reported.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String]? = nil) -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            report(at: node, "\(what) must be a mapping of key: value lines, not \(describe(node))")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        var seen: Set<String> = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(at: keyNode, "\(what): keys must be plain names")
                continue
            }
            let key = scalar.string
            if !seen.insert(key).inserted {
                report(at: keyNode, "\(what): key '\(key)' appears twice")
                continue
            }
            if let allowed, !allowed.contains(key) {
                let hint = Self.closest(to: key, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
                report(at: keyNode, "\(what): unknown key '\(key)' (allowed: \(allowed.joined(separator: ", ")))\(hint)")
                continue
            }
            entries.append((key, keyNode, value))
        }
        return YAMLMapping(node: node, entries: entries)
    }

    /// Text from a scalar. Any plain scalar counts (so `text: 2024` is the text "2024").
    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(at: node, "\(what) must be text, not \(describe(node))")
            return nil
        }
        if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            report(at: node, "\(what) must not be empty")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node, _ what: String, in range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            report(at: node, "\(what) must be a whole number\(range.map { " from \($0.lowerBound) to \($0.upperBound)" } ?? ""), not \(describe(node))")
            return nil
        }
        if let range, !range.contains(value) {
            report(at: node, "\(what) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
            return nil
        }
        return value
    }

    mutating func double(_ node: Node, _ what: String, in range: ClosedRange<Double>? = nil) -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string) else {
            report(at: node, "\(what) must be a number, not \(describe(node))")
            return nil
        }
        if let range, !range.contains(value) {
            report(at: node, "\(what) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        report(at: node, "\(what) must be true or false, not \(describe(node))")
        return nil
    }

    mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(at: node, "\(what) must be a list of '- ' entries, not \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "…" : scalar.string
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The allowed key one edit or two away from a misspelt one.
    static func closest(to word: String, in candidates: [String]) -> String? {
        candidates
            .map { ($0, editDistance(word.lowercased(), $0)) }
            .filter { $0.1 <= 2 }
            .min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A mapping's entries with their key nodes, for positions.
struct YAMLMapping {
    let node: Node
    let entries: [(key: String, keyNode: Node, value: Node)]

    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }
}
