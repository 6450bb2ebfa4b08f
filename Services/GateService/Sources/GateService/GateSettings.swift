public import GateCore
public import ServiceKit

/// What the gate needs besides its stores: the rollout and cache TTLs it
/// starts with (runtime flags replace them later), and the bounds of its
/// failure policy.
public struct GateSettings: Sendable {
    /// The rollout at start.
    public var rollout: RolloutConfig
    /// The cache TTLs at start.
    public var cacheTTL: CacheTTL
    /// The most a Redis read or fill may take before the call moves on to
    /// PostgreSQL; also capped at half the call's remaining budget so
    /// PostgreSQL always keeps time to answer.
    public var redisTimeout: Duration
    /// When the Redis path opens and how it probes its way back.
    public var breaker: CircuitBreaker.Configuration

    /// Creates settings; the defaults are the seed's (mode OFF until enabled,
    /// 60 s / 10 s TTLs), a 25 ms Redis budget and GateCore's default breaker.
    public init(
        rollout: RolloutConfig = .off, cacheTTL: CacheTTL = .default,
        redisTimeout: Duration = .milliseconds(25), breaker: CircuitBreaker.Configuration = .default
    ) {
        self.rollout = rollout
        self.cacheTTL = cacheTTL
        self.redisTimeout = redisTimeout
        self.breaker = breaker
    }

    /// Reads the rollout and TTL variables (``GateFlags/names``) plus
    /// `SELLER_AUTH_REDIS_TIMEOUT_MS` (1 to 1000, default 25).
    ///
    /// - Throws: ``ConfigurationError`` naming the variable, so start-up
    ///   stops with one clear line.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> GateSettings {
        let (rollout, ttl) = try GateFlags.configuration(from: environment.values)
        let timeout = try environment.int("SELLER_AUTH_REDIS_TIMEOUT_MS", default: 25, in: 1...1000)
        return GateSettings(rollout: rollout, cacheTTL: ttl, redisTimeout: .milliseconds(timeout))
    }
}
