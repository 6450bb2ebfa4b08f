/// What the rollout does for one product: the first half of every gate
/// decision, known before any I/O.
public enum RolloutCoverage: Sendable, Hashable {
    /// Mode OFF: allow without a lookup.
    case featureOff
    /// Mode SHADOW: look up, evaluate, count and log a would-deny, allow.
    case shadow
    /// The product is not covered by the canary list or percentage: allow
    /// without a lookup.
    case outsideRollout
    /// Look up and enforce the authorization rules.
    case enforced

    /// True when the decision needs the pair's authorization state, that is,
    /// when the service should touch Redis or PostgreSQL at all.
    public var needsLookup: Bool {
        switch self {
        case .featureOff, .outsideRollout: false
        case .shadow, .enforced: true
        }
    }
}
