import PolicyCore
import Proto

// Mapping between the policy.v1 contract and PolicyCore. Enumerations map
// `*_UNSPECIFIED` to nil so that validation refuses it by name.

extension PolicyV1.PolicyKind {
    var core: PolicyKind? {
        switch self {
        case .product: .product
        case .supplier: .supplier
        case .tier: .tier
        case .default: .default
        case .unspecified: nil
        }
    }

    init(_ kind: PolicyKind) {
        switch kind {
        case .product: self = .product
        case .supplier: self = .supplier
        case .tier: self = .tier
        case .default: self = .default
        }
    }
}

extension PolicyV1.CommissionType {
    var core: CommissionType? {
        switch self {
        case .percentage: .percentage
        case .fixed: .fixed
        case .unspecified: nil
        }
    }

    init(_ type: CommissionType) {
        switch type {
        case .percentage: self = .percentage
        case .fixed: self = .fixed
        }
    }
}

extension PolicyV1.PolicyStatus {
    var core: PolicyStatus? {
        switch self {
        case .active: .active
        case .inactive: .inactive
        case .unspecified: nil
        }
    }

    init(_ status: PolicyStatus) {
        switch status {
        case .active: self = .active
        case .inactive: self = .inactive
        }
    }
}

extension PolicyV1.ScopeKind {
    var core: ScopeKind? {
        switch self {
        case .product: .product
        case .supplier: .supplier
        case .tier: .tier
        case .unspecified: nil
        }
    }

    init(_ kind: ScopeKind) {
        switch kind {
        case .product: self = .product
        case .supplier: self = .supplier
        case .tier: self = .tier
        }
    }
}

extension PolicyV1.ResolutionLevel {
    init(_ level: ResolutionLevel) {
        switch level {
        case .product: self = .product
        case .supplier: self = .supplier
        case .tier: self = .tier
        case .default: self = .default
        case .safeMode: self = .safeMode
        }
    }
}

extension PolicyV1.FailureReason {
    init(_ reason: ResolutionFailureReason?) {
        switch reason {
        case .noPolicyFound: self = .noPolicyFound
        case .invalidInput: self = .invalidInput
        case .timeout: self = .timeout
        case .internal: self = .internal
        case nil: self = .unspecified
        }
    }
}

extension PolicyV1.Int64Value {
    /// The wrapper for an optional bound: absent stays absent.
    static func wrapping(_ value: Int64?) -> PolicyV1.Int64Value? {
        value.map { PolicyV1.Int64Value(value: $0) }
    }
}

extension PolicyDraft {
    /// The draft a request's terms describe (`status` comes from elsewhere in the request).
    init(terms: PolicyV1.PolicyTerms, status: PolicyStatus?) {
        self.init(
            code: terms.code,
            kind: terms.kind.core,
            commissionType: terms.commissionType.core,
            ratePPM: terms.ratePpm,
            fixedAmount: terms.fixedAmount,
            currencyCode: terms.currency,
            minCommission: terms.minCommission?.value,
            maxCommission: terms.maxCommission?.value,
            validFrom: terms.validFromUnixMicros?.value,
            validUntil: terms.validUntilUnixMicros?.value,
            status: status
        )
    }
}

extension Policy {
    /// The rate in ppm (0 for a fixed policy).
    var ratePPM: Int64 {
        if case .percentage(let rate) = commission { return rate.ppm }
        return 0
    }

    /// The fixed amount in minor units (0 for a percentage policy).
    var fixedAmount: Int64 {
        if case .fixed(let amount) = commission { return amount.minorUnits }
        return 0
    }
}

extension PolicyV1.PolicyTerms {
    init(_ policy: Policy) {
        self.init(
            code: policy.code,
            kind: PolicyV1.PolicyKind(policy.kind),
            commissionType: PolicyV1.CommissionType(policy.commission.type),
            ratePpm: policy.ratePPM,
            fixedAmount: policy.fixedAmount,
            currency: policy.currency?.code ?? "",
            minCommission: .wrapping(policy.minCommission?.minorUnits),
            maxCommission: .wrapping(policy.maxCommission?.minorUnits),
            validFromUnixMicros: .wrapping(policy.window.start),
            validUntilUnixMicros: .wrapping(policy.window.end)
        )
    }
}

extension PolicyV1.PolicySnapshot {
    /// The frozen copy of an applied policy.
    init(_ policy: Policy) {
        self.init(
            policyId: policy.id,
            code: policy.code,
            version: policy.version,
            kind: PolicyV1.PolicyKind(policy.kind),
            commissionType: PolicyV1.CommissionType(policy.commission.type),
            ratePpm: policy.ratePPM,
            fixedAmount: policy.fixedAmount,
            currency: policy.currency?.code ?? "",
            minCommission: .wrapping(policy.minCommission?.minorUnits),
            maxCommission: .wrapping(policy.maxCommission?.minorUnits),
            validFromUnixMicros: .wrapping(policy.window.start),
            validUntilUnixMicros: .wrapping(policy.window.end)
        )
    }
}

extension PolicyV1.Resolution {
    /// The wire form of a resolution; `item` supplies the supplier and tier used.
    init(_ resolution: Resolution, item: OrderItem) {
        self.init(
            orderItemId: resolution.orderItemID,
            level: PolicyV1.ResolutionLevel(resolution.level),
            commissionAmount: resolution.commission.minorUnits,
            currency: resolution.commission.currency.code,
            appliedPolicy: resolution.appliedPolicy.map(PolicyV1.PolicySnapshot.init),
            failureReason: PolicyV1.FailureReason(resolution.failureReason),
            supplierId: item.supplierID ?? "",
            sellerTier: item.sellerTier ?? ""
        )
    }
}
