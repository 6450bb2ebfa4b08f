/// One order line to price, with everything resolution needs already looked
/// up (the service fills ``supplierID`` and ``sellerTier`` from the catalog
/// when the caller leaves them empty).
public struct OrderItem: Hashable, Sendable {
    /// The order item's id; the idempotency key of recorded commission lines.
    public var orderItemID: String
    public var productID: String
    /// The product's supplier at order time; nil skips the supplier level.
    public var supplierID: String?
    /// The seller's tier at order time (e.g. `GOLD`); nil skips the tier level.
    public var sellerTier: String?
    /// The line amount: 1...``Money/maximumAmount`` minor units.
    public var lineAmount: Money
    /// The reference time of resolution, unix microseconds (UTC): the order
    /// time, never "now", so a re-run prices the line the same way.
    public var orderedAt: Int64

    /// Creates an item; ``validate()`` checks it (the resolver does so first).
    public init(
        orderItemID: String,
        productID: String,
        supplierID: String? = nil,
        sellerTier: String? = nil,
        lineAmount: Money,
        orderedAt: Int64
    ) {
        self.orderItemID = orderItemID
        self.productID = productID
        self.supplierID = supplierID
        self.sellerTier = sellerTier
        self.lineAmount = lineAmount
        self.orderedAt = orderedAt
    }

    /// Refuses a missing or over-long id, a line amount outside
    /// 1...``Money/maximumAmount`` and a missing order time, naming the field.
    public func validate() throws(PolicyError) {
        try Policy.checkIdentifier(orderItemID, field: "order_item_id")
        try Policy.checkIdentifier(productID, field: "product_id")
        if let supplierID {
            try Policy.checkIdentifier(supplierID, field: "supplier_id")
        }
        if let sellerTier {
            try Policy.checkIdentifier(sellerTier, field: "seller_tier")
        }
        try CommissionCalculator.checkLineAmount(lineAmount)
        if orderedAt <= 0 {
            throw PolicyError(.missingField, field: "order_time_unix_micros", "required (> 0), got \(orderedAt)")
        }
    }
}
