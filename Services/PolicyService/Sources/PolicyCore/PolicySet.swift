/// A preloaded, immutable snapshot of the policies and links that a batch
/// can need, indexed once so that resolving an item costs a few dictionary
/// look-ups and no allocation.
///
/// The service builds one per request from a handful of bulk queries (the
/// links of the batch's products, suppliers and tiers, their policies, and
/// the DEFAULT policies); tests build them from literals.
public struct PolicySet: Sendable {
    /// Active policies per linked scope id, ordered by window start then id.
    private let byProduct: [String: [Policy]]
    private let bySupplier: [String: [Policy]]
    private let byTier: [String: [Policy]]
    /// Active DEFAULT policies, same order.
    private let defaults: [Policy]

    /// How many policies the snapshot was built from (active or not).
    public let policyCount: Int
    /// How many links the snapshot was built from.
    public let linkCount: Int

    /// A snapshot without policies: everything resolves to safe mode.
    public static let empty = PolicySet()

    private init() {
        byProduct = [:]
        bySupplier = [:]
        byTier = [:]
        defaults = []
        policyCount = 0
        linkCount = 0
    }

    /// Indexes `policies` and `links`.
    ///
    /// Inactive policies are dropped here, once, rather than skipped per item.
    /// Candidates are ordered by window start, then id, so that even data the
    /// writer should have refused (overlapping windows on one scope) resolves
    /// the same way whatever order the rows arrived in.
    ///
    /// - Throws: ``PolicyError/Code/duplicate`` for a policy id given twice,
    ///   ``PolicyError/Code/unknownPolicy`` for a link to a policy not given,
    ///   ``PolicyError/Code/kindMismatch`` for a link to a policy of another kind.
    public init(policies: some Sequence<Policy>, links: some Sequence<PolicyLink>) throws(PolicyError) {
        var byID: [String: Policy] = [:]
        var defaults: [Policy] = []
        for policy in policies {
            if byID.updateValue(policy, forKey: policy.id) != nil {
                throw PolicyError(.duplicate, field: "policy_id", "\(policy.id) appears twice in the snapshot")
            }
            if policy.kind == .default && policy.status == .active {
                defaults.append(policy)
            }
        }
        var byProduct: [String: [Policy]] = [:]
        var bySupplier: [String: [Policy]] = [:]
        var byTier: [String: [Policy]] = [:]
        var linkCount = 0
        for link in links {
            linkCount += 1
            guard let policy = byID[link.policyID] else {
                throw PolicyError(.unknownPolicy, field: "policy_id",
                                  "\(link.scope) links \(link.policyID), which is not in the snapshot")
            }
            try PolicyValidator.checkLink(link, to: policy)
            guard policy.status == .active else { continue }
            switch link.scope.kind {
            case .product: byProduct[link.scope.id, default: []].append(policy)
            case .supplier: bySupplier[link.scope.id, default: []].append(policy)
            case .tier: byTier[link.scope.id, default: []].append(policy)
            }
        }
        self.byProduct = byProduct.mapValues(Self.ordered)
        self.bySupplier = bySupplier.mapValues(Self.ordered)
        self.byTier = byTier.mapValues(Self.ordered)
        self.defaults = Self.ordered(defaults)
        self.policyCount = byID.count
        self.linkCount = linkCount
    }

    /// The first active policy linked to the scope whose window contains `instant`.
    @inline(__always)
    func applicable(_ kind: ScopeKind, _ id: String, at instant: Int64) -> Policy? {
        let candidates: [Policy]?
        switch kind {
        case .product: candidates = byProduct[id]
        case .supplier: candidates = bySupplier[id]
        case .tier: candidates = byTier[id]
        }
        guard let candidates else { return nil }
        return Self.first(in: candidates, at: instant)
    }

    /// The active DEFAULT policy whose window contains `instant`.
    @inline(__always)
    func applicableDefault(at instant: Int64) -> Policy? {
        Self.first(in: defaults, at: instant)
    }

    @inline(__always)
    private static func first(in candidates: [Policy], at instant: Int64) -> Policy? {
        for policy in candidates where policy.window.contains(instant) {
            return policy
        }
        return nil
    }

    private static func ordered(_ policies: [Policy]) -> [Policy] {
        policies.sorted { lhs, rhs in
            let lhsStart = lhs.window.start ?? .min
            let rhsStart = rhs.window.start ?? .min
            return lhsStart != rhsStart ? lhsStart < rhsStart : lhs.id < rhs.id
        }
    }
}
