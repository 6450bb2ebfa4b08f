public import GateCore
public import ServiceKit

/// The gate's runtime flags: the seed's rollout variables, our explicit mode
/// and salt, and the cache TTLs. Same names and spellings as the environment.
///
/// Each flag is validated on its own when it is set (a percentage of 140 is
/// refused with INVALID_ARGUMENT by the flag Set RPC); the combination is
/// judged when the values change (``AuthorizationGate/apply(flags:)``), and
/// an invalid combination (`SELLER_AUTH_MODE=canary` with no canary list)
/// keeps the last good configuration and is logged.
public enum GateFlags {
    /// Every flag name, in the order they are listed.
    public static let names = RolloutConfig.Variable.all + [CacheTTL.Variable.allowSeconds, CacheTTL.Variable.denySeconds]

    /// The definitions for ``RuntimeFlags``.
    public static let definitions: [FlagDefinition] = [
        FlagDefinition(
            name: RolloutConfig.Variable.enabled,
            description: "Kill switch: false turns the gate OFF (no enforcement, no lookups)"
        ) { raw throws(ConfigurationError) in
            let config = try rollout([RolloutConfig.Variable.enabled: raw], flag: RolloutConfig.Variable.enabled)
            return config.mode == .off ? "false" : "true"
        },
        FlagDefinition(
            name: RolloutConfig.Variable.mode,
            description: "off, shadow, canary, percentage or full; empty derives the mode from the seed's variables"
        ) { raw throws(ConfigurationError) in
            let value = RolloutConfig.Variable.self
            if raw.allSatisfy(\.isWhitespace) { return "" }
            // A canary list and a percentage are supplied so that only the mode name is judged.
            let config = try rollout(
                [value.enabled: "true", value.mode: raw, value.canaryProducts: "p", value.rolloutPercentage: "0"], flag: value.mode)
            return config.mode.name
        },
        FlagDefinition(
            name: RolloutConfig.Variable.canaryProducts,
            description: "Comma-separated product ids enforced in canary mode"
        ) { raw throws(ConfigurationError) in
            let value = RolloutConfig.Variable.self
            let config = try rollout([value.enabled: "true", value.canaryProducts: raw], flag: value.canaryProducts)
            guard case .canary(let products) = config.mode else { return "" }
            return products.sorted().joined(separator: ",")
        },
        FlagDefinition(
            name: RolloutConfig.Variable.rolloutPercentage,
            description: "0 to 100: products whose md5 bucket is below it are enforced in percentage mode"
        ) { raw throws(ConfigurationError) in
            let value = RolloutConfig.Variable.self
            let config = try rollout([value.enabled: "true", value.rolloutPercentage: raw], flag: value.rolloutPercentage)
            switch config.mode {
            case .percentage(let percentage): return String(percentage.value)
            case .full where !raw.allSatisfy(\.isWhitespace): return "100"
            default: return ""
            }
        },
        FlagDefinition(
            name: RolloutConfig.Variable.rolloutSalt,
            description: "Optional bucketing salt; empty keeps the seed's formula (changing it reshuffles the rollout)"
        ) { raw throws(ConfigurationError) in
            guard raw.utf8.count <= 128 else {
                throw ConfigurationError(variable: RolloutConfig.Variable.rolloutSalt, problem: "at most 128 bytes")
            }
            return raw
        },
        FlagDefinition(
            name: CacheTTL.Variable.allowSeconds,
            description: "TTL of cached approvals, 1 to 3600 seconds (default 60)"
        ) { raw throws(ConfigurationError) in
            if raw.allSatisfy(\.isWhitespace) { return "" }
            let ttl = try cacheTTL([CacheTTL.Variable.allowSeconds: raw])
            return String(ttl.allowMilliseconds / 1000)
        },
        FlagDefinition(
            name: CacheTTL.Variable.denySeconds,
            description: "TTL of cached denials, 1 to 3600 seconds, not above the approval TTL (default 10)"
        ) { raw throws(ConfigurationError) in
            if raw.allSatisfy(\.isWhitespace) { return "" }
            // Judged alone here; against the approval TTL when the values are combined.
            let ttl = try cacheTTL([CacheTTL.Variable.allowSeconds: "3600", CacheTTL.Variable.denySeconds: raw])
            return String(ttl.denyMilliseconds / 1000)
        },
    ]

    /// The rollout and TTLs a set of flag values (or environment variables) describe.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable at fault when the
    ///   combination is invalid.
    public static func configuration(from values: [String: String]) throws(ConfigurationError) -> (RolloutConfig, CacheTTL) {
        (try rollout(values, flag: nil), try cacheTTL(values))
    }

    private static func rollout(_ values: [String: String], flag: String?) throws(ConfigurationError) -> RolloutConfig {
        do {
            return try RolloutConfig.fromEnvironment(values)
        } catch {
            // When one flag is judged alone, a complaint about a companion
            // variable is still that flag's fault.
            throw ConfigurationError(variable: flag ?? error.variable, problem: error.message)
        }
    }

    private static func cacheTTL(_ values: [String: String]) throws(ConfigurationError) -> CacheTTL {
        do {
            return try CacheTTL.fromEnvironment(values)
        } catch {
            throw ConfigurationError(variable: error.variable, problem: error.message)
        }
    }
}
