/// What a policy link points from. Raw values are the database spelling.
public enum ScopeKind: String, Hashable, Sendable, CaseIterable {
    case product = "PRODUCT"
    case supplier = "SUPPLIER"
    /// A seller tier name such as `GOLD` (`catalog.sellers.tier`).
    case tier = "TIER"

    /// The only policy kind a scope of this kind may link to.
    public var policyKind: PolicyKind {
        switch self {
        case .product: .product
        case .supplier: .supplier
        case .tier: .tier
        }
    }
}

/// One product, supplier or tier.
public struct PolicyScope: Hashable, Sendable, CustomStringConvertible {
    /// The kind of scope.
    public let kind: ScopeKind
    /// The product id, supplier id or tier name.
    public let id: String

    /// Creates a scope.
    /// - Throws: a ``PolicyError`` naming `scope_id` when the id is empty or over-long.
    public init(kind: ScopeKind, id: String) throws(PolicyError) {
        try Policy.checkIdentifier(id, field: "scope_id")
        self.kind = kind
        self.id = id
    }

    public var description: String { "\(kind.rawValue):\(id)" }
}

/// A link from a scope to a policy of the same kind. A scope may hold several
/// links whose policies have disjoint windows (e.g. this year's and next
/// year's rate); the writer refuses overlapping ones.
public struct PolicyLink: Hashable, Sendable {
    /// The longest settlement cycle accepted for a supplier, in days.
    public static let maximumSettlementCycleDays = 365

    /// The linked scope.
    public let scope: PolicyScope
    /// The linked policy's id.
    public let policyID: String
    /// Supplier links only: the supplier's settlement cycle in days, or nil
    /// for the platform's default cycle. Not used by resolution.
    public let settlementCycleDays: Int?

    /// Creates a link.
    /// - Throws: a ``PolicyError`` naming `policy_id` or `settlement_cycle_days`
    ///   (1...365, and only on supplier links).
    public init(scope: PolicyScope, policyID: String, settlementCycleDays: Int? = nil) throws(PolicyError) {
        try Policy.checkIdentifier(policyID, field: "policy_id")
        if let settlementCycleDays {
            guard scope.kind == .supplier else {
                throw PolicyError(.invalidFormat, field: "settlement_cycle_days",
                                  "only supplier links carry a settlement cycle, not \(scope.kind.rawValue)")
            }
            guard (1...Self.maximumSettlementCycleDays).contains(settlementCycleDays) else {
                throw PolicyError(.outOfRange, field: "settlement_cycle_days",
                                  "must be 1...\(Self.maximumSettlementCycleDays), got \(settlementCycleDays)")
            }
        }
        self.scope = scope
        self.policyID = policyID
        self.settlementCycleDays = settlementCycleDays
    }
}
