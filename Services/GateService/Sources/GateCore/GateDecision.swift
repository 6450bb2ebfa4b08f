/// The gate's answer for one item, and the pure function that computes it.
///
/// A decision has two halves. The rollout (``RolloutCoverage``) says whether
/// the product is enforced, observed (SHADOW) or waved through; the
/// authorization rules (``verdict(for:stage:orderTimeMicros:)``) say what the
/// pair's state allows. Only the combination reaches the caller:
///
/// - featureOff: allowed, FEATURE_OFF, no lookup.
/// - outsideRollout: allowed, OUTSIDE_ROLLOUT, no lookup.
/// - shadow: looked up and evaluated; allowed either way, with the rules'
///   reason when they allow and SHADOW_WOULD_DENY when they deny.
/// - enforced: looked up and evaluated; the rules' verdict and reason.
///
/// A lookup that failed (``AuthorizationLookup/unavailable``, or `.skipped`
/// where one was needed) is the verdict "denied, UNAVAILABLE": enforced
/// products fail closed, shadow allows and counts it as an error.
///
/// ## Settlement and the order time
/// CART and ORDER, and SETTLEMENT without an order time, are judged on the
/// authorization now: allowed exactly when the latest state is APPROVED.
/// SETTLEMENT with an order time `t` asks whether the seller was authorized
/// when the order was placed: allowed when `approvedAt <= t` and the
/// approval was not revoked by then (`revokedAt` absent or `t < revokedAt`).
/// An order placed while the seller was authorized stays payable after a
/// later revocation (reason APPROVED_AT_ORDER_TIME); an order placed at or
/// after the revocation instant is denied (REVOKED); an order placed before
/// the current approval began is denied (NOT_AUTHORIZED_AT_ORDER_TIME). Only
/// the pair's latest authorization row is consulted: an approval episode
/// older than the latest row (approved, revoked, requested again) is not.
public struct GateDecision: Sendable, Hashable, CustomStringConvertible {
    /// The verdict the caller acts on.
    public var allowed: Bool
    /// Why, as the caller sees it.
    public var reason: GateReason
    /// The authorization rules' own verdict reason, before the rollout was
    /// applied; nil when nothing was evaluated (FEATURE_OFF, OUTSIDE_ROLLOUT).
    public var evaluatedReason: GateReason?
    /// What the rollout did for the product.
    public var coverage: RolloutCoverage

    /// True when the verdict was enforced (the product is in the rollout and
    /// the mode enforces).
    public var enforced: Bool { coverage == .enforced }

    /// True when the caller was denied, or in SHADOW would have been: what
    /// `seller_auth_gate_denies_total` counts (`shadow="true"` for the latter).
    public var deniedByRules: Bool {
        guard let evaluatedReason else { return false }
        return !Self.reasonAllows(evaluatedReason)
    }

    /// True for a SHADOW check that enforcement would have denied: log it.
    public var isShadowWouldDeny: Bool { coverage == .shadow && deniedByRules }

    /// True when the rules could not be evaluated because no tier answered
    /// (the `error="true"` label of the denies counter).
    public var isUnavailable: Bool { evaluatedReason == .unavailable }

    /// Creates a decision directly (tests; prefer ``evaluate(coverage:authorization:stage:orderTimeMicros:)``).
    public init(allowed: Bool, reason: GateReason, evaluatedReason: GateReason?, coverage: RolloutCoverage) {
        self.allowed = allowed
        self.reason = reason
        self.evaluatedReason = evaluatedReason
        self.coverage = coverage
    }

    /// `allow APPROVED (enforced)`, `deny REVOKED (enforced)`, `allow SHADOW_WOULD_DENY (shadow: REJECTED)`.
    public var description: String {
        let verdict = allowed ? "allow" : "deny"
        switch coverage {
        case .shadow: return "\(verdict) \(reason) (shadow: \(evaluatedReason?.rawValue ?? "none"))"
        case .enforced: return "\(verdict) \(reason) (enforced)"
        case .featureOff, .outsideRollout: return "\(verdict) \(reason)"
        }
    }

    // MARK: - The decision function

    /// Decides one item.
    ///
    /// - Parameters:
    ///   - coverage: the rollout's coverage of the product (``RolloutConfig/coverage(of:)``).
    ///   - authorization: the pair's state, or why there is none.
    ///   - stage: the stage of the check.
    ///   - orderTimeMicros: SETTLEMENT only: when the order was placed (unix
    ///     microseconds); nil judges the authorization now. Ignored for CART
    ///     and ORDER (the service refuses it there before deciding).
    public static func evaluate(
        coverage: RolloutCoverage,
        authorization: AuthorizationLookup,
        stage: GateStage,
        orderTimeMicros: Int64? = nil
    ) -> GateDecision {
        switch coverage {
        case .featureOff:
            return GateDecision(allowed: true, reason: .featureOff, evaluatedReason: nil, coverage: coverage)
        case .outsideRollout:
            return GateDecision(allowed: true, reason: .outsideRollout, evaluatedReason: nil, coverage: coverage)
        case .shadow, .enforced:
            let rules: (allowed: Bool, reason: GateReason)
            switch authorization {
            case .found(let state):
                rules = verdict(for: state, stage: stage, orderTimeMicros: orderTimeMicros)
            case .unavailable, .skipped:
                rules = (false, .unavailable)
            }
            if coverage == .shadow && !rules.allowed {
                return GateDecision(allowed: true, reason: .shadowWouldDeny, evaluatedReason: rules.reason, coverage: coverage)
            }
            return GateDecision(allowed: rules.allowed, reason: rules.reason, evaluatedReason: rules.reason, coverage: coverage)
        }
    }

    /// Decides one item from the rollout configuration (coverage computed here).
    public static func evaluate(
        config: RolloutConfig,
        productId: String,
        authorization: AuthorizationLookup,
        stage: GateStage,
        orderTimeMicros: Int64? = nil
    ) -> GateDecision {
        evaluate(
            coverage: config.coverage(of: productId), authorization: authorization,
            stage: stage, orderTimeMicros: orderTimeMicros)
    }

    /// The authorization rules alone: what the pair's state allows at the
    /// stage (see the type's documentation for the order-time semantics).
    public static func verdict(
        for state: AuthorizationState,
        stage: GateStage,
        orderTimeMicros: Int64? = nil
    ) -> (allowed: Bool, reason: GateReason) {
        let orderTime = stage == .settlement ? orderTimeMicros : nil
        switch state.status {
        case .notRequested: return (false, .notRequested)
        case .pending: return (false, .pending)
        case .rejected: return (false, .rejected)
        case .cancelled: return (false, .cancelled)
        case .approved(let since):
            guard let orderTime else { return (true, .approved) }
            return orderTime >= since ? (true, .approved) : (false, .notAuthorizedAtOrderTime)
        case .revoked(let approvedAt, let revokedAt):
            guard let orderTime else { return (false, .revoked) }
            if orderTime < approvedAt { return (false, .notAuthorizedAtOrderTime) }
            if orderTime < revokedAt { return (true, .approvedAtOrderTime) }
            return (false, .revoked)
        }
    }

    /// True for the reasons that allow by the rules' own judgement.
    static func reasonAllows(_ reason: GateReason) -> Bool {
        switch reason {
        case .approved, .approvedAtOrderTime: true
        case .notRequested, .pending, .rejected, .revoked, .cancelled, .unavailable, .notAuthorizedAtOrderTime: false
        case .outsideRollout, .shadowWouldDeny, .featureOff: true
        }
    }
}
