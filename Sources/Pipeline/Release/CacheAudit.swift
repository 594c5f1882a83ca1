import AudioIO
import Foundation

/// `prerender verify` and `prerender gc`: the output folder checked against its manifest, and cached
/// audio that nothing uses any more.
public enum CacheAudit {
    public struct Problem: Sendable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Codable {
            case noManifest = "no_manifest", missing, size, sha256, invalid, metadata, unindexed, unknownKey = "unknown_key"
            case offTarget = "off_target"
        }
        public var kind: Kind
        /// Relative to the output folder.
        public var path: String
        public var message: String

        public var description: String { "\(path): \(message)" }
    }

    public struct Verification: Sendable, Codable {
        public var checked: Int
        public var problems: [Problem]
    }

    /// Re-opens every file the manifest names with libsndfile and checks its sha256, size, recorded facts
    /// and the validation rules; finds files missing, and files present but not indexed.
    /// With `mastering`, mastered files (those with a `lufs` entry) must also measure within 0.5 LU of its
    /// target and under its true-peak ceiling.
    public static func verify(output: String, rules: ValidationRules, mastering: MasteringSettings? = nil) -> Verification {
        let manifestPath = "\(output)/\(Manifest.fileName)"
        guard let manifest = Manifest.load(from: manifestPath) else {
            return Verification(checked: 0, problems: [Problem(kind: .noManifest, path: Manifest.fileName,
                                                               message: "missing, or not a schema \(Manifest.schemaVersion) manifest")])
        }
        var problems: [Problem] = []
        var textFor: [String: String] = [:]
        for lesson in manifest.lessons {
            for item in lesson.items {
                if textFor[item.audio] == nil { textFor[item.audio] = item.text }
                if manifest.audio[item.audio] == nil {
                    problems.append(Problem(kind: .unknownKey, path: Manifest.fileName,
                                            message: "\(lesson.id)/\(item.id) names audio \(item.audio), which the manifest does not list"))
                }
            }
        }
        for (key, entry) in manifest.audio.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: "\(output)/\(entry.path)") else {
                problems.append(Problem(kind: .missing, path: entry.path, message: "missing"))
                continue
            }
            let bytes = Array(data)
            if bytes.count != entry.bytes {
                problems.append(Problem(kind: .size, path: entry.path, message: "\(bytes.count) bytes, the manifest says \(entry.bytes)"))
            }
            let digest = SHA256.hex(bytes)
            if digest != entry.sha256 {
                problems.append(Problem(kind: .sha256, path: entry.path, message: "sha256 \(digest), the manifest says \(entry.sha256)"))
            }
            let expected = AudioOutput(format: entry.format, sampleRate: entry.sampleRate, channels: entry.channels)
            do {
                let report = try AudioCheck(rules: rules, expected: expected).check(bytes, text: textFor[key] ?? "")
                if abs(report.durationMs - entry.durationMs) > 1 {
                    problems.append(Problem(kind: .metadata, path: entry.path, message: "lasts \(report.durationMs) ms, the manifest says \(entry.durationMs)"))
                }
                if let mastering, entry.lufs != nil, let measured = try? AudioCheck.loudness(of: bytes) {
                    if abs(measured.lufs - mastering.targetLUFS) > 0.5 {
                        problems.append(Problem(kind: .offTarget, path: entry.path,
                                                message: "\(measured.lufs) LUFS, the target is \(mastering.targetLUFS) LUFS (±0.5)"))
                    }
                    if measured.truePeakDB > mastering.truePeakCeiling + 0.1 {
                        problems.append(Problem(kind: .offTarget, path: entry.path,
                                                message: "true peak \(measured.truePeakDB) dBTP, above the ceiling of \(mastering.truePeakCeiling) dBTP"))
                    }
                }
            } catch {
                problems.append(Problem(kind: .invalid, path: entry.path, message: "\(error)"))
            }
        }
        let indexed = Set(manifest.audio.values.map(\.path))
        for file in audioFiles(output: output) where !indexed.contains(file) {
            problems.append(Problem(kind: .unindexed, path: file, message: "present but not in the manifest"))
        }
        return Verification(checked: manifest.audio.count, problems: problems)
    }

    /// Files under `audio/`, relative to the output folder, sorted.
    static func audioFiles(output: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: "\(output)/audio") else { return [] }
        var files: [String] = []
        while let item = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(output)/audio/\(item)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append("audio/\(item)")
            }
        }
        return files.sorted()
    }

    /// Cached audio that neither the manifest names nor the current lessons use (and temporary files left
    /// by a crash). Deletes them unless `dryRun`; never touches what the manifest names.
    public static func collectGarbage(config: PipelineConfig, dryRun: Bool) throws -> (removed: [String], bytes: Int) {
        let output = config.outputDirectory
        let manifest = Manifest.load(from: "\(output)/\(Manifest.fileName)")
        var keep = Set(manifest?.audio.values.map(\.path) ?? [])
        let lessons = try LessonLoader(config: config).loadAll(from: config.lessonsDirectory)
        for job in BuildPlan(lessons: lessons, config: config).jobs {
            keep.insert(AudioCache.relativePath(key: job.key, format: job.fileFormat))
        }
        var removed: [String] = []
        var bytes = 0
        for file in audioFiles(output: output) where !keep.contains(file) {
            let path = "\(output)/\(file)"
            bytes += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if !dryRun { try FileManager.default.removeItem(atPath: path) }
            removed.append(file)
        }
        return (removed, bytes)
    }
}
