/// A reply from Redis, copied out of hiredis' memory into Swift values.
public enum RedisValue: Sendable, Equatable {
    case null
    case status(String)
    case integer(Int)
    case bulk([UInt8])
    case array([RedisValue])
    /// An error reply inside an array (for example from EXEC or a pipeline).
    /// A top-level error reply is thrown as `RedisError` instead.
    case error(String)

    /// The value as UTF-8 text, for bulk strings and status replies.
    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        case .integer(let n): return String(n)
        default: return nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    public var int: Int? {
        switch self {
        case .integer(let n): return n
        case .bulk, .status: return string.flatMap { Int($0) }
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// Anything that can be sent as one argument of a Redis command.
public protocol RedisArgument {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}
