/// The outcome of fetching a pair's authorization, from whichever tier answered.
public enum AuthorizationLookup: Sendable, Hashable {
    /// The rollout did not need the state (``RolloutCoverage/needsLookup`` was false).
    case skipped
    /// A tier answered (a decoded cache entry or a PostgreSQL row).
    case found(AuthorizationState)
    /// Nothing answered: Redis missed or failed and PostgreSQL failed, or the
    /// deadline passed. Fails closed where the rollout enforces.
    case unavailable
}
