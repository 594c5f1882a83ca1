import Foundation

/// A folder for one test, removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "prerender-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a text file below the folder (creating folders) and returns its path.
    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> String {
        let full = "\(path)/\(relative)"
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    public func read(_ relative: String) -> String? {
        try? String(contentsOfFile: "\(path)/\(relative)", encoding: .utf8)
    }

    /// Every file below `relative`, as paths relative to it, sorted.
    public func files(under relative: String) -> [String] {
        let base = "\(path)/\(relative)"
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var files: [String] = []
        while let item = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(base)/\(item)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(item)
            }
        }
        return files.sorted()
    }

    /// A snapshot of every file below `relative` with its bytes, to show that nothing changed.
    public func snapshot(_ relative: String) -> [String: Data] {
        var result: [String: Data] = [:]
        for file in files(under: relative) {
            result[file] = FileManager.default.contents(atPath: "\(path)/\(relative)/\(file)")
        }
        return result
    }
}
