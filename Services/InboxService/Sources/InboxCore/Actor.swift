/// The wire credential a call came through (`Wire.Caller`'s raw value).
/// Kept as an open string type so the core needs no dependency on the wire.
public struct CallerKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The supplier portal backend; acts for the seller or supplier it names.
    public static let supplierPortal = CallerKind(rawValue: "supplier-portal")
    /// Operators: read everything, may revoke.
    public static let `operator` = CallerKind(rawValue: "operator")

    public var description: String { rawValue }
}

/// The part an actor plays in the inbox. Raw values are stored in
/// `inbox.audit_events.actor_role`.
public enum ActorRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A seller asking for, or cancelling, its own requests.
    case seller
    /// A supplier deciding on requests for its own products.
    case supplier
    /// A platform operator (moderation: revoke only).
    case `operator`

    /// The wire field that carries this role's actor id.
    public var idField: String {
        switch self {
        case .seller: "seller_id"
        case .supplier: "supplier_id"
        case .operator: "operator_id"
        }
    }

    public var description: String { rawValue }
}

/// Who is acting: the authenticated credential plus the role and id the call
/// names. The supplier portal authenticates people itself and passes the
/// seller or supplier id it acts for; the inbox trusts that id only because
/// the credential is the portal's.
public struct Actor: Sendable, Hashable, CustomStringConvertible {
    /// The credential the call came through.
    public let caller: CallerKind
    /// The role played.
    public let role: ActorRole
    /// The seller, supplier or operator id (validated like a catalog id).
    public let id: String

    /// An actor, refused when the credential may not play the role.
    ///
    /// `supplier-portal` plays seller or supplier; `operator` plays operator;
    /// every other credential (checkout, settlement, unknown) plays nothing.
    ///
    /// - Throws: `PERMISSION_DENIED` for a credential/role mismatch;
    ///   `INVALID_ARGUMENT` naming the role's id field for a malformed id.
    public init(caller: CallerKind, role: ActorRole, id: String) throws(InboxError) {
        let allowed: Set<ActorRole> =
            switch caller {
            case .supplierPortal: [.seller, .supplier]
            case .operator: [.operator]
            default: []
            }
        guard allowed.contains(role) else {
            throw .permissionDenied("caller \(caller) may not act as \(role)")
        }
        self.caller = caller
        self.role = role
        self.id = try CatalogID.validate(id, field: role.idField)
    }

    public var description: String { "\(role) \(id) via \(caller)" }
}
