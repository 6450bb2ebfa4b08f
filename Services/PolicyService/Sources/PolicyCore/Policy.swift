/// A commission policy as stored: what it charges, for which kind of scope,
/// within which caps and window, and its version.
///
/// A `Policy` value is always valid: its initializer enforces every rule the
/// writer enforces, so a resolver never meets min > max or a malformed code.
/// The same value is the snapshot frozen into a commission line.
public struct Policy: Hashable, Sendable, Identifiable {
    /// The longest accepted id (the platform uses UUIDs; tests readable ids).
    public static let maximumIDLength = 128
    /// The longest accepted policy code.
    public static let maximumCodeLength = 64

    /// The policy's id (a UUID in the service).
    public let id: String
    /// The unique, human-facing code, e.g. `SUPPLIER-TEST-2025`.
    public let code: String
    /// The scope kind this policy is written for.
    public let kind: PolicyKind
    /// What the policy charges.
    public let commission: CommissionRule
    /// The currency of the fixed amount and the caps; nil for a percentage
    /// policy without caps, which then applies to lines of any currency.
    /// When set, the policy prices only lines in this currency.
    public let currency: Currency?
    /// The smallest commission charged, if any.
    public let minCommission: Money?
    /// The largest commission charged, if any.
    public let maxCommission: Money?
    /// Inactive policies never apply.
    public let status: PolicyStatus
    /// When the policy applies, judged at the order's reference time.
    public let window: PolicyWindow
    /// 1 when created; every edit adds 1.
    public let version: Int64

    /// Creates a policy, enforcing the cross-field rules.
    ///
    /// - Throws: a ``PolicyError`` naming the first offending field, checked in
    ///   this order: `policy_id`, `code`, `version`, `currency`, `fixed_amount`,
    ///   `min_commission`, `max_commission`.
    public init(
        id: String,
        code: String,
        kind: PolicyKind,
        commission: CommissionRule,
        currency: Currency?,
        minCommission: Money? = nil,
        maxCommission: Money? = nil,
        status: PolicyStatus,
        window: PolicyWindow = .unbounded,
        version: Int64
    ) throws(PolicyError) {
        try Self.checkIdentifier(id, field: "policy_id")
        try Self.checkCode(code)
        if version < 1 {
            throw PolicyError(.outOfRange, field: "version", "must be at least 1, got \(version)")
        }
        if case .fixed(let amount) = commission {
            try Self.checkAmount(amount, currency: currency, field: "fixed_amount")
        }
        if let minCommission {
            try Self.checkAmount(minCommission, currency: currency, field: "min_commission")
        }
        if let maxCommission {
            try Self.checkAmount(maxCommission, currency: currency, field: "max_commission")
        }
        if let minCommission, let maxCommission, minCommission.minorUnits > maxCommission.minorUnits {
            throw PolicyError(.invalidBounds, field: "min_commission",
                              "\(minCommission.minorUnits) is above max_commission \(maxCommission.minorUnits)")
        }
        self.id = id
        self.code = code
        self.kind = kind
        self.commission = commission
        self.currency = currency
        self.minCommission = minCommission
        self.maxCommission = maxCommission
        self.status = status
        self.window = window
        self.version = version
    }

    /// True when the policy is active and `instant` lies in its window.
    @inline(__always)
    public func isApplicable(at instant: Int64) -> Bool {
        status == .active && window.contains(instant)
    }

    /// Refuses an empty or over-long id.
    static func checkIdentifier(_ value: String, field: String) throws(PolicyError) {
        if value.isEmpty {
            throw PolicyError(.missingField, field: field, "required")
        }
        if value.utf8.count > maximumIDLength {
            throw PolicyError(.outOfRange, field: field, "at most \(maximumIDLength) bytes, got \(value.utf8.count)")
        }
    }

    /// Codes are 1...64 characters of `[A-Z0-9_-]` starting with a letter or
    /// digit: safe in URLs, logs and metric exemplars, and unambiguous to read aloud.
    static func checkCode(_ code: String) throws(PolicyError) {
        if code.isEmpty {
            throw PolicyError(.missingField, field: "code", "required")
        }
        var count = 0
        for byte in code.utf8 {
            let isAlphanumeric = (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            let isSeparator = byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            guard isAlphanumeric || (count > 0 && isSeparator) else {
                throw PolicyError(.invalidFormat, field: "code",
                                  "must match [A-Z0-9][A-Z0-9_-]{0,63}, got \"\(code.prefix(80))\"")
            }
            count += 1
        }
        if count > maximumCodeLength {
            throw PolicyError(.outOfRange, field: "code", "at most \(maximumCodeLength) characters, got \(count)")
        }
    }

    /// A policy amount is 0...``Money/maximumAmount`` in the policy's currency.
    private static func checkAmount(_ amount: Money, currency: Currency?, field: String) throws(PolicyError) {
        guard let currency else {
            throw PolicyError(.missingField, field: "currency", "required when \(field) is set")
        }
        if amount.currency != currency {
            throw PolicyError(.currencyMismatch, field: field,
                              "is in \(amount.currency) but the policy currency is \(currency)")
        }
        if amount.minorUnits < 0 || amount.minorUnits > Money.maximumAmount {
            throw PolicyError(.outOfRange, field: field,
                              "must be 0...\(Money.maximumAmount) minor units, got \(amount.minorUnits)")
        }
    }
}
