/// The runtime flags that shape resolution (from the seed's Phase 8).
public struct PolicyResolutionFlags: Hashable, Sendable {
    /// `ENABLE_SUPPLIER_POLICY`. Off is rollback level 1: only DEFAULT
    /// policies apply, the product, supplier and tier levels are skipped
    /// (their links are kept).
    public var supplierPolicyEnabled: Bool
    /// `ENABLE_TIER_POLICY`. Off skips the tier level. Has no effect while
    /// ``supplierPolicyEnabled`` is off.
    public var tierPolicyEnabled: Bool

    /// Creates flags; there are deliberately no defaults here, the flag store owns them.
    public init(supplierPolicyEnabled: Bool, tierPolicyEnabled: Bool) {
        self.supplierPolicyEnabled = supplierPolicyEnabled
        self.tierPolicyEnabled = tierPolicyEnabled
    }
}
