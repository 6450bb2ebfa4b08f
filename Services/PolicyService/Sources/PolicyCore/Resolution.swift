/// The precedence level that produced a commission. Raw values are the
/// `resolution_level` label of `o4o_policy_resolution_total`.
public enum ResolutionLevel: String, Hashable, Sendable, CaseIterable {
    case product
    case supplier
    case tier
    case `default`
    /// No policy applied: commission 0, no snapshot, counted as a failure.
    case safeMode = "safe_mode"
}

/// Why a resolution counts as a failure. Raw values are the `reason` label of
/// `o4o_policy_resolution_failures_total`.
public enum ResolutionFailureReason: String, Hashable, Sendable, CaseIterable {
    case noPolicyFound = "no_policy_found"
    case invalidInput = "invalid_input"
    case timeout
    case `internal`
}

/// The priced outcome for one order item.
public struct Resolution: Hashable, Sendable {
    /// The item this resolution prices.
    public let orderItemID: String
    /// Which level applied.
    public let level: ResolutionLevel
    /// The commission, in the line's currency, within [0, line amount].
    public let commission: Money
    /// The policy applied, as it was: the snapshot to freeze. Nil in safe mode.
    public let appliedPolicy: Policy?

    /// Creates a resolution (the resolver's output; the store rebuilds them
    /// from frozen snapshots).
    public init(orderItemID: String, level: ResolutionLevel, commission: Money, appliedPolicy: Policy?) {
        self.orderItemID = orderItemID
        self.level = level
        self.commission = commission
        self.appliedPolicy = appliedPolicy
    }

    /// `noPolicyFound` in safe mode, nil otherwise.
    public var failureReason: ResolutionFailureReason? {
        level == .safeMode ? .noPolicyFound : nil
    }
}
