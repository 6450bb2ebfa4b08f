/// One listing query: whose requests (a supplier's inbox or a seller's own),
/// with which filters. A page token is only valid for the listing that
/// issued it (see ``InboxCursor``), so the listing has a ``fingerprint``.
public struct InboxListing: Sendable, Hashable {
    /// Whose requests are listed.
    public enum Owner: Sendable, Hashable, CustomStringConvertible {
        /// A supplier's inbox (ListInbox).
        case supplier(String)
        /// A seller's own requests (ListMine).
        case seller(String)

        public var description: String {
            switch self {
            case .supplier(let id): "supplier \(id)"
            case .seller(let id): "seller \(id)"
            }
        }
    }

    /// Whose requests.
    public let owner: Owner
    /// Only these statuses, in canonical order without duplicates; empty means all.
    public let statuses: [AuthorizationStatus]
    /// Only this product, or every product when `nil`.
    public let productId: String?

    /// A validated listing. An empty `productId` means "every product".
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `supplier_id`, `seller_id` or `product_id`.
    public init(owner: Owner, statuses: [AuthorizationStatus], productId: String?) throws(InboxError) {
        switch owner {
        case .supplier(let id): try CatalogID.validate(id, field: "supplier_id")
        case .seller(let id): try CatalogID.validate(id, field: "seller_id")
        }
        if let productId, !productId.isEmpty {
            try CatalogID.validate(productId, field: "product_id")
            self.productId = productId
        } else {
            self.productId = nil
        }
        self.owner = owner
        self.statuses = Set(statuses).sorted { $0.ordinal < $1.ordinal }
    }

    /// A 64-bit FNV-1a hash of the listing's canonical form: binds a page
    /// token to the query that issued it. Stable across processes and
    /// releases (no `Hasher` seed), because tokens outlive both.
    public var fingerprint: UInt64 {
        var canonical: [UInt8] = []
        func append(_ text: String) {
            canonical.append(contentsOf: text.utf8)
            canonical.append(0)
        }
        switch owner {
        case .supplier(let id):
            append("supplier")
            append(id)
        case .seller(let id):
            append("seller")
            append(id)
        }
        append(statuses.map(\.rawValue).joined(separator: ","))
        append(productId ?? "")
        return FNV1a.hash64(canonical)
    }
}
