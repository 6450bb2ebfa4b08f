/// Resolves the commission policy of order items against a preloaded
/// ``PolicySet``: pure, synchronous, and independent of item order.
///
/// Precedence at the item's order time: product, then supplier, then tier
/// (only with `ENABLE_TIER_POLICY`), then DEFAULT. A linked policy that is
/// inactive or outside its window is skipped and the next level is tried.
/// With `ENABLE_SUPPLIER_POLICY` off only DEFAULT applies. When nothing
/// applies the item is priced in safe mode: commission 0, no policy.
public struct PolicyResolver: Sendable {
    /// The snapshot resolved against.
    public let policies: PolicySet
    /// The flags in force for this snapshot.
    public let flags: PolicyResolutionFlags

    /// Creates a resolver over one snapshot and one reading of the flags.
    public init(policies: PolicySet, flags: PolicyResolutionFlags) {
        self.policies = policies
        self.flags = flags
    }

    /// Prices one item.
    ///
    /// - Throws: ``PolicyError`` for an invalid item (see ``OrderItem/validate()``)
    ///   or a policy priced in another currency than the line
    ///   (see ``CommissionCalculator/commission(on:under:)``). Safe mode is
    ///   not an error: it is a ``Resolution`` with level ``ResolutionLevel/safeMode``.
    public func resolve(_ item: OrderItem) throws(PolicyError) -> Resolution {
        try item.validate()
        guard let (level, policy) = applicablePolicy(for: item) else {
            return Resolution(orderItemID: item.orderItemID, level: .safeMode,
                              commission: .zero(item.lineAmount.currency), appliedPolicy: nil)
        }
        let commission = try CommissionCalculator.commission(on: item.lineAmount, under: policy)
        return Resolution(orderItemID: item.orderItemID, level: level, commission: commission, appliedPolicy: policy)
    }

    /// Prices many items: one result per item, in input order. Each item is
    /// resolved on its own, so a result never depends on the other items or
    /// their order, and one bad item never fails the others.
    public func resolveBatch(_ items: [OrderItem]) -> [Result<Resolution, PolicyError>] {
        var results: [Result<Resolution, PolicyError>] = []
        results.reserveCapacity(items.count)
        for item in items {
            do throws(PolicyError) {
                results.append(.success(try resolve(item)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// The policy that applies to `item` at its order time and its level, or
    /// nil for safe mode. Does not validate the item.
    public func applicablePolicy(for item: OrderItem) -> (level: ResolutionLevel, policy: Policy)? {
        let instant = item.orderedAt
        if flags.supplierPolicyEnabled {
            if let policy = policies.applicable(.product, item.productID, at: instant) {
                return (.product, policy)
            }
            if let supplierID = item.supplierID,
               let policy = policies.applicable(.supplier, supplierID, at: instant) {
                return (.supplier, policy)
            }
            if flags.tierPolicyEnabled, let tier = item.sellerTier,
               let policy = policies.applicable(.tier, tier, at: instant) {
                return (.tier, policy)
            }
        }
        if let policy = policies.applicableDefault(at: instant) {
            return (.default, policy)
        }
        return nil
    }
}
