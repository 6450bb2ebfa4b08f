/// The parties of one existing request, as stored: whose request it is and
/// which supplier owns the product (denormalized at request time).
public struct RequestParties: Sendable, Hashable {
    /// The requesting seller.
    public let sellerId: String
    /// The product asked for.
    public let productId: String
    /// The product's supplier.
    public let supplierId: String

    /// The parties of a request.
    public init(sellerId: String, productId: String, supplierId: String) {
        self.sellerId = sellerId
        self.productId = productId
        self.supplierId = supplierId
    }
}

/// The requests one actor may apply one decision to, as a filter on the
/// request's parties (``ActorRule/decisionScope(_:by:)``).
///
/// The store puts it into the guarded write itself, so a decision checks
/// its actor in the same statement that changes the row (one round trip);
/// ``ActorRule/authorize(_:by:on:)`` stays the rule that words a refusal.
public enum DecisionScope: Sendable, Hashable {
    /// No request: the actor's role never takes this action.
    case nobody
    /// Requests of this seller.
    case seller(String)
    /// Requests for products of this supplier.
    case supplier(String)
    /// Every request (an operator revoking).
    case anyRequest

    /// Whether a request with `parties` is in scope.
    public func admits(_ parties: RequestParties) -> Bool {
        switch self {
        case .nobody: false
        case .seller(let id): parties.sellerId == id
        case .supplier(let id): parties.supplierId == id
        case .anyRequest: true
        }
    }
}

/// Who may do what in the inbox.
///
/// - request: a seller, for itself only.
/// - cancel: only the requesting seller.
/// - approve, reject: only the supplier that owns the product.
/// - revoke: the owning supplier, or an operator (withdrawing access is the
///   safe direction, so moderation may do it; granting is the supplier's alone).
/// - read a request: its seller, its supplier, or an operator.
/// - list an inbox or a seller's requests: that supplier or seller, or an operator.
///
/// Every refusal is `PERMISSION_DENIED` and names who tried what.
public enum ActorRule {
    /// May `actor` create a request on behalf of `sellerId`?
    public static func authorizeRequest(by actor: Actor, sellerId: String) throws(InboxError) {
        guard actor.role == .seller, actor.id == sellerId else {
            throw .permissionDenied("request: \(actor) may not request for seller \(sellerId)")
        }
    }

    /// May `actor` apply `action` to the request with these parties?
    /// (`.request` is judged by ``authorizeRequest(by:sellerId:)``.)
    public static func authorize(
        _ action: InboxAction,
        by actor: Actor,
        on parties: RequestParties
    ) throws(InboxError) {
        switch action {
        case .request:
            try authorizeRequest(by: actor, sellerId: parties.sellerId)
        case .cancel:
            guard actor.role == .seller, actor.id == parties.sellerId else {
                throw .permissionDenied(
                    "cancel: only the requesting seller \(parties.sellerId) may cancel; \(actor) may not"
                )
            }
        case .approve, .reject, .revoke:
            if action == .revoke, actor.role == .operator { return }
            guard actor.role == .supplier else {
                throw .permissionDenied("\(action): only the product's supplier may \(action); \(actor) may not")
            }
            guard actor.id == parties.supplierId else {
                throw .permissionDenied(
                    "\(action): supplier \(actor.id) does not own product \(parties.productId)"
                )
            }
        }
    }

    /// The requests `actor` may apply `action` to: exactly the parties for
    /// which ``authorize(_:by:on:)`` does not throw (unit tests check every
    /// role, action and party combination against it).
    public static func decisionScope(_ action: InboxAction, by actor: Actor) -> DecisionScope {
        switch (action, actor.role) {
        case (.request, .seller), (.cancel, .seller): .seller(actor.id)
        case (.approve, .supplier), (.reject, .supplier), (.revoke, .supplier): .supplier(actor.id)
        case (.revoke, .operator): .anyRequest
        default: .nobody
        }
    }

    /// May `actor` read the request with these parties (Get)?
    public static func authorizeView(by actor: Actor, of parties: RequestParties) throws(InboxError) {
        let allowed =
            switch actor.role {
            case .operator: true
            case .seller: actor.id == parties.sellerId
            case .supplier: actor.id == parties.supplierId
            }
        guard allowed else {
            throw .permissionDenied("get: \(actor) is not a party to this request")
        }
    }

    /// May `actor` list `owner`'s requests (ListInbox, ListMine, InboxSize)?
    public static func authorizeListing(of owner: InboxListing.Owner, by actor: Actor) throws(InboxError) {
        let allowed =
            switch (owner, actor.role) {
            case (_, .operator): true
            case (.supplier(let id), .supplier): actor.id == id
            case (.seller(let id), .seller): actor.id == id
            default: false
            }
        guard allowed else {
            throw .permissionDenied("list: \(actor) may not read \(owner)'s requests")
        }
    }
}
