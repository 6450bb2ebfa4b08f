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
    /// The coherent local copy of Redis entries (``LocalAuthorizationCache``,
    /// ``CacheCoherence``); nil: every check asks Redis.
    public var localCache: LocalCache?

    /// The local copy's size and lease.
    public struct LocalCache: Sendable, Hashable {
        /// The most entries kept.
        public var capacity: Int
        /// The lease that bounds how long a gate cut off from the invalidations may answer locally.
        public var timing: CacheCoherence.LeaseTiming

        /// 20,000 entries (about 5.5 MB) and the default lease (500 ms, renewed every 100 ms).
        public init(capacity: Int = 20_000, timing: CacheCoherence.LeaseTiming = .default) {
            self.capacity = capacity
            self.timing = timing
        }
    }

    /// Creates settings; the defaults are the seed's (mode OFF until enabled,
    /// 60 s / 10 s TTLs), a 25 ms Redis budget and GateCore's default breaker.
    public init(
        rollout: RolloutConfig = .off, cacheTTL: CacheTTL = .default,
        redisTimeout: Duration = .milliseconds(25), breaker: CircuitBreaker.Configuration = .default,
        localCache: LocalCache? = nil
    ) {
        self.rollout = rollout
        self.cacheTTL = cacheTTL
        self.redisTimeout = redisTimeout
        self.breaker = breaker
        self.localCache = localCache
    }

    /// Reads the rollout and TTL variables (``GateFlags/names``) plus
    /// `SELLER_AUTH_REDIS_TIMEOUT_MS` (1 to 1000, default 25) and the local
    /// copy's `SELLER_AUTH_LOCAL_CACHE` (default true),
    /// `SELLER_AUTH_LOCAL_CACHE_ENTRIES` (1 to 10,000,000, default 20,000) and
    /// `SELLER_AUTH_LOCAL_CACHE_LEASE_MS` (50 to 10,000, default 500; renewed
    /// every fifth of it).
    ///
    /// - Throws: ``ConfigurationError`` naming the variable, so start-up
    ///   stops with one clear line.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> GateSettings {
        let (rollout, ttl) = try GateFlags.configuration(from: environment.values)
        let timeout = try environment.int("SELLER_AUTH_REDIS_TIMEOUT_MS", default: 25, in: 1...1000)
        var localCache: LocalCache?
        if try environment.bool("SELLER_AUTH_LOCAL_CACHE", default: true) {
            let entries = try environment.int("SELLER_AUTH_LOCAL_CACHE_ENTRIES", default: 20_000, in: 1...10_000_000)
            let lease = try environment.int("SELLER_AUTH_LOCAL_CACHE_LEASE_MS", default: 500, in: 50...10_000)
            localCache = LocalCache(
                capacity: entries,
                timing: CacheCoherence.LeaseTiming(milliseconds: Int64(lease), renewEveryMilliseconds: Int64(lease / 5)))
        }
        return GateSettings(
            rollout: rollout, cacheTTL: ttl, redisTimeout: .milliseconds(timeout), localCache: localCache)
    }
}
