/// An error from the Redis client: what went wrong and the message hiredis or the server gave.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The server could not be reached or the connection broke.
        case connection
        /// The server answered a command with an error reply.
        case server
        /// The URL does not name a Redis server this client can use.
        case badURL
        /// The reply did not have the shape the caller expected.
        case unexpectedReply
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        switch code {
        case .connection: return "Redis connection: \(message)"
        case .server: return "Redis: \(message)"
        case .badURL: return "Redis URL: \(message)"
        case .unexpectedReply: return "Redis reply: \(message)"
        }
    }
}
