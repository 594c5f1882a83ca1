import AudioIO
import Foundation

/// Real audio for tests: espeak-ng speech, and files made with libsndfile.
public enum AudioFixtures {
    /// Polish speech from espeak-ng as WAV bytes (16-bit mono, 22,050 Hz).
    public static func speech(_ text: String = "Dzień dobry, jak się masz?") throws -> [UInt8] {
        let directory = try TemporaryDirectory()
        let file = "\(directory.path)/speech.wav"
        let result = try run("/usr/bin/env", ["espeak-ng", "-v", "pl", "-w", file, text])
        guard result == 0, let data = FileManager.default.contents(atPath: file) else {
            throw FixtureError("espeak-ng failed (status \(result)); is it installed?")
        }
        return Array(data)
    }

    /// Speech decoded to floats, for re-encoding in other formats or rates.
    public static func speechSamples(_ text: String = "Dzień dobry, jak się masz?") throws -> [Float] {
        try SoundFile(bytes: try speech(text)).readAll()
    }

    /// Encodes samples with libsndfile in a format and returns the file's bytes.
    public static func encode(_ samples: [Float], sampleRate: Int = 22_050, channels: Int = 1, format: AudioFileFormat = .wav) throws -> [UInt8] {
        let directory = try TemporaryDirectory()
        let file = "\(directory.path)/audio.\(format.fileExtension)"
        try SoundFile.write(samples: samples, sampleRate: sampleRate, channels: channels, format: format, to: file)
        guard let data = FileManager.default.contents(atPath: file) else { throw FixtureError("no file written") }
        return Array(data)
    }

    /// `seconds` of digital silence.
    public static func silence(seconds: Double, sampleRate: Int = 22_050) throws -> [UInt8] {
        try encode([Float](repeating: 0, count: Int(seconds * Double(sampleRate))), sampleRate: sampleRate)
    }

    /// A square wave at full scale: every sample clipped.
    public static func clipped(seconds: Double, sampleRate: Int = 22_050) throws -> [UInt8] {
        let count = Int(seconds * Double(sampleRate))
        return try encode((0..<count).map { ($0 / 50) % 2 == 0 ? 1.0 : -1.0 }, sampleRate: sampleRate)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
