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
}
