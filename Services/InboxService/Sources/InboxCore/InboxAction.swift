/// Something an actor does to an authorization request. The raw values are
/// the `action` label of `seller_auth_requests_total`.
public enum InboxAction: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A seller asks to sell a product (creates a REQUESTED row).
    case request
    /// The requesting seller withdraws a pending request.
    case cancel
    /// The product's supplier grants the request.
    case approve
    /// The product's supplier refuses the request (reason required).
    case reject
    /// The product's supplier, or an operator, withdraws an approval (reason required).
    case revoke

    public var description: String { rawValue }
}
