/// How far the gate enforces seller authorization (the seed's Phase 9
/// phases 0 to 3 plus the kill switch).
public enum RolloutMode: Sendable, Hashable, CustomStringConvertible {
    /// The kill switch: nothing is enforced and nothing is looked up.
    case off
    /// The real decision is computed, counted and logged; every item is allowed.
    case shadow
    /// Enforced for the listed product ids only; other products are allowed
    /// without a lookup.
    case canary(Set<String>)
    /// Enforced where the product's bucket (``RolloutBucket``) is below the
    /// percentage; other products are allowed without a lookup.
    case percentage(RolloutPercentage)
    /// Enforced for every product.
    case full

    /// The spelling used by `SELLER_AUTH_MODE`, logs and metrics:
    /// `off`, `shadow`, `canary`, `percentage` or `full`.
    public var name: String {
        switch self {
        case .off: "off"
        case .shadow: "shadow"
        case .canary: "canary"
        case .percentage: "percentage"
        case .full: "full"
        }
    }

    /// The name plus the parameter: `canary(3 products)`, `percentage(25%)`.
    public var description: String {
        switch self {
        case .off, .shadow, .full: name
        case .canary(let products): "canary(\(products.count) products)"
        case .percentage(let percentage): "percentage(\(percentage))"
        }
    }
}
