public import PolicyCore
public import ServiceKit

/// The policy service's runtime flags (the seed's Phase 8 environment
/// variables), read from the environment at start and overridable by an
/// operator through `flags.v1.FlagService/Set` without a restart.
public struct PolicyServiceFlags: Sendable, Hashable {
    /// `ENABLE_SUPPLIER_POLICY` and `ENABLE_TIER_POLICY`.
    public var resolution: PolicyResolutionFlags
    /// `POLICY_RESOLUTION_TIMEOUT_MS`: the longest a resolution call may take
    /// (the call's own deadline applies when it is shorter).
    public var resolutionTimeoutMilliseconds: Int

    /// Creates flags.
    public init(resolution: PolicyResolutionFlags, resolutionTimeoutMilliseconds: Int) {
        self.resolution = resolution
        self.resolutionTimeoutMilliseconds = resolutionTimeoutMilliseconds
    }

    /// Environment variable names.
    public enum Name {
        public static let supplierPolicy = "ENABLE_SUPPLIER_POLICY"
        public static let tierPolicy = "ENABLE_TIER_POLICY"
        public static let resolutionTimeout = "POLICY_RESOLUTION_TIMEOUT_MS"
    }

    /// The flag definitions handed to `RuntimeFlags`.
    public static let definitions: [FlagDefinition] = [
        .bool(Name.supplierPolicy, "Product, supplier and tier policies apply; false = DEFAULT policy only (rollback level 1)."),
        .bool(Name.tierPolicy, "Seller-tier policies apply (between supplier and DEFAULT)."),
        .int(Name.resolutionTimeout, "Longest a resolution call may take, in milliseconds.", in: 1...60_000),
    ]

    /// Defaults when neither the environment nor an operator set a value.
    public static let defaults: [String: String] = [
        Name.supplierPolicy: "true",
        Name.tierPolicy: "false",
        Name.resolutionTimeout: "100",
    ]

    /// Reads the typed flags from validated flag values.
    public init(_ values: FlagValues) {
        let timeout = values.int(Name.resolutionTimeout)
        self.init(
            resolution: PolicyResolutionFlags(
                supplierPolicyEnabled: values.bool(Name.supplierPolicy),
                tierPolicyEnabled: values.bool(Name.tierPolicy)
            ),
            // RuntimeFlags validated the range; 100 only guards a value that failed to parse.
            resolutionTimeoutMilliseconds: (1...60_000).contains(timeout) ? timeout : 100
        )
    }
}
