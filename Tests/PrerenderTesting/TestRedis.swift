import Foundation
import Glibc
import Pipeline
import RedisClient
import Synchronization

/// A real redis-server for one test: private, on a unix socket and a loopback TCP port, gone when the value is.
/// A persistent one (append-only file) can be restarted on the same port and keeps its data.
public final class TestRedis: Sendable {
    private let current: Mutex<EmbeddedRedis>
    public let port: Int
    private let directory: String?

    public init(persistent: Bool = false) throws {
        port = try freeLoopbackPort()
        directory = persistent ? NSTemporaryDirectory() + "prerender-test-redis-\(UUID().uuidString.prefix(8))" : nil
        current = Mutex(try EmbeddedRedis.start(tcpPort: port, persistentDirectory: directory))
    }

    deinit {
        stop()
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    public var server: EmbeddedRedis { current.withLock { $0 } }

    /// A URL other programs (rq, redis-cli, a second prerender) can use.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public func connect() throws -> RedisConnection {
        try RedisConnection(server.endpoint)
    }

    public func stop() { server.stop() }

    /// Stops the server (saving its data when persistent) and starts it again on the same port after `downtime`.
    public func restart(downtime: Double = 0) throws {
        server.stop()
        if downtime > 0 { Thread.sleep(forTimeInterval: downtime) }
        let fresh = try EmbeddedRedis.start(tcpPort: port, persistentDirectory: directory)
        current.withLock { $0 = fresh }
    }
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
