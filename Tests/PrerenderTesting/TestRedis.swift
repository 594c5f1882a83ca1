import Foundation
import Glibc
import Pipeline
import RedisClient

/// A real redis-server for one test: private, on a unix socket and a loopback TCP port, gone when the value is.
public final class TestRedis: Sendable {
    public let server: EmbeddedRedis
    public let port: Int

    public init() throws {
        port = try freeLoopbackPort()
        server = try EmbeddedRedis.start(tcpPort: port)
    }

    deinit { server.stop() }

    /// A URL other programs (rq, redis-cli, a second prerender) can use.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public func connect() throws -> RedisConnection {
        try RedisConnection(server.endpoint)
    }

    public func stop() { server.stop() }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
