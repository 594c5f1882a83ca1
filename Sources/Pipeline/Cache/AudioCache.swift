import Foundation

/// The content-addressed audio store under the output folder: `audio/<first two hex>/<key>.<ext>`.
/// Only the build writes here, and only audio that passed validation.
public struct AudioCache: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The path relative to the output folder, as the manifest records it.
    public static func relativePath(key: String, format: String) -> String {
        "audio/\(key.prefix(2))/\(key).\(format)"
    }

    public func path(key: String, format: String) -> String {
        "\(root)/\(Self.relativePath(key: key, format: format))"
    }

    /// The size of the cached file, nil when there is none: one stat(2), as a rebuild asks it of every file.
    public func size(key: String, format: String) -> Int? {
        var info = stat()
        guard stat(path(key: key, format: format), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Stores validated audio under its key (temporary file + rename).
    public func store(_ bytes: [UInt8], key: String, format: String) throws {
        try AtomicFile.write(bytes, to: path(key: key, format: format))
    }

    public func read(key: String, format: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(key: key, format: format)).map { Array($0) }
    }
}
