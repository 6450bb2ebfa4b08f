import GateCore

/// A seller and a product: the unit the gate authorizes and caches.
public struct AuthorizationPair: Sendable, Hashable, CustomStringConvertible {
    /// The seller.
    public var sellerId: String
    /// The product.
    public var productId: String

    /// Creates a pair.
    public init(sellerId: String, productId: String) {
        self.sellerId = sellerId
        self.productId = productId
    }

    /// The pair's Redis key (``AuthorizationCacheKey``).
    public var cacheKey: String { AuthorizationCacheKey.make(seller: sellerId, product: productId) }

    /// `<seller>/<product>`.
    public var description: String { "\(sellerId)/\(productId)" }
}
