/// The gate's rollout: the mode plus the bucketing used by percentage
/// rollouts. Read from the environment at start and, later, from runtime
/// flags with the same names and spellings.
///
/// ## Variables
/// - `ENABLE_SELLER_AUTHORIZATION`: `true`/`false` (also `1`/`0`), default
///   `false`. The kill switch: `false` means mode OFF whatever the other
///   variables say, and the others are then not even read, so a rollback is
///   one variable and cannot be blocked by a bad value elsewhere. SHADOW
///   therefore needs `true` (unlike the seed's phase 0): the inbox answers
///   only when the feature is enabled, and shadow numbers are meaningful
///   only once sellers can request authorizations.
/// - `SELLER_AUTH_MODE` (our addition): `off`, `shadow`, `canary`,
///   `percentage` or `full`. Names the mode explicitly; `canary` requires a
///   non-empty `PHASE9_CANARY_PRODUCTS` and `percentage` requires
///   `PHASE9_ROLLOUT_PERCENTAGE`.
/// - `PHASE9_CANARY_PRODUCTS`: comma-separated product ids; blanks around ids
///   and empty entries are ignored.
/// - `PHASE9_ROLLOUT_PERCENTAGE`: an integer from 0 to 100.
/// - `SELLER_AUTH_ROLLOUT_SALT`: optional salt for ``RolloutBucket``; empty
///   or absent keeps the seed's formula.
///
/// Values are trimmed of surrounding blanks (the salt excepted, which is
/// used verbatim) and mode names and booleans are case-insensitive. With
/// the feature enabled, every variable present is validated even when the
/// mode does not use it, so a typo is found before it matters.
///
/// ## Without `SELLER_AUTH_MODE`
/// The seed's phases, read from the variables it used:
/// 1. a non-empty canary list and a percentage together are refused as
///    ambiguous (set `SELLER_AUTH_MODE`);
/// 2. a non-empty canary list → CANARY (phase 1);
/// 3. a percentage below 100 → PERCENTAGE (phase 2); exactly 100 → FULL (phase 3);
/// 4. nothing else → FULL.
public struct RolloutConfig: Sendable, Hashable {
    /// The environment variable names this configuration reads.
    public enum Variable {
        /// The kill switch (seed).
        public static let enabled = "ENABLE_SELLER_AUTHORIZATION"
        /// The explicit mode (our addition).
        public static let mode = "SELLER_AUTH_MODE"
        /// The canary product list (seed).
        public static let canaryProducts = "PHASE9_CANARY_PRODUCTS"
        /// The rollout percentage (seed).
        public static let rolloutPercentage = "PHASE9_ROLLOUT_PERCENTAGE"
        /// The bucketing salt (our addition).
        public static let rolloutSalt = "SELLER_AUTH_ROLLOUT_SALT"

        /// Every name above, for flag listings and start-up logs.
        public static let all = [enabled, mode, canaryProducts, rolloutPercentage, rolloutSalt]
    }

    /// The longest product id accepted in the canary list (the catalog's bound).
    public static let maximumProductIdLength = 128

    /// What is enforced.
    public var mode: RolloutMode
    /// How percentage rollouts pick products.
    public var bucket: RolloutBucket

    /// The kill switch position: mode OFF, unsalted.
    public static let off = RolloutConfig(mode: .off)

    /// Creates a configuration directly (tests, runtime flags already parsed).
    public init(mode: RolloutMode, bucket: RolloutBucket = .unsalted) {
        self.mode = mode
        self.bucket = bucket
    }

    /// What the rollout does for `productId`. Costs one MD5 in PERCENTAGE
    /// mode (strictly between 0 and 100), a set lookup in CANARY mode,
    /// nothing otherwise.
    public func coverage(of productId: String) -> RolloutCoverage {
        switch mode {
        case .off: .featureOff
        case .shadow: .shadow
        case .full: .enforced
        case .canary(let products): products.contains(productId) ? .enforced : .outsideRollout
        case .percentage(let percentage): bucket.includes(productId, in: percentage) ? .enforced : .outsideRollout
        }
    }

    /// True when a check of `productId` needs the pair's authorization state;
    /// false lets the service answer without touching Redis or PostgreSQL.
    public func needsLookup(productId: String) -> Bool {
        coverage(of: productId).needsLookup
    }

    /// Parses the rollout from environment-style variables (see the type's
    /// documentation for the rules).
    ///
    /// - Throws: ``GateConfigurationError`` naming the variable at fault, e.g.
    ///   `PHASE9_ROLLOUT_PERCENTAGE: must be an integer from 0 to 100, got "140"`.
    public static func fromEnvironment(_ environment: [String: String]) throws(GateConfigurationError) -> RolloutConfig {
        guard try parseEnabled(environment[Variable.enabled]) else { return .off }

        let explicitMode = try parseModeName(environment[Variable.mode])
        let canary = try parseCanaryProducts(environment[Variable.canaryProducts])
        let percentage = try parsePercentage(environment[Variable.rolloutPercentage])
        let bucket = RolloutBucket(salt: environment[Variable.rolloutSalt])

        let mode: RolloutMode
        switch explicitMode {
        case "off":
            mode = .off
        case "shadow":
            mode = .shadow
        case "full":
            mode = .full
        case "canary":
            guard !canary.isEmpty else {
                throw GateConfigurationError(
                    .missingValue, variable: Variable.canaryProducts,
                    "required (at least one product id) when \(Variable.mode)=canary")
            }
            mode = .canary(canary)
        case "percentage":
            guard let percentage else {
                throw GateConfigurationError(
                    .missingValue, variable: Variable.rolloutPercentage,
                    "required (an integer from 0 to 100) when \(Variable.mode)=percentage")
            }
            mode = .percentage(percentage)
        default:
            // No explicit mode: the seed's phases.
            switch (canary.isEmpty, percentage) {
            case (false, .some):
                throw GateConfigurationError(
                    .conflict, variable: Variable.mode,
                    "required when both \(Variable.canaryProducts) and \(Variable.rolloutPercentage) are set: choose canary or percentage")
            case (false, nil):
                mode = .canary(canary)
            case (true, .some(let percentage)):
                mode = percentage == .all ? .full : .percentage(percentage)
            case (true, nil):
                mode = .full
            }
        }
        return RolloutConfig(mode: mode, bucket: bucket)
    }

    // MARK: - Parsing single variables

    static func parseEnabled(_ raw: String?) throws(GateConfigurationError) -> Bool {
        let value = trimmed(raw).lowercased()
        switch value {
        case "", "false", "0": return false
        case "true", "1": return true
        default:
            throw GateConfigurationError(
                .invalidValue, variable: Variable.enabled, "must be true or false, got \(quoted(raw))")
        }
    }

    /// Returns the lowercased mode name, or nil when absent or empty.
    static func parseModeName(_ raw: String?) throws(GateConfigurationError) -> String? {
        let value = trimmed(raw).lowercased()
        switch value {
        case "": return nil
        case "off", "shadow", "canary", "percentage", "full": return value
        default:
            throw GateConfigurationError(
                .invalidValue, variable: Variable.mode,
                "must be one of off, shadow, canary, percentage, full, got \(quoted(raw))")
        }
    }

    static func parseCanaryProducts(_ raw: String?) throws(GateConfigurationError) -> Set<String> {
        var products = Set<String>()
        for entry in trimmed(raw).split(separator: ",", omittingEmptySubsequences: true) {
            let product = trimmed(String(entry))
            if product.isEmpty { continue }
            guard product.count <= maximumProductIdLength else {
                throw GateConfigurationError(
                    .invalidValue, variable: Variable.canaryProducts,
                    "product id longer than \(maximumProductIdLength) characters: \(quoted(product))")
            }
            products.insert(product)
        }
        return products
    }

    static func parsePercentage(_ raw: String?) throws(GateConfigurationError) -> RolloutPercentage? {
        let value = trimmed(raw)
        if value.isEmpty { return nil }
        // Digits only: refuses "+5", "-1", "50.5" and "50%" that Int() or
        // the seed's parseInt would bend into something else.
        guard value.utf8.count <= 3, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(value), let percentage = RolloutPercentage(number)
        else {
            throw GateConfigurationError(
                .invalidValue, variable: Variable.rolloutPercentage,
                "must be an integer from 0 to 100, got \(quoted(raw))")
        }
        return percentage
    }

    static func trimmed(_ raw: String?) -> String {
        guard let raw else { return "" }
        let scalars = raw.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    static func quoted(_ raw: String?) -> String {
        "\"\(raw ?? "")\""
    }
}
