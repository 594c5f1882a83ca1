import CZlib

/// zlib streams with their RFC 1950 header, as Python's `zlib.compress` and `zlib.decompress` use them.
/// RQ stores failure texts this way, and rewrites job `data` this way when `rq requeue` or its
/// abandoned-job cleanup touches a job.
enum Zlib {
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { dst in
            data.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress, &length, src.baseAddress, uLong(data.count), Z_DEFAULT_COMPRESSION)
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed with \(status) on a buffer of compressBound size")
        out.removeSubrange(Int(length)...)
        return out
    }

    /// Inflates a zlib stream; nil when the bytes are not one.
    static func decompress(_ data: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        var capacity = max(256, data.count * 4)
        while capacity <= limit {
            var length = uLong(capacity)
            var out = [UInt8](repeating: 0, count: capacity)
            let status = out.withUnsafeMutableBufferPointer { dst in
                data.withUnsafeBufferPointer { src in
                    uncompress(dst.baseAddress, &length, src.baseAddress, uLong(data.count))
                }
            }
            switch status {
            case Z_OK:
                out.removeSubrange(Int(length)...)
                return out
            case Z_BUF_ERROR:
                capacity *= 4
            default:
                return nil
            }
        }
        return nil
    }

    /// A gzip file (RFC 1952) of the bytes, at the best compression. Reproducible: the header carries no
    /// time and no name.
    static func gzip(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(prerender_deflate_init_gzip(&stream, 9) == Z_OK, "zlib deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
        let status = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        precondition(status == Z_STREAM_END, "zlib deflate did not finish in a buffer of deflateBound size")
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }

    /// Whether bytes start like a zlib stream (CMF 0x78 and a valid header check); JSON never does.
    static func looksCompressed(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x78 && (UInt16(data[0]) << 8 | UInt16(data[1])) % 31 == 0
    }
}
