/// The state of one authorization request row.
///
/// REQUESTED → APPROVED | REJECTED | CANCELLED, and APPROVED → REVOKED (see
/// ``AuthorizationTransition``). The raw values are the spellings stored in
/// PostgreSQL (`inbox.authorization_requests.status`) and written into the
/// gate's cache entries.
public enum AuthorizationStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Waiting for the supplier's decision.
    case requested = "REQUESTED"
    /// The seller may sell the product.
    case approved = "APPROVED"
    /// The supplier said no; starts the reject cooldown for the pair.
    case rejected = "REJECTED"
    /// The seller withdrew the request before a decision.
    case cancelled = "CANCELLED"
    /// The supplier (or an operator) withdrew an approval.
    case revoked = "REVOKED"

    /// True for states that never change again. A new request for the same
    /// seller and product is a new row.
    public var isTerminal: Bool {
        switch self {
        case .requested, .approved: false
        case .rejected, .cancelled, .revoked: true
        }
    }

    /// True for the states that occupy the pair's single open slot (the
    /// partial unique index `WHERE status IN ('REQUESTED','APPROVED')`) and
    /// count toward `SELLER_PRODUCT_LIMIT` (see ``SellerLimitPolicy``).
    public var isOpen: Bool { !isTerminal }

    /// The first component of the listing order: pending requests (0) before
    /// everything else (1). Stored as `status_rank` in PostgreSQL so the
    /// listing index can serve the order directly.
    public var inboxRank: Int { self == .requested ? 0 : 1 }

    public var description: String { rawValue }

    /// The position in declaration order; gives status sets one canonical order.
    var ordinal: Int {
        switch self {
        case .requested: 0
        case .approved: 1
        case .rejected: 2
        case .cancelled: 3
        case .revoked: 4
        }
    }
}
