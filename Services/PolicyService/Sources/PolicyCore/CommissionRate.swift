/// An exact commission rate in parts per million of the line amount:
/// 1,000,000 = 100 %, 125,000 = 12.5 %, 1 = 0.0001 % (the contract's `rate_ppm`).
///
/// Parts per million rather than basis points because platform rates such as
/// 12.345 % exist; six digits cover every rate written as a percentage with
/// up to four decimals, with no floating point anywhere.
public struct CommissionRate: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The denominator: a rate of `partsPerMillion` is 100 %.
    public static let partsPerMillion: Int64 = 1_000_000

    /// The rate in parts per million, 0...1,000,000.
    public let ppm: Int64

    /// Creates a rate.
    /// - Throws: ``PolicyError/Code/outOfRange`` naming `rate_ppm` for a negative
    ///   rate or one above 100 % (a commission above the line amount would be
    ///   clamped away anyway, so such a rate can only be a typo).
    public init(ppm: Int64) throws(PolicyError) {
        if ppm < 0 {
            throw PolicyError(.outOfRange, field: "rate_ppm", "must not be negative, got \(ppm)")
        }
        if ppm > Self.partsPerMillion {
            throw PolicyError(.outOfRange, field: "rate_ppm", "must be at most 1000000 (100 %), got \(ppm)")
        }
        self.ppm = ppm
    }

    /// `amount × rate`, rounded once to the minor unit, half-up: a remainder
    /// of exactly one half goes away from zero (0.5 → 1, −0.5 → −1), the mode
    /// of PostgreSQL `numeric` `round()`, Stripe and Shopify.
    ///
    /// Exact for every `Int64` amount: the product is formed in 128 bits
    /// when it does not fit in 64, and because the rate is at most 100 % the
    /// result's magnitude never exceeds the amount's, so it cannot overflow.
    public func portion(of amount: Int64) -> Int64 {
        let scale = Self.partsPerMillion
        let (product, overflow) = amount.multipliedReportingOverflow(by: ppm)
        let quotient: Int64
        let remainder: Int64
        if !overflow {
            // The common case: one multiply and a division by a constant.
            (quotient, remainder) = product.quotientAndRemainder(dividingBy: scale)
        } else {
            // |quotient| <= |amount|, so dividingFullWidth cannot trap.
            (quotient, remainder) = scale.dividingFullWidth(amount.multipliedFullWidth(by: ppm))
        }
        // The remainder has the sign of the product; compare its magnitude with half the scale.
        if remainder.magnitude * 2 >= scale.magnitude {
            return remainder < 0 ? quotient - 1 : quotient + 1
        }
        return quotient
    }

    public static func < (lhs: CommissionRate, rhs: CommissionRate) -> Bool {
        lhs.ppm < rhs.ppm
    }

    /// Percent text, e.g. `"12.5%"`.
    public var description: String {
        let whole = ppm / 10_000
        var fraction = String(ppm % 10_000)
        guard fraction != "0" else { return "\(whole)%" }
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)%"
    }
}
