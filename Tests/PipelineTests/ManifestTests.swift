import Foundation
@testable import Pipeline
import Testing

/// manifest.json's bytes: written directly, they must be what JSONEncoder writes.
@Suite struct ManifestTests {
    func audio(_ n: Int, mastered: Bool) -> Manifest.Audio {
        Manifest.Audio(path: "audio/0\(n)/0\(n)abc.wav", sha256: String(repeating: "\(n)", count: 64), bytes: 41_240 + n, format: "wav",
                       sampleRate: 22_050, channels: 1, durationMs: 934 + n, synthesizer: n % 2 == 0 ? "espeak" : "murf",
                       voice: "pl-PL-kasia", lufs: mastered ? -16.04 : nil, truePeakDB: mastered ? -1.5 : nil, trimmedMs: mastered ? 120 : nil)
    }

    @Test func theWrittenBytesAreJSONEncodersForEveryKindOfEntry() throws {
        let items = [
            Manifest.Item(id: "a-1", text: "Zażółć gęślą \"jaźń\" \\ koniec/start", speaker: "narrator", voice: "pl-PL-kasia", audio: "02ab"),
            Manifest.Item(id: "a-2", text: "Dwa\nwiersze\tz tabem", speaker: "anna", voice: "pl-PL-jacek", audio: "01cd"),
        ]
        let manifest = Manifest(lessons: [
            Manifest.Lesson(id: "zeta", title: "Ostatnia", source: "Lessons/zeta.yaml", items: items),
            Manifest.Lesson(id: "alfa", title: "Pierwsza — „cudzysłów”", source: "Lessons/alfa.yaml", items: [items[0]]),
        ], audio: ["02ab": audio(2, mastered: true), "01cd": audio(1, mastered: false)])
        #expect(try manifest.encoded() == manifest.encodedByFoundation())
        #expect(try JSONDecoder().decode(Manifest.self, from: Data(manifest.encoded())) == manifest)
        let empty = Manifest(lessons: [], audio: [:])
        #expect(try empty.encoded() == empty.encodedByFoundation())
    }

    @Test func aStreamedWriteIsTheSameBytesAndAFailedOneLeavesNothing() throws {
        let directory = NSTemporaryDirectory() + "manifest-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/manifest.json"
        let items = (0..<3_000).map { Manifest.Item(id: "i-\($0)", text: "Zdanie numer \($0).", speaker: "narrator", voice: "v", audio: "k\($0)") }
        let manifest = Manifest(lessons: [Manifest.Lesson(id: "a", title: "A", source: "a.yaml", items: items)],
                                audio: Dictionary(uniqueKeysWithValues: (0..<3_000).map { ("k\($0)", audio($0 % 7, mastered: $0 % 2 == 0)) }))
        #expect(try manifest.write(to: path))  // no file yet: streamed, in pieces of about 1 MB
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == (try manifest.encoded()))
        #expect(try !manifest.write(to: path, previous: Manifest.load(from: path)))

        struct Stop: Error {}
        #expect(throws: Stop.self) { try AtomicFile.write(to: path) { write in try write([1, 2, 3]); throw Stop() } }
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == (try manifest.encoded()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["manifest.json"])
    }
}
