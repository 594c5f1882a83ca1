#if canImport(Glibc)
import Glibc
#endif

/// Random identifiers: RQ's job ids (UUID4 strings), execution ids, leases. Foundation's UUID() opens and
/// reads /dev/urandom for every id, which was a tenth of enqueueing; these read it once for a whole batch.
enum RandomID {
    /// `count` UUID4 strings, lowercase, as RQ writes job ids.
    static func uuids(_ count: Int) -> [String] {
        var bytes = randomBytes(16 * count)
        var ids: [String] = []
        ids.reserveCapacity(count)
        for n in 0..<count {
            bytes[16 * n + 6] = (bytes[16 * n + 6] & 0x0f) | 0x40  // version 4
            bytes[16 * n + 8] = (bytes[16 * n + 8] & 0x3f) | 0x80  // RFC 4122 variant
            var text: [UInt8] = []
            text.reserveCapacity(36)
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
                Hex.append(bytes[16 * n + i], to: &text)
            }
            ids.append(String(decoding: text, as: UTF8.self))
        }
        return ids
    }

    static func uuid() -> String { uuids(1)[0] }

    /// `count` random bytes as lowercase hex.
    static func hex(bytes count: Int) -> String { Hex.string(randomBytes(count)) }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            bytes.withUnsafeMutableBytes { buffer in
                while filled < count {
                    let n = read(fd, buffer.baseAddress! + filled, count - filled)
                    if n > 0 { filled += n } else if n == 0 || errno != EINTR { break }
                }
            }
            close(fd)
        }
        // Without /dev/urandom (a bare container): the standard library's generator, 8 bytes a call.
        var generator = SystemRandomNumberGenerator()
        for i in filled..<count { bytes[i] = UInt8(truncatingIfNeeded: generator.next()) }
        return bytes
    }
}
