import CSndfile
import Foundation
import Glibc

/// An audio file open for reading through libsndfile, from bytes in memory or from a path.
/// Owns one `SNDFILE` handle. Decoding blocks the calling thread; not `Sendable`.
public final class SoundFile {
    private var handle: OpaquePointer?
    /// Keeps the bytes alive while libsndfile reads them through virtual I/O.
    private let memory: MemoryFile?
    public let info: AudioInfo

    /// Opens audio held in memory (a download, a synthesizer's output) without touching the disk.
    public init(bytes: [UInt8]) throws {
        let memory = MemoryFile(bytes)
        var sfInfo = SF_INFO()
        var io = SF_VIRTUAL_IO(get_filelen: vioLength, seek: vioSeek, read: vioRead, write: vioWrite, tell: vioTell)
        let opened = sf_open_virtual(&io, Int32(SFM_READ), &sfInfo, Unmanaged.passUnretained(memory).toOpaque())
        guard let opened else {
            throw AudioError(.unreadable, "not audio libsndfile can read: \(String(cString: sf_strerror(nil)))")
        }
        self.memory = memory
        handle = opened
        info = AudioInfo(sfInfo)
    }

    /// Opens an audio file on disk.
    public init(path: String) throws {
        var sfInfo = SF_INFO()
        guard let opened = sf_open(path, Int32(SFM_READ), &sfInfo) else {
            throw AudioError(.unreadable, "\(path): \(String(cString: sf_strerror(nil)))")
        }
        memory = nil
        handle = opened
        info = AudioInfo(sfInfo)
    }

    deinit {
        if let handle { sf_close(handle) }
    }

    public func close() {
        if let handle { sf_close(handle) }
        handle = nil
    }

    /// Decodes every frame as interleaved floats in -1...1.
    /// Throws `.truncated` when fewer frames decode than the file announced (cut-off downloads).
    public func readAll() throws -> [Float] {
        guard let handle else { throw AudioError(.unreadable, "the audio file is closed") }
        let expected = info.frames * info.channels
        var samples = [Float]()
        samples.reserveCapacity(max(0, min(expected, 1 << 28)))
        let chunkFrames = 8192
        var chunk = [Float](repeating: 0, count: chunkFrames * max(info.channels, 1))
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { buffer in
                sf_readf_float(handle, buffer.baseAddress, sf_count_t(chunkFrames))
            }
            if got <= 0 { break }
            samples.append(contentsOf: chunk[0..<(Int(got) * info.channels)])
        }
        let status = sf_error(handle)
        if status != 0 {
            throw AudioError(.truncated, "decoding stopped after \(samples.count / max(info.channels, 1)) frames: \(String(cString: sf_strerror(handle)))")
        }
        if samples.count < expected {
            throw AudioError(.truncated, "only \(samples.count / max(info.channels, 1)) of \(info.frames) announced frames decode: the file is cut off")
        }
        return samples
    }

    /// For files whose header announces the audio's length (WAV, AIFF): the announced and the present
    /// byte counts when fewer bytes are present than announced, the sign of a cut-off file. libsndfile
    /// still opens such a file and reads what is there, so this is read from its header log
    /// (`data : 82424 (should be 20573)`). Streaming placeholders (0x7FFF0000 and above) do not count.
    public var missingData: (announced: Int, present: Int)? {
        // Read as bytes: Foundation's trimming and filtering here were 3% of a busy build's CPU.
        let space = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let digit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let number = { (digits: [UInt8]) in digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } }
        for line in log.split(separator: UInt8(ascii: "\n")) {
            let text = line.drop(while: space)
            guard text.starts(with: "data :".utf8), let open = text.firstIndex(of: UInt8(ascii: "(")) else { continue }
            let announced = text[(text.startIndex + 6)..<open].filter { !space($0) }
            let present = text[open...].filter(digit)
            guard (1...18).contains(announced.count), announced.allSatisfy(digit), (1...18).contains(present.count) else { continue }
            let (announcedBytes, presentBytes) = (number(announced), number(present))
            if announcedBytes > presentBytes, announcedBytes < 0x7FFF_0000 { return (announcedBytes, presentBytes) }
        }
        return nil
    }

    /// libsndfile's log for this file: what it noticed while parsing the header.
    private var log: [UInt8] {
        guard let handle else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = buffer.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { sf_command(handle, Int32(SFC_GET_LOG_INFO), $0.baseAddress, Int32($0.count)) }
        }
        return Array(buffer.prefix(while: { $0 != 0 }))
    }
}

extension SoundFile {
    /// Writes interleaved float samples as a file of the given format (temporary name + rename by the caller).
    public static func write(samples: [Float], sampleRate: Int, channels: Int, format: AudioFileFormat, to path: String) throws {
        var sfInfo = SF_INFO()
        sfInfo.samplerate = Int32(sampleRate)
        sfInfo.channels = Int32(channels)
        sfInfo.format = format.sndfileFormat
        guard sf_format_check(&sfInfo) != 0 else {
            throw AudioError(.writeFailed, "libsndfile cannot write \(format.rawValue) at \(sampleRate) Hz with \(channels) channel(s)")
        }
        guard let out = sf_open(path, Int32(SFM_WRITE), &sfInfo) else {
            let reason = String(cString: sf_strerror(nil))
            unlink(path)  // Opus at an unsupported rate leaves a 0-byte file behind.
            throw AudioError(.writeFailed, "\(path): \(reason)")
        }
        let frames = samples.count / max(channels, 1)
        let written = samples.withUnsafeBufferPointer { sf_writef_float(out, $0.baseAddress, sf_count_t(frames)) }
        let closeStatus = sf_close(out)
        if written != frames || closeStatus != 0 {
            unlink(path)
            throw AudioError(.writeFailed, "\(path): wrote \(written) of \(frames) frames")
        }
    }
}

extension SoundFile {
    /// Encodes interleaved float samples in a format and returns the file's bytes.
    public static func encode(samples: [Float], sampleRate: Int, channels: Int, format: AudioFileFormat) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "prerender-encode-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).\(format.fileExtension)"
        defer { unlink(path) }
        try write(samples: samples, sampleRate: sampleRate, channels: channels, format: format, to: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AudioError(.writeFailed, "\(path): the encoded file cannot be read back")
        }
        return Array(data)
    }
}

// MARK: - Virtual I/O over a byte array

/// The bytes libsndfile reads through `SF_VIRTUAL_IO`, and the read position.
private final class MemoryFile {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private func memoryFile(_ userData: UnsafeMutableRawPointer?) -> MemoryFile {
    Unmanaged<MemoryFile>.fromOpaque(userData!).takeUnretainedValue()
}

private let vioLength: sf_vio_get_filelen = { userData in
    sf_count_t(memoryFile(userData).bytes.count)
}

private let vioSeek: sf_vio_seek = { offset, whence, userData in
    let file = memoryFile(userData)
    let base: Int
    switch whence {
    case SEEK_CUR: base = file.position
    case SEEK_END: base = file.bytes.count
    default: base = 0
    }
    file.position = min(max(0, base + Int(offset)), file.bytes.count)
    return sf_count_t(file.position)
}

private let vioRead: sf_vio_read = { destination, count, userData in
    let file = memoryFile(userData)
    let n = min(Int(count), file.bytes.count - file.position)
    guard n > 0, let destination else { return 0 }
    file.bytes.withUnsafeBytes { source in
        destination.copyMemory(from: source.baseAddress! + file.position, byteCount: n)
    }
    file.position += n
    return sf_count_t(n)
}

private let vioWrite: sf_vio_write = { _, _, _ in 0 }

private let vioTell: sf_vio_tell = { userData in
    sf_count_t(memoryFile(userData).position)
}
