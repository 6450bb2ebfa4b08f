/// The write-time rules of policies and links. Everything refused here is
/// refused when written, so settlement never discovers a bad policy.
///
/// Errors name the contract field; the service maps ``PolicyError/Code/overlappingWindows``
/// to `FAILED_PRECONDITION` and everything else to `INVALID_ARGUMENT`.
public enum PolicyValidator {
    /// Validates a draft and builds the policy it describes.
    ///
    /// Checks, in order: `kind`, `status`, `commission_type`, `rate_ppm` /
    /// `fixed_amount` (the one not used by the type must be 0), `currency`,
    /// the window (`valid_until_unix_micros` after `valid_from_unix_micros`),
    /// then ``Policy/init(id:code:kind:commission:currency:minCommission:maxCommission:status:window:version:)``'s
    /// rules (`policy_id`, `code`, `version`, caps, `min_commission` <= `max_commission`).
    public static func policy(from draft: PolicyDraft, id: String, version: Int64) throws(PolicyError) -> Policy {
        guard let kind = draft.kind else {
            throw PolicyError(.missingField, field: "kind", "required: PRODUCT, SUPPLIER, TIER or DEFAULT")
        }
        guard let status = draft.status else {
            throw PolicyError(.missingField, field: "status", "required: ACTIVE or INACTIVE")
        }
        guard let commissionType = draft.commissionType else {
            throw PolicyError(.missingField, field: "commission_type", "required: PERCENTAGE or FIXED")
        }
        let currency: Currency? = draft.currencyCode.isEmpty ? nil : try Currency(code: draft.currencyCode)
        let commission: CommissionRule
        switch commissionType {
        case .percentage:
            if draft.fixedAmount != 0 {
                throw PolicyError(.invalidFormat, field: "fixed_amount",
                                  "must be 0 for a PERCENTAGE policy, got \(draft.fixedAmount)")
            }
            commission = .percentage(try CommissionRate(ppm: draft.ratePPM))
        case .fixed:
            if draft.ratePPM != 0 {
                throw PolicyError(.invalidFormat, field: "rate_ppm", "must be 0 for a FIXED policy, got \(draft.ratePPM)")
            }
            guard let currency else {
                throw PolicyError(.missingField, field: "currency", "required for a FIXED policy")
            }
            commission = .fixed(Money(minorUnits: draft.fixedAmount, currency: currency))
        }
        let window = try PolicyWindow(start: draft.validFrom, end: draft.validUntil)
        return try Policy(
            id: id,
            code: draft.code,
            kind: kind,
            commission: commission,
            currency: currency,
            minCommission: try draft.minCommission.map { (units) throws(PolicyError) in
                try money(units, currency, field: "min_commission")
            },
            maxCommission: try draft.maxCommission.map { (units) throws(PolicyError) in
                try money(units, currency, field: "max_commission")
            },
            status: status,
            window: window,
            version: version
        )
    }

    /// Refuses a link to a policy of another kind (a DEFAULT policy is never linked).
    public static func checkLink(_ link: PolicyLink, to policy: Policy) throws(PolicyError) {
        if link.policyID != policy.id {
            throw PolicyError(.unknownPolicy, field: "policy_id", "link names \(link.policyID), not \(policy.id)")
        }
        if policy.kind != link.scope.kind.policyKind {
            throw PolicyError(.kindMismatch, field: "scope_kind",
                              "a \(link.scope.kind.rawValue) scope cannot link \(policy.kind.rawValue) policy \(policy.code)")
        }
    }

    /// Refuses `candidate` when its window overlaps one of `others`, the
    /// policies already linked to the same scope (or, for a DEFAULT policy
    /// being activated, the other active DEFAULT policies). The candidate
    /// itself is ignored in `others`, so re-validating an edit works.
    public static func checkNoOverlap(_ candidate: Policy, with others: some Sequence<Policy>) throws(PolicyError) {
        for other in others where other.id != candidate.id && other.window.overlaps(candidate.window) {
            throw PolicyError(.overlappingWindows, field: "valid_from_unix_micros",
                              "window \(candidate.window) of \(candidate.code) overlaps \(other.window) of \(other.code)")
        }
    }

    /// A cap needs a currency; ``Policy`` checks its range and currency.
    private static func money(_ units: Int64, _ currency: Currency?, field: String) throws(PolicyError) -> Money {
        guard let currency else {
            throw PolicyError(.missingField, field: "currency", "required when \(field) is set")
        }
        return Money(minorUnits: units, currency: currency)
    }
}
