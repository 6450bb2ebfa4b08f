/// Assigns every product a stable bucket in `0..<100` for percentage rollouts.
///
/// Without a salt this is the seed's formula byte for byte, so the gate
/// enforces the same products the platform did:
///
/// ```typescript
/// const hash = crypto.createHash('md5').update(productId).digest('hex');
/// const hashInt = parseInt(hash.substring(0, 8), 16);
/// return (hashInt % 100) < rolloutPercentage;
/// ```
///
/// that is: the MD5 of the product id's UTF-8 bytes, its first 8 hex digits
/// (the first four digest bytes, big-endian) as an unsigned 32-bit integer,
/// modulo 100. A product is in a rollout of `p` percent when its bucket is
/// below `p`, so raising the percentage only ever adds products.
///
/// Every flag using the unsalted formula picks the same products first. A
/// flag that should pick others sets a salt: the hashed text becomes
/// `salt + ":" + productId` (an empty salt counts as no salt). Changing the
/// salt of a running rollout reshuffles which products it covers.
public struct RolloutBucket: Sendable, Hashable {
    /// The number of buckets: percentages address them one to one.
    public static let count = 100

    /// The seed's formula, without a salt.
    public static let unsalted = RolloutBucket(salt: nil)

    /// The salt prefixed to product ids before hashing; nil for the seed's formula.
    public let salt: String?

    /// Creates a bucketing; an empty `salt` means no salt.
    public init(salt: String? = nil) {
        self.salt = salt?.isEmpty == false ? salt : nil
    }

    /// The product's bucket, in `0..<100`.
    public func bucket(of productId: String) -> Int {
        let digest = if let salt { MD5.hash(salt + ":" + productId) } else { MD5.hash(productId) }
        return Int(digest.leadingUInt32 % UInt32(Self.count))
    }

    /// True when a rollout of `percentage` covers the product (its bucket is
    /// below the percentage). 100 covers every product, 0 none.
    public func includes(_ productId: String, in percentage: RolloutPercentage) -> Bool {
        // Skip the hash at the ends: the answer does not depend on the bucket.
        if percentage == .all { return true }
        if percentage == .none { return false }
        return bucket(of: productId) < percentage.value
    }
}
