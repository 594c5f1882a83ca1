/// The limits of one synthesizer account, as every worker applies them together through Redis.
public struct AccountLimits: Sendable, Equatable {
    /// `espeak`, or `murf:<first 16 hex of sha256(api key)>`: never the key itself.
    public var account: String
    public var rate: RateLimit
    public var circuit: CircuitBreakerSettings
    /// How long a concurrency permit lives if its worker dies without giving it back.
    public var leaseSeconds: Double

    public init(account: String, rate: RateLimit, circuit: CircuitBreakerSettings, leaseSeconds: Double) {
        self.account = account
        self.rate = rate
        self.circuit = circuit
        self.leaseSeconds = leaseSeconds
    }

    /// Nothing to decide: no rate, no concurrency limit, no circuit breaker.
    public var isUnlimited: Bool { rate.isUnlimited && circuit.failures == 0 }

    /// The Redis key prefix of this account's limiter state.
    var redisPrefix: String { "prerender:limit:\(account)" }
}
