/// An amount of money: an integer count of the currency's minor unit (cents,
/// won, fils) plus its ``Currency``. Never a floating-point number.
///
/// Arithmetic refuses to mix currencies and refuses to overflow; both are
/// errors, not traps, because amounts come from callers.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    /// The largest line amount (and policy amount) accepted: 10^15 minor units.
    ///
    /// Large enough for any real order line in any currency (10^15 KRW is
    /// about 700 billion USD) while leaving room to sum thousands of lines
    /// in an `Int64`; anything larger is a bug upstream, refused by name.
    public static let maximumAmount: Int64 = 1_000_000_000_000_000

    /// The amount in minor units (e.g. 1234 = 12.34 USD, 1234 = 1,234 KRW).
    public let minorUnits: Int64
    /// The currency of ``minorUnits``.
    public let currency: Currency

    /// Creates an amount; any `Int64` is representable, range rules belong
    /// to the operation that uses the amount.
    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Zero in `currency`.
    public static func zero(_ currency: Currency) -> Money {
        Money(minorUnits: 0, currency: currency)
    }

    /// The sum of two amounts of one currency.
    /// - Throws: ``PolicyError/Code/currencyMismatch`` or ``PolicyError/Code/overflow``,
    ///   naming `field`.
    public func adding(_ other: Money, field: String = "amount") throws(PolicyError) -> Money {
        try requireSameCurrency(other, field: field)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        if overflow {
            throw PolicyError(.overflow, field: field, "\(self) + \(other) does not fit in 64 bits")
        }
        return Money(minorUnits: sum, currency: currency)
    }

    /// The difference of two amounts of one currency.
    /// - Throws: ``PolicyError/Code/currencyMismatch`` or ``PolicyError/Code/overflow``,
    ///   naming `field`.
    public func subtracting(_ other: Money, field: String = "amount") throws(PolicyError) -> Money {
        try requireSameCurrency(other, field: field)
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        if overflow {
            throw PolicyError(.overflow, field: field, "\(self) - \(other) does not fit in 64 bits")
        }
        return Money(minorUnits: difference, currency: currency)
    }

    /// The sum of stored line amounts, e.g. a settlement batch total. Lines are
    /// already rounded; a total is never re-rounded.
    public static func sum(
        _ amounts: some Sequence<Money>,
        currency: Currency,
        field: String = "amount"
    ) throws(PolicyError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts {
            total = try total.adding(amount, field: field)
        }
        return total
    }

    /// Throws unless `other` has this amount's currency.
    func requireSameCurrency(_ other: Money, field: String) throws(PolicyError) {
        if other.currency != currency {
            throw PolicyError(.currencyMismatch, field: field, "cannot combine \(currency) with \(other.currency)")
        }
    }

    /// Decimal text such as `"12.34 USD"`, `"1500 KRW"`, `"-0.005 KWD"`.
    public var description: String {
        let digits = currency.minorUnitDigits
        guard digits > 0 else { return "\(minorUnits) \(currency.code)" }
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let magnitude = minorUnits.magnitude
        let fraction = String(magnitude % divisor)
        let padding = String(repeating: "0", count: digits - fraction.count)
        let sign = minorUnits < 0 ? "-" : ""
        return "\(sign)\(magnitude / divisor).\(padding)\(fraction) \(currency.code)"
    }
}
