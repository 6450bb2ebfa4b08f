/// One cache write: the key, a state (read from PostgreSQL for a Redis
/// fill, from Redis for the gate's local copy), and how long it lives.
public struct AuthorizationCacheFill: Sendable, Hashable {
    /// The pair's key.
    public var key: String
    /// The state to cache (its version guards a Redis write).
    public var state: AuthorizationState
    /// The entry's time to live, in milliseconds (``CacheTTL/milliseconds(for:)``).
    public var ttlMilliseconds: Int64

    /// Creates a fill.
    public init(key: String, state: AuthorizationState, ttlMilliseconds: Int64) {
        self.key = key
        self.state = state
        self.ttlMilliseconds = ttlMilliseconds
    }
}
