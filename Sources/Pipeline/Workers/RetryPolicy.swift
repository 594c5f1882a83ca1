/// Which failures are tried again, and after how long: exponential backoff from `retry_delay`,
/// doubling each attempt up to `retry_max_delay`, plus up to 25% jitter so that jobs that failed
/// together do not come back together; never sooner than the service's own Retry-After.
public struct RetryPolicy: Sendable {
    public var maxRetries: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxRetries: Int, baseDelay: Double, maxDelay: Double) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public init(_ settings: QueueSettings) {
        self.init(maxRetries: settings.maxRetries, baseDelay: Double(settings.retryDelay), maxDelay: Double(settings.retryMaxDelay))
    }

    /// Whether a job whose attempt number `attempt` (1 = the first) just failed gets another one.
    public func allowsRetry(after attempt: Int) -> Bool { attempt <= maxRetries }

    /// Seconds to wait before the next attempt after attempt number `attempt` failed.
    public func delay(after attempt: Int, retryAfter: Double? = nil, jitter: Double = Double.random(in: 0...0.25)) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 30)))
        var delay = min(maxDelay, baseDelay * pow2(exponent))
        delay += delay * jitter
        if let retryAfter { delay = max(delay, retryAfter) }
        return delay
    }

    private func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= 2 }
        return result
    }
}
