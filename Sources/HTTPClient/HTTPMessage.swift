/// An HTTP request as the client sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header lines in order. Values may hold secrets (an API key): they are never logged or put into errors.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An HTTP response, read in full.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Limits on one request. Every phase is bounded so a stuck server cannot hold a worker forever.
public struct HTTPTimeouts: Sendable {
    /// Seconds to establish the connection.
    public var connect: Double
    /// Seconds for the whole request, from start to the last byte of the response.
    public var total: Double
    /// Largest response body accepted; a larger one is cut off and fails with `.tooLarge`.
    public var maxResponseBytes: Int

    public init(connect: Double = 10, total: Double = 60, maxResponseBytes: Int = 64 << 20) {
        self.connect = connect
        self.total = total
        self.maxResponseBytes = maxResponseBytes
    }
}

/// Why a request failed before an HTTP status could be read.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case badURL
        case connection
        case timeout
        /// The response body was larger than `HTTPTimeouts.maxResponseBytes`.
        case tooLarge
        /// The transfer broke off: fewer bytes arrived than the server announced.
        case truncated
        /// `HTTPClient.isCancelled` asked to stop.
        case cancelled
        case other
    }

    public let code: Code
    /// libcurl's own message for the failure. It never holds request headers.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
