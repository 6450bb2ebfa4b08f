import PolicyCore
import Proto
import Wire

/// Why one item of a batch could not be priced: the wire status of that item,
/// a message naming the item and field (`items[3].line_amount: …`), and the
/// failure-metric reason.
struct ItemFailure: Error, Sendable {
    var code: StatusCode
    var message: String
    var reason: ResolutionFailureReason

    /// The failure as a call error (RecordCommissions fails as a whole).
    var rpcError: RPCError { RPCError(code, message) }
}

/// What the catalog says about a batch's products, suppliers and sellers.
struct CatalogLookup: Sendable {
    /// Product id → its current supplier.
    var productSuppliers: [String: String] = [:]
    /// Supplier ids given by callers that exist.
    var knownSuppliers: Set<String> = []
    /// Seller id → tier.
    var sellerTiers: [String: String] = [:]
    /// The links of the batch's products (when product policies are enabled).
    var productLinks: [PolicyLink] = []
    /// `policy.change_counter`, read after the product links.
    var policyChangeCounter: Int64 = 0
}

/// A request's items turned into PolicyCore items, each either ready to
/// resolve or carrying its own failure. Items are checked locally first (no
/// query for an item that cannot be priced), then completed from one catalog
/// lookup for the whole batch.
struct PreparedBatch: Sendable {
    /// The most items one call may carry (the contract's limit).
    static let maximumItems = 10_000

    /// How items are named in messages: `items[i]` in a batch, `item` for Resolve.
    enum Naming: Sendable {
        case batch
        case single
    }

    /// How this batch's items are named in messages.
    let naming: Naming
    /// The items ready to resolve, by request index.
    private(set) var items: [OrderItem?]
    /// The failures, by request index.
    private(set) var failures: [ItemFailure?]
    /// The seller id of each item as given ("" = none), recorded with commission lines.
    let sellerIDs: [String]

    /// Checks request-level rules: 1...10,000 items with unique `order_item_id`s.
    static func checkShape(_ items: [PolicyV1.OrderItem], field: String = "items") throws(RPCError) {
        if items.isEmpty {
            throw .invalidArgument(field: field, "at least one item is required")
        }
        if items.count > maximumItems {
            throw .invalidArgument(field: field, "at most \(maximumItems) items per call, got \(items.count)")
        }
        var firstIndex: [String: Int] = [:]
        firstIndex.reserveCapacity(items.count)
        for (index, item) in items.enumerated() where !item.orderItemId.isEmpty {
            if let earlier = firstIndex.updateValue(index, forKey: item.orderItemId) {
                throw .invalidArgument(
                    field: "\(field)[\(index)].order_item_id",
                    "\"\(item.orderItemId.prefix(128))\" repeats \(field)[\(earlier)]; order_item_id values must be unique"
                )
            }
        }
    }

    /// Validates every item on its own (ids, currency, amount, order time).
    init(_ requestItems: [PolicyV1.OrderItem], naming: Naming) {
        self.naming = naming
        var items: [OrderItem?] = []
        var failures: [ItemFailure?] = []
        items.reserveCapacity(requestItems.count)
        failures.reserveCapacity(requestItems.count)
        for (index, request) in requestItems.enumerated() {
            do throws(PolicyError) {
                items.append(try Self.coreItem(request))
                failures.append(nil)
            } catch {
                items.append(nil)
                failures.append(ItemFailure(code: .invalidArgument, message: "\(Self.label(index, naming)).\(error.message)", reason: .invalidInput))
            }
        }
        self.items = items
        self.failures = failures
        self.sellerIDs = requestItems.map(\.sellerId)
    }

    /// The item's name in messages, built only when a message needs it.
    func label(_ index: Int) -> String {
        Self.label(index, naming)
    }

    /// How item `index` is named in messages under `naming`.
    static func label(_ index: Int, _ naming: Naming) -> String {
        switch naming {
        case .batch: "items[\(index)]"
        case .single: "item"
        }
    }

    /// The ids the catalog must be asked about.
    var catalogQuestions: (products: Set<String>, givenSuppliers: Set<String>, sellers: Set<String>) {
        var products = Set<String>()
        var suppliers = Set<String>()
        var sellers = Set<String>()
        // Sized once: growing a set rehashes every id already in it.
        products.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let item else { continue }
            products.insert(item.productID)
            if let supplier = item.supplierID { suppliers.insert(supplier) }
            if item.sellerTier == nil, !sellerIDs[index].isEmpty { sellers.insert(sellerIDs[index]) }
        }
        return (products, suppliers, sellers)
    }

    /// Fills each item's supplier and tier from the catalog, failing items
    /// that name an unknown product, supplier or seller (NOT_FOUND).
    ///
    /// A supplier given by the caller wins over the catalog's (it is the
    /// supplier at order time), but must exist.
    mutating func complete(with catalog: CatalogLookup) {
        for index in items.indices {
            guard var item = items[index] else { continue }
            guard let catalogSupplier = catalog.productSuppliers[item.productID] else {
                fail(index, .notFound, "product_id: unknown product \"\(item.productID)\"")
                continue
            }
            if let given = item.supplierID {
                guard catalog.knownSuppliers.contains(given) else {
                    fail(index, .notFound, "supplier_id: unknown supplier \"\(given)\"")
                    continue
                }
            } else {
                item.supplierID = catalogSupplier
            }
            if item.sellerTier == nil, !sellerIDs[index].isEmpty {
                guard let tier = catalog.sellerTiers[sellerIDs[index]] else {
                    fail(index, .notFound, "seller_id: unknown seller \"\(sellerIDs[index])\"")
                    continue
                }
                item.sellerTier = tier
            }
            items[index] = item
        }
    }

    /// Marks one item failed.
    mutating func fail(_ index: Int, _ code: StatusCode, _ detail: String, reason: ResolutionFailureReason = .invalidInput) {
        items[index] = nil
        failures[index] = ItemFailure(code: code, message: "\(label(index)).\(detail)", reason: reason)
    }

    /// The first failure in request order (RecordCommissions is all or nothing).
    var firstFailure: ItemFailure? {
        failures.lazy.compactMap { $0 }.first
    }

    private static func coreItem(_ request: PolicyV1.OrderItem) throws(PolicyError) -> OrderItem {
        if request.sellerId.utf8.count > Policy.maximumIDLength {
            throw PolicyError(.outOfRange, field: "seller_id", "at most \(Policy.maximumIDLength) bytes, got \(request.sellerId.utf8.count)")
        }
        let currency = try Currency(code: request.currency)
        let item = OrderItem(
            orderItemID: request.orderItemId,
            productID: request.productId,
            supplierID: request.supplierId.isEmpty ? nil : request.supplierId,
            sellerTier: request.sellerTier.isEmpty ? nil : request.sellerTier,
            lineAmount: Money(minorUnits: request.lineAmount, currency: currency),
            orderedAt: request.orderTimeUnixMicros
        )
        try item.validate()
        return item
    }
}

extension PreparedBatch {
    /// Leaves an item out of pricing without failing it (a line already recorded).
    mutating func skip(_ index: Int) {
        items[index] = nil
    }
}
