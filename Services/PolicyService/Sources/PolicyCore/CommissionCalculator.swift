/// Computes the commission of one line under one policy.
///
/// Order of operations, fixed so that every service and report agrees:
/// 1. percentage: `amount × rate` exactly, rounded once half-up to the minor
///    unit (see ``CommissionRate/portion(of:)``); fixed: the fixed amount;
/// 2. clamp to `[min_commission, max_commission]`, each optional;
/// 3. clamp to `[0, line amount]`: a commission is never negative and never
///    takes more than the line (so a minimum above a small line yields the line).
public enum CommissionCalculator {
    /// The commission of `lineAmount` under `policy`.
    ///
    /// - Throws: ``PolicyError`` naming `line_amount` (not 1...10^15 minor
    ///   units), or ``PolicyError/Code/currencyMismatch`` naming `fixed_amount`,
    ///   `min_commission`, `max_commission` or `currency` when the policy is
    ///   priced in another currency than the line.
    public static func commission(on lineAmount: Money, under policy: Policy) throws(PolicyError) -> Money {
        try checkLineAmount(lineAmount)
        if let currency = policy.currency, currency != lineAmount.currency {
            throw mismatch(policy, currency: currency, line: lineAmount)
        }
        let amount = lineAmount.minorUnits
        var commission: Int64
        switch policy.commission {
        case .percentage(let rate):
            commission = rate.portion(of: amount)
        case .fixed(let fixed):
            commission = fixed.minorUnits
        }
        if let minimum = policy.minCommission, commission < minimum.minorUnits {
            commission = minimum.minorUnits
        }
        if let maximum = policy.maxCommission, commission > maximum.minorUnits {
            commission = maximum.minorUnits
        }
        commission = min(max(commission, 0), amount)
        return Money(minorUnits: commission, currency: lineAmount.currency)
    }

    /// Refuses a line amount outside 1...``Money/maximumAmount``, naming `line_amount`.
    public static func checkLineAmount(_ lineAmount: Money) throws(PolicyError) {
        if lineAmount.minorUnits <= 0 {
            throw PolicyError(.outOfRange, field: "line_amount", "must be positive, got \(lineAmount.minorUnits)")
        }
        if lineAmount.minorUnits > Money.maximumAmount {
            throw PolicyError(.outOfRange, field: "line_amount",
                              "must be at most \(Money.maximumAmount) minor units, got \(lineAmount.minorUnits)")
        }
    }

    /// Names the policy field whose currency disagrees with the line.
    private static func mismatch(_ policy: Policy, currency: Currency, line: Money) -> PolicyError {
        let field: String
        if case .fixed = policy.commission {
            field = "fixed_amount"
        } else if policy.minCommission != nil {
            field = "min_commission"
        } else if policy.maxCommission != nil {
            field = "max_commission"
        } else {
            field = "currency"
        }
        return PolicyError(.currencyMismatch, field: field,
                           "policy \(policy.code) is priced in \(currency) but the line is in \(line.currency)")
    }
}
