/// One validated item to check: the pure half of the Check and CheckBatch
/// handlers, so every field rule lives next to the decision rules.
public struct GateCheck: Sendable, Hashable {
    /// The most items one CheckBatch may carry (a large cart, with room).
    public static let maximumBatchSize = 500
    /// The longest seller or product id, in characters (the catalog's bound).
    public static let maximumIdLength = 128

    /// The seller.
    public var sellerId: String
    /// The product.
    public var productId: String
    /// The stage.
    public var stage: GateStage
    /// SETTLEMENT only: when the order was placed; nil judges now.
    public var orderTimeMicros: Int64?

    /// The cache key of the pair.
    public var cacheKey: String { AuthorizationCacheKey.make(seller: sellerId, product: productId) }

    /// Validates one item as it arrived on the wire.
    ///
    /// - Parameters:
    ///   - stage: nil when the wire said `STAGE_UNSPECIFIED` (or a number this
    ///     build does not know).
    ///   - orderTimeMicros: the wire value; 0 means none.
    ///   - fieldPrefix: prepended to field names in errors, e.g. `items[3].`;
    ///     built only when an error is thrown (a batch validates every item).
    /// - Throws: `INVALID_ARGUMENT` naming the field: an empty, overlong or
    ///   control-character id, a missing stage, a negative order time, or an
    ///   order time on a stage other than SETTLEMENT.
    public static func validated(
        sellerId: String,
        productId: String,
        stage: GateStage?,
        orderTimeMicros: Int64,
        fieldPrefix: @autoclosure () -> String = ""
    ) throws(GateRequestError) -> GateCheck {
        try validateId(sellerId, field: { fieldPrefix() + "seller_id" })
        try validateId(productId, field: { fieldPrefix() + "product_id" })
        guard let stage else {
            throw .invalidArgument(field: fieldPrefix() + "stage", "required: CART, ORDER or SETTLEMENT")
        }
        guard orderTimeMicros >= 0 else {
            throw .invalidArgument(field: fieldPrefix() + "order_time_unix_micros", "must not be negative")
        }
        guard orderTimeMicros == 0 || stage == .settlement else {
            throw .invalidArgument(field: fieldPrefix() + "order_time_unix_micros", "allowed only with stage SETTLEMENT")
        }
        return GateCheck(
            sellerId: sellerId, productId: productId, stage: stage,
            orderTimeMicros: orderTimeMicros == 0 ? nil : orderTimeMicros)
    }

    /// Refuses a batch with no items or more than ``maximumBatchSize``.
    public static func validateBatchSize(_ count: Int) throws(GateRequestError) {
        guard count > 0 else { throw .invalidArgument(field: "items", "must not be empty") }
        guard count <= maximumBatchSize else {
            throw .invalidArgument(field: "items", "at most \(maximumBatchSize) items, got \(count)")
        }
    }

    private static func validateId(_ id: String, field: () -> String) throws(GateRequestError) {
        guard !id.isEmpty else { throw .invalidArgument(field: field(), "required") }
        // UTF-8 length first: cheap, and bounds the character count from above.
        if id.utf8.count > maximumIdLength, id.count > maximumIdLength {
            throw .invalidArgument(field: field(), "longer than \(maximumIdLength) characters")
        }
        // Printable ASCII (every UUID and catalog id in practice) has no
        // control character: skip the Unicode property lookups on the hot path.
        if id.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidArgument(field: field(), "contains control characters")
        }
    }
}
