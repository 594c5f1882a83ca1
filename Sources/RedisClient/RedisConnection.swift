import CHiredis
import Glibc
import Synchronization

/// Commands this process has sent to Redis, over every connection (what a job costs in round-trip work).
public enum RedisCommandCount {
    static let sent = Atomic<Int>(0)

    public static var total: Int { sent.load(ordering: .relaxed) }
}

/// One connection to a Redis server, owning one hiredis `redisContext`.
///
/// Every call blocks the calling thread until Redis answers, so a connection
/// belongs to one thread (a worker's, or one made for it) and never to Swift's
/// cooperative pool. It is deliberately not `Sendable`: give each thread its own.
public final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    public let endpoint: RedisEndpoint

    /// Connects, authenticates and selects the database.
    /// - Parameters:
    ///   - connectTimeout: how long to wait for the TCP or unix socket connection.
    ///   - commandTimeout: how long one reply may take; keep it above any blocking command's own timeout.
    public init(_ endpoint: RedisEndpoint, connectTimeout: Double = 5, commandTimeout: Double = 30) throws {
        self.endpoint = endpoint
        let tv = Self.timeval(connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port):
            ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path):
            ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx else {
            throw RedisError(.connection, "cannot allocate a connection to \(endpoint)")
        }
        if prerender_redis_err(ctx) != 0 {
            let message = String(cString: prerender_redis_errstr(ctx))
            redisFree(ctx)
            throw RedisError(.connection, "\(endpoint): \(message)")
        }
        redisSetTimeout(ctx, Self.timeval(commandTimeout))
        if case .tcp = endpoint.address { redisEnableKeepAlive(ctx) }
        context = ctx
        if let password = endpoint.password {
            if let username = endpoint.username {
                try command("AUTH", username, password)
            } else {
                try command("AUTH", password)
            }
        }
        if endpoint.database != 0 {
            try command("SELECT", endpoint.database)
        }
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Closes the connection; later calls throw.
    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    public var isOpen: Bool { context != nil }

    /// Sends one command and waits for its reply. An error reply is thrown.
    @discardableResult
    public func command(_ arguments: any RedisArgument...) throws -> RedisValue {
        try command(arguments.map(\.redisBytes))
    }

    /// Sends one command given as raw arguments and waits for its reply. An error reply is thrown.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) throws -> RedisValue {
        let ctx = try open()
        RedisCommandCount.sent.add(1, ordering: .relaxed)
        let raw = withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(ctx, argc, argv, lengths)
        }
        guard let raw else { throw connectionError(ctx) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        let value = Self.copy(reply)
        if case .error(let message) = value { throw RedisError(.server, message) }
        return value
    }

    /// Sends several commands in one write and reads all replies: one round trip.
    /// Error replies come back as `.error` values in their place.
    public func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisValue] {
        try send(commands)
        return try receive(commands.count)
    }

    /// Sends commands without waiting for their replies, so that Redis works on them while the caller
    /// prepares the next ones; `receive` takes the replies later, in order. Every sent command's reply must
    /// be received before the connection is used for anything else.
    public func send(_ commands: [[[UInt8]]]) throws {
        let ctx = try open()
        RedisCommandCount.sent.add(commands.count, ordering: .relaxed)
        for arguments in commands {
            let status = withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(ctx, argc, argv, lengths)
            }
            if status != REDIS_OK { throw connectionError(ctx) }
        }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(ctx, &done) != REDIS_OK { throw connectionError(ctx) }
        }
    }

    /// The replies of the next `count` commands sent.
    public func receive(_ count: Int) throws -> [RedisValue] {
        let ctx = try open()
        var replies: [RedisValue] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(ctx, &raw) != REDIS_OK || raw == nil { throw connectionError(ctx) }
            replies.append(Self.copy(raw!.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    // MARK: - C memory

    private func open() throws -> UnsafeMutablePointer<redisContext> {
        guard let context else { throw RedisError(.connection, "the connection to \(endpoint) is closed") }
        return context
    }

    /// After an I/O or protocol error hiredis' context is unusable: free it so
    /// every later call fails fast with the same clear reason.
    private func connectionError(_ ctx: UnsafeMutablePointer<redisContext>) -> RedisError {
        let code = prerender_redis_err(ctx)
        var message = String(cString: prerender_redis_errstr(ctx))
        if message.isEmpty { message = "no reply" }
        if code == REDIS_ERR_IO, errno == EAGAIN || errno == EWOULDBLOCK {
            message = "timed out waiting for a reply"
        }
        close()
        return RedisError(.connection, "\(endpoint): \(message)")
    }

    /// Lays the arguments out as C arrays of pointers and lengths for the length of `body`.
    private func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let count = arguments.count
        let lengths = arguments.map(\.count)
        let total = lengths.reduce(0, +)
        // One contiguous buffer holds every argument, so each pointer stays valid for the call.
        var storage = [UInt8]()
        storage.reserveCapacity(max(total, 1))
        for argument in arguments { storage.append(contentsOf: argument) }
        return storage.withUnsafeBufferPointer { bytes in
            let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(count, 1))
            defer { argv.deallocate() }
            let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            var offset = 0
            for i in 0..<count {
                argv[i] = base.map { $0 + offset }
                offset += lengths[i]
            }
            return lengths.withUnsafeBufferPointer { lens in
                body(Int32(count), argv, lens.baseAddress!)
            }
        }
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            guard let str = r.str else { return .bulk([]) }
            return .bulk(Array(UnsafeRawBufferPointer(start: str, count: r.len)))
        case REDIS_REPLY_STATUS:
            return .status(r.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR:
            return .error(r.str.map { String(cString: $0) } ?? "error")
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var values: [RedisValue] = []
            values.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { values.append(copy(element)) } else { values.append(.null) }
            }
            return .array(values)
        default:
            return .null
        }
    }

    private static func timeval(_ seconds: Double) -> Glibc.timeval {
        let whole = seconds.rounded(.down)
        return Glibc.timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }
}
