import Foundation

/// `prerender package`: the manifest and exactly the audio it names, plus `SHA256SUMS`, as a .tar.gz (or
/// .tar). Reproducible: entries sorted by path, one fixed time (`SOURCE_DATE_EPOCH`, else 0), owner 0,
/// mode 0644, a gzip header without time or name; two packages of one cache are byte-identical.
public enum LessonPackage {
    public struct Contents: Sendable {
        public var files: Int
        public var bytes: Int
    }

    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    public static func write(output: String, to path: String, sourceDateEpoch: Int?) throws -> Contents {
        let gzip: Bool
        if path.hasSuffix(".tar.gz") || path.hasSuffix(".tgz") { gzip = true } else if path.hasSuffix(".tar") { gzip = false } else {
            throw Refused(description: "\(path): name the package .tar.gz (or .tar)")
        }
        guard let manifestData = FileManager.default.contents(atPath: "\(output)/\(Manifest.fileName)"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: manifestData) else {
            throw Refused(description: "\(output)/\(Manifest.fileName) is missing or unreadable: run prerender build first")
        }
        var entries: [(path: String, bytes: [UInt8])] = [(Manifest.fileName, Array(manifestData))]
        for entry in manifest.audio.values.sorted(by: { $0.path < $1.path }) {
            guard let data = FileManager.default.contents(atPath: "\(output)/\(entry.path)") else {
                throw Refused(description: "\(entry.path) is missing: run prerender verify")
            }
            let bytes = Array(data)
            guard SHA256.hex(bytes) == entry.sha256 else {
                throw Refused(description: "\(entry.path) does not match its sha256 in the manifest: run prerender verify")
            }
            entries.append((entry.path, bytes))
        }
        // sha256sum's format: "<hex>  <path>", sorted by path, checkable with `sha256sum -c SHA256SUMS`.
        let sums = entries.sorted { $0.path < $1.path }.map { "\(SHA256.hex($0.bytes))  \($0.path)\n" }.joined()
        entries.append(("SHA256SUMS", Array(sums.utf8)))
        entries.sort { $0.path < $1.path }

        var tar = Tar(mtime: max(0, sourceDateEpoch ?? 0))
        for entry in entries { try tar.add(path: entry.path, contents: entry.bytes) }
        let archive = gzip ? Zlib.gzip(tar.finished()) : tar.finished()
        try AtomicFile.write(archive, to: path)
        return Contents(files: entries.count, bytes: archive.count)
    }
}
