/// The scope a policy is written for. Raw values are the database spelling.
public enum PolicyKind: String, Hashable, Sendable, CaseIterable {
    /// Linked to products; the most specific level.
    case product = "PRODUCT"
    /// Linked to suppliers.
    case supplier = "SUPPLIER"
    /// Linked to seller tiers (e.g. `GOLD`).
    case tier = "TIER"
    /// Never linked: applies to every item when nothing more specific does.
    case `default` = "DEFAULT"

    /// The resolution level a policy of this kind produces.
    public var resolutionLevel: ResolutionLevel {
        switch self {
        case .product: .product
        case .supplier: .supplier
        case .tier: .tier
        case .default: .default
        }
    }
}

/// Whether a policy may apply at all. Raw values are the database spelling.
public enum PolicyStatus: String, Hashable, Sendable, CaseIterable {
    case active
    case inactive
}
