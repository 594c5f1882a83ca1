/// A POSIX ustar archive written in memory, for reproducible packages: the caller gives the entries in
/// order, every entry gets the same time, owner 0 and mode 0644, and nothing of the machine leaks in.
struct Tar {
    private(set) var bytes: [UInt8] = []
    let mtime: Int

    init(mtime: Int) {
        self.mtime = mtime
    }

    struct NameTooLong: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name): names in a package are at most 100 bytes" }
    }

    mutating func add(path: String, contents: [UInt8]) throws {
        let name = Array(path.utf8)
        guard name.count <= 100 else { throw NameTooLong(name: path) }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int) {
            for (i, byte) in field.enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)            // uid
        put(octal(0, width: 8), at: 116)            // gid
        put(octal(contents.count, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)        // checksum field counts as spaces while summing
        header[156] = UInt8(ascii: "0")             // a regular file
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(checksum, radix: 8).leftPadded(6).utf8) + [0, UInt8(ascii: " ")], at: 148)
        bytes += header
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// The archive, closed with the two empty blocks tar expects.
    func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 1024)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
