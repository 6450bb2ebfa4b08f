/// The editable terms of a policy as a caller sends them (the contract's
/// `PolicyTerms` plus a status), before validation. ``PolicyValidator`` turns
/// a draft into a ``Policy`` or an error naming the field.
///
/// Enumerations are optional because the contract's `*_UNSPECIFIED` value
/// means "not set" and must be refused by name, not defaulted.
public struct PolicyDraft: Hashable, Sendable {
    public var code: String
    public var kind: PolicyKind?
    public var commissionType: CommissionType?
    /// PERCENTAGE: 0...1,000,000 parts per million. FIXED: must be 0.
    public var ratePPM: Int64
    /// FIXED: minor units of ``currencyCode``. PERCENTAGE: must be 0.
    public var fixedAmount: Int64
    /// ISO 4217 code; empty when the policy has no amounts of its own.
    public var currencyCode: String
    public var minCommission: Int64?
    public var maxCommission: Int64?
    /// Inclusive start, unix microseconds; nil = open.
    public var validFrom: Int64?
    /// Exclusive end, unix microseconds; nil = open.
    public var validUntil: Int64?
    public var status: PolicyStatus?

    /// Creates a draft; every field defaults to "not set".
    public init(
        code: String = "",
        kind: PolicyKind? = nil,
        commissionType: CommissionType? = nil,
        ratePPM: Int64 = 0,
        fixedAmount: Int64 = 0,
        currencyCode: String = "",
        minCommission: Int64? = nil,
        maxCommission: Int64? = nil,
        validFrom: Int64? = nil,
        validUntil: Int64? = nil,
        status: PolicyStatus? = nil
    ) {
        self.code = code
        self.kind = kind
        self.commissionType = commissionType
        self.ratePPM = ratePPM
        self.fixedAmount = fixedAmount
        self.currencyCode = currencyCode
        self.minCommission = minCommission
        self.maxCommission = maxCommission
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.status = status
    }
}
