/// Where a Redis server listens, parsed from a URL:
/// `redis://[[user]:password@]host[:port][/db]` or `unix:///path/to/socket[?db=N][&password=...]`.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var database: Int
    public var username: String?
    public var password: String?

    public init(address: Address, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.address = address
        self.database = database
        self.username = username
        self.password = password
    }

    public init(url: String) throws {
        let text = url.trimmingCharacters(in: .whitespaces)
        if let rest = text.dropPrefix("unix://") {
            let (path, query) = rest.splitOnce("?")
            guard path.hasPrefix("/") else {
                throw RedisError(.badURL, "a unix socket URL needs an absolute path, as in unix:///run/redis.sock")
            }
            var database = 0
            var password: String?
            for pair in (query ?? "").split(separator: "&") {
                let (name, value) = String(pair).splitOnce("=")
                switch name {
                case "db":
                    guard let n = value.flatMap({ Int($0) }), n >= 0 else {
                        throw RedisError(.badURL, "db must be a number in \(Self.redacted(url))")
                    }
                    database = n
                case "password": password = value.map { $0.removingPercentEncoding ?? $0 }
                default: break
                }
            }
            self.init(address: .unix(path: path), database: database, password: password)
            return
        }
        guard let rest = text.dropPrefix("redis://") else {
            if text.hasPrefix("rediss://") {
                throw RedisError(.badURL, "TLS (rediss://) is not supported by this client; use redis:// or unix://")
            }
            throw RedisError(.badURL, "expected redis://host:port/db or unix:///path, got \(Self.redacted(url))")
        }
        var hostPart = rest
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = String(rest[..<at])
            hostPart = String(rest[rest.index(after: at)...])
            let (user, pass) = userInfo.splitOnce(":")
            if let pass {
                username = user.isEmpty ? nil : user.removingPercentEncoding
                password = pass.removingPercentEncoding ?? pass
            } else {
                password = user.removingPercentEncoding ?? user
            }
        }
        let (hostPort, dbPart) = hostPart.splitOnce("/")
        var host = hostPort
        var port = 6379
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw RedisError(.badURL, "bad port in \(Self.redacted(url))")
            }
            port = p
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }
        var database = 0
        if let dbPart, !dbPart.isEmpty {
            let dbText = dbPart.splitOnce("?").0
            guard let n = Int(dbText), n >= 0 else {
                throw RedisError(.badURL, "the database after / must be a number in \(Self.redacted(url))")
            }
            database = n
        }
        self.init(address: .tcp(host: host, port: port), database: database, username: username, password: password)
    }

    /// The URL with any password left out: safe for logs and error messages.
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        switch address {
        case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
        case .unix(let path): return "unix://\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    /// A URL that other tools (redis-cli, rq, redis-py) accept, with the password if there is one.
    public var url: String {
        let auth = password.map { "\(username ?? ""):\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)@" } ?? ""
        switch address {
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)/\(database)"
        case .unix(let path):
            var query = ["db=\(database)"]
            if let password { query.append("password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password)") }
            return "unix://\(path)?" + query.joined(separator: "&")
        }
    }

    /// Removes the password from a URL the user typed, for error messages.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.lastIndex(of: "@"), at > scheme.upperBound else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }
}

import Foundation

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }

    fileprivate func splitOnce(_ separator: Character) -> (String, String?) {
        guard let i = firstIndex(of: separator) else { return (self, nil) }
        return (String(self[..<i]), String(self[index(after: i)...]))
    }
}
