/// How a policy computes a commission from a line amount.
public enum CommissionRule: Hashable, Sendable {
    /// `line amount × rate`, rounded half-up once per line.
    case percentage(CommissionRate)
    /// A fixed amount per line, in the line's currency.
    case fixed(Money)

    /// The rule's type, as stored and as carried in snapshots.
    public var type: CommissionType {
        switch self {
        case .percentage: .percentage
        case .fixed: .fixed
        }
    }
}

/// The type of a ``CommissionRule``. Raw values are the database spelling.
public enum CommissionType: String, Hashable, Sendable, CaseIterable {
    case percentage = "PERCENTAGE"
    case fixed = "FIXED"
}
