import PolicyCore

/// Builders shared by the PolicyCore tests. They throw instead of trapping so
/// that a fixture mistake fails one test with the validator's message.
enum Fixture {
    /// 2025-11-07T00:00:00Z, the seed's rollout day, in unix microseconds.
    static let orderTime: Int64 = 1_762_473_600_000_000
    /// One day in microseconds.
    static let day: Int64 = 86_400_000_000

    static func money(_ minorUnits: Int64, _ code: String = "USD") throws -> Money {
        Money(minorUnits: minorUnits, currency: try Currency(code: code))
    }

    /// A percentage policy; `ppm` 100_000 = 10 %.
    static func percentage(
        _ id: String,
        kind: PolicyKind,
        ppm: Int64,
        currency: String? = nil,
        min: Int64? = nil,
        max: Int64? = nil,
        status: PolicyStatus = .active,
        from: Int64? = nil,
        until: Int64? = nil,
        version: Int64 = 1
    ) throws -> Policy {
        let currency = try currency.map { try Currency(code: $0) }
        // Caps without a policy currency are left for Policy.init to refuse.
        let capCurrency = try currency ?? Currency(code: "USD")
        return try Policy(
            id: id,
            code: id.uppercased(),
            kind: kind,
            commission: .percentage(try CommissionRate(ppm: ppm)),
            currency: currency,
            minCommission: min.map { Money(minorUnits: $0, currency: capCurrency) },
            maxCommission: max.map { Money(minorUnits: $0, currency: capCurrency) },
            status: status,
            window: try PolicyWindow(start: from, end: until),
            version: version
        )
    }

    /// A fixed-amount policy.
    static func fixed(
        _ id: String,
        kind: PolicyKind,
        amount: Int64,
        currency: String = "USD",
        min: Int64? = nil,
        max: Int64? = nil
    ) throws -> Policy {
        let currency = try Currency(code: currency)
        return try Policy(
            id: id,
            code: id.uppercased(),
            kind: kind,
            commission: .fixed(Money(minorUnits: amount, currency: currency)),
            currency: currency,
            minCommission: min.map { Money(minorUnits: $0, currency: currency) },
            maxCommission: max.map { Money(minorUnits: $0, currency: currency) },
            status: .active,
            version: 1
        )
    }

    static func link(_ kind: ScopeKind, _ scopeID: String, to policy: Policy) throws -> PolicyLink {
        try PolicyLink(scope: PolicyScope(kind: kind, id: scopeID), policyID: policy.id)
    }

    static func item(
        _ id: String = "item-1",
        product: String = "p-1",
        supplier: String? = "s-1",
        tier: String? = "GOLD",
        amount: Int64 = 10_000,
        currency: String = "USD",
        at time: Int64 = orderTime
    ) throws -> OrderItem {
        OrderItem(
            orderItemID: id,
            productID: product,
            supplierID: supplier,
            sellerTier: tier,
            lineAmount: try money(amount, currency),
            orderedAt: time
        )
    }

    static let allFlags = PolicyResolutionFlags(supplierPolicyEnabled: true, tierPolicyEnabled: true)
}
