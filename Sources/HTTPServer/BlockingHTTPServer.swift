// A small blocking HTTP/1.1 server: real sockets, one thread per connection (never Swift's
// cooperative pool), keep-alive. It serves a worker's /metrics and /health/queue, and the test
// suite's fake Murf API, whose hooks simulate slow or broken servers (delayed responses,
// truncated bodies).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A request as the server parsed it.
public struct HTTPServerRequest: Sendable {
    public var method: String
    /// The request target as sent, including any query string.
    public var path: String
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    /// Header names lowercased; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]
    /// The port the server listens on, for building URLs that point back at it.
    public var serverPort: UInt16

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
    public func decodeJSON<Decoded: Decodable>(_ type: Decoded.Type) throws -> Decoded {
        try JSONDecoder().decode(type, from: Data(body))
    }
}

/// What to answer. `Content-Length` is added unless `headers` sets it.
public struct HTTPServerResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// Seconds to wait before sending anything. `stop()` cancels the wait and
    /// drops the connection without answering.
    public var delay: Double
    /// If set, only this many body bytes are sent (after the full
    /// Content-Length), then the connection is closed.
    public var truncateAfter: Int?
    /// Called once the response was sent or abandoned.
    public var onFinish: (@Sendable () -> Void)?

    public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = [],
                delay: Double = 0, truncateAfter: Int? = nil,
                onFinish: (@Sendable () -> Void)? = nil) {
        self.status = status; self.headers = headers; self.body = body
        self.delay = delay; self.truncateAfter = truncateAfter; self.onFinish = onFinish
    }

    public static func json(_ status: Int, _ json: String) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(json.utf8))
    }
}

/// A value guarded by an `NSCondition`, with waiting support.
/// `@unchecked Sendable`: `value` is only read or written while `condition` is locked.
package final class ConditionLocked<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    /// Runs `body` under the lock, then wakes all waiters.
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        return try body(&value)
    }

    /// Waits until `predicate` holds or `seconds` pass; returns the final predicate value.
    package func wait(seconds: Double, until predicate: (Value) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(value) {
            if !condition.wait(until: deadline) { return predicate(value) }
        }
        return true
    }
}

public struct HTTPServerError: Error, CustomStringConvertible {
    public let description: String
}

/// Serves until `stop()`; its threads keep it alive until then, so always call `stop()`.
public final class BlockingHTTPServer: Sendable {
    public let port: UInt16
    private let listenFD: Int32
    private let handler: @Sendable (HTTPServerRequest) -> HTTPServerResponse
    private let state = ConditionLocked(State())

    private struct State {
        var stopped = false
        var connections: Set<Int32> = []   // open connection sockets
        var liveThreads = 1                // accept thread + connection threads
        var acceptedConnections = 0
    }

    /// Number of TCP connections accepted so far (lets tests verify keep-alive).
    public var acceptedConnections: Int { state.withLock { $0.acceptedConnections } }

    /// Binds `host` (an IPv4 address; 127.0.0.1 by default) at `port` (0: the kernel picks one) and starts accepting.
    public init(host: String = "127.0.0.1", port requestedPort: UInt16 = 0,
                handler: @escaping @Sendable (HTTPServerRequest) -> HTTPServerResponse) throws {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            throw HTTPServerError(description: "not an IPv4 address: \(host)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError(description: "socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = requestedPort.bigEndian
        addr.sin_addr = address
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            let err = errno
            close(fd)
            throw HTTPServerError(description: "cannot listen on \(host):\(requestedPort): \(String(cString: strerror(err)))")
        }
        listenFD = fd
        port = UInt16(bigEndian: addr.sin_port)
        self.handler = handler
        Thread { [self] in acceptLoop() }.start()
    }

    /// Closes the listening socket and every connection, cancels delayed
    /// responses and waits for all server threads to end. Idempotent; must not
    /// be called from inside the handler.
    public func stop() {
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            // shutdown() (unlike close()) wakes threads blocked in accept/recv/send.
            // The owning threads close the descriptors themselves, so no fd can be
            // reused while another thread still refers to it.
            shutdown(listenFD, Int32(SHUT_RDWR))
            for fd in s.connections { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        if !state.wait(seconds: 10, until: { $0.liveThreads == 0 }) {
            FileHandle.standardError.write(Data("BlockingHTTPServer: threads still running 10 s after stop()\n".utf8))
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                let err = errno  // read before locking, which may clobber errno
                if isStopped { break }
                if err != EINTR && err != ECONNABORTED { usleep(1000) }  // e.g. EMFILE: back off
                continue
            }
            let registered = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                s.connections.insert(fd)
                s.liveThreads += 1
                s.acceptedConnections += 1
                return true
            }
            guard registered else { close(fd); break }
            Thread { [self] in
                serve(fd)
                state.withLock { s in
                    s.connections.remove(fd)
                    close(fd)
                    s.liveThreads -= 1
                }
            }.start()
        }
        state.withLock { s in
            close(listenFD)
            s.liveThreads -= 1
        }
    }

    /// Serves requests on one connection until either side closes it.
    private func serve(_ fd: Int32) {
        var reader = SocketReader(fd: fd)
        while let request = readRequest(&reader) {
            let response = handler(request)
            defer { response.onFinish?() }
            if response.delay > 0, state.wait(seconds: response.delay, until: { $0.stopped }) {
                return  // stopped while delaying: drop the connection unanswered
            }
            let connection = request.header("connection")?.lowercased() ?? ""
            let keepAlive = response.truncateAfter == nil && !connection.contains("close")
                && (request.version != "HTTP/1.0" || connection.contains("keep-alive"))
            guard send(response, keepAlive: keepAlive, to: fd), keepAlive else { return }
        }
    }

    private func readRequest(_ reader: inout SocketReader) -> HTTPServerRequest? {
        guard let head = reader.readHead() else { return nil }
        // Read as bytes (Foundation's line splitting and trimming were half of a request's CPU in benchmarks).
        let lines = head.split(separator: 13, omittingEmptySubsequences: false).map { $0.first == 10 ? $0.dropFirst() : $0 }
        let parts = lines[0].split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: 58) else { return nil }  // ":"
            let name = String(decoding: Self.trimmed(line[..<colon]), as: UTF8.self).lowercased()
            let value = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            guard sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), to: reader.fd) else { return nil }
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {  // chunk-size[;ext] CRLF data CRLF ... 0 CRLF trailers CRLF
                guard let line = reader.readLine(),
                      let size = Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16)
                else { return nil }
                if size == 0 {
                    while let trailer = reader.readLine(), !trailer.isEmpty {}
                    break
                }
                guard let chunk = reader.read(count: size), reader.readLine() == "" else { return nil }
                body += chunk
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }), length > 0 {
            guard let bytes = reader.read(count: length) else { return nil }
            body = bytes
        }
        return HTTPServerRequest(method: parts[0], path: parts[1], version: parts[2], headers: headers, body: body, serverPort: port)
    }

    private func send(_ response: HTTPServerResponse, keepAlive: Bool, to fd: Int32) -> Bool {
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        let names = Set(response.headers.keys.map { $0.lowercased() })
        if !names.contains("content-length") { head += "Content-Length: \(response.body.count)\r\n" }
        if !keepAlive && !names.contains("connection") { head += "Connection: close\r\n" }
        head += "\r\n"
        let bodyBytes = response.truncateAfter.map { response.body.prefix(max(0, $0)) } ?? response.body[...]
        return sendAll(Array(head.utf8) + bodyBytes, to: fd)
    }

    /// Without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else { return [] }
        return bytes[first...last]
    }

    /// Writes everything; MSG_NOSIGNAL turns a peer reset into EPIPE instead of SIGPIPE.
    private func sendAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private static func reason(_ status: Int) -> String {
        [200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
         404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
         503: "Service Unavailable"][status] ?? "Status \(status)"
    }
}

/// Buffered reads from a socket; bytes past the current request stay buffered
/// for the next one (pipelining).
private struct SocketReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private static let maxHeadSize = 64 * 1024

    init(fd: Int32) { self.fd = fd }

    /// Appends whatever arrives next; false on EOF or error.
    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            buffer += chunk[..<n]
            return true
        }
    }

    /// The bytes before the next `delimiter` (which is consumed too).
    private mutating func read(upTo delimiter: [UInt8]) -> [UInt8]? {
        while true {
            if buffer.count >= delimiter.count, let end = (0...(buffer.count - delimiter.count))
                .first(where: { buffer[$0..<($0 + delimiter.count)].elementsEqual(delimiter) }) {
                defer { buffer.removeFirst(end + delimiter.count) }
                return Array(buffer[..<end])
            }
            guard buffer.count <= Self.maxHeadSize, fill() else { return nil }
        }
    }

    /// The request line and headers, without the final blank line.
    mutating func readHead() -> [UInt8]? {
        while true {
            guard var head = read(upTo: [13, 10, 13, 10]) else { return nil }
            while head.starts(with: [13, 10]) { head.removeFirst(2) }  // stray CRLFs before a request are allowed
            if !head.isEmpty { return head }
        }
    }

    mutating func readLine() -> String? { read(upTo: [13, 10]).map { String(decoding: $0, as: UTF8.self) } }

    mutating func read(count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }
}
