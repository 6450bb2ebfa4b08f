/// A preloaded, immutable snapshot of the policies and links that a batch
/// can need, indexed once so that resolving an item costs a few dictionary
/// look-ups and no allocation.
///
/// The service keeps every policy and every supplier and tier link indexed
/// between calls (revalidated per call, see `PolicyCache`), and adds each
/// batch's product links with ``adding(links:)``; tests build them from
/// literals.
public struct PolicySet: Sendable {
    /// Every policy given (active or not), by id: links resolve against it.
    private let byID: [String: Policy]
    /// Active policies per linked scope id, ordered by window start then id.
    private var byProduct: [String: [Policy]]
    private var bySupplier: [String: [Policy]]
    private var byTier: [String: [Policy]]
    /// Active DEFAULT policies, same order.
    private let defaults: [Policy]

    /// How many policies the snapshot was built from (active or not).
    public var policyCount: Int { byID.count }
    /// How many links the snapshot was built from.
    public private(set) var linkCount: Int

    /// A snapshot without policies: everything resolves to safe mode.
    public static let empty = PolicySet()

    private init() {
        byID = [:]
        byProduct = [:]
        bySupplier = [:]
        byTier = [:]
        defaults = []
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
        self.byID = byID
        self.byProduct = [:]
        self.bySupplier = [:]
        self.byTier = [:]
        self.defaults = Self.ordered(defaults)
        self.linkCount = 0
        try index(links)
    }

    /// This snapshot plus `links`, which must point at policies of this
    /// snapshot: resolves exactly as a snapshot built from all the links at
    /// once. Costs work in proportion to `links` only, so a large snapshot
    /// can be shared between calls and completed with each call's own links.
    ///
    /// - Throws: as ``init(policies:links:)`` for a link it refuses.
    public func adding(links: some Sequence<PolicyLink>) throws(PolicyError) -> PolicySet {
        var copy = self
        try copy.index(links)
        return copy
    }

    /// Whether the snapshot holds a policy with this id (active or not).
    public func contains(policyID: String) -> Bool {
        byID[policyID] != nil
    }

    private mutating func index(_ links: some Sequence<PolicyLink>) throws(PolicyError) {
        // Scopes holding several candidates after this call; most hold one.
        var unordered = Set<PolicyScope>()
        for link in links {
            linkCount += 1
            guard let policy = byID[link.policyID] else {
                throw PolicyError(.unknownPolicy, field: "policy_id",
                                  "\(link.scope) links \(link.policyID), which is not in the snapshot")
            }
            try PolicyValidator.checkLink(link, to: policy)
            guard policy.status == .active else { continue }
            let count: Int
            switch link.scope.kind {
            case .product: count = Self.append(policy, to: &byProduct, link.scope.id)
            case .supplier: count = Self.append(policy, to: &bySupplier, link.scope.id)
            case .tier: count = Self.append(policy, to: &byTier, link.scope.id)
            }
            if count > 1 { unordered.insert(link.scope) }
        }
        for scope in unordered {
            switch scope.kind {
            case .product: byProduct[scope.id] = byProduct[scope.id].map(Self.ordered)
            case .supplier: bySupplier[scope.id] = bySupplier[scope.id].map(Self.ordered)
            case .tier: byTier[scope.id] = byTier[scope.id].map(Self.ordered)
            }
        }
    }

    /// Appends a candidate and returns how many the scope now holds.
    private static func append(_ policy: Policy, to index: inout [String: [Policy]], _ id: String) -> Int {
        index[id, default: []].append(policy)
        return index[id]?.count ?? 0
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
