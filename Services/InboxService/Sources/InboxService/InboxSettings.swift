public import GateCore
public import InboxCore
public import ServiceKit
import Synchronization

/// The inbox's runtime flags, parsed: read on every call, changed at runtime
/// through the flag store (`/flags.v1.FlagService/Set`) without a restart.
public struct InboxSettings: Sendable, Hashable {
    /// `ENABLE_SELLER_AUTHORIZATION`: off → every inbox method answers
    /// UNIMPLEMENTED (the seed's 501). Default off, as in the seed's Phase 0.
    public var enabled: Bool
    /// `SELLER_PRODUCT_LIMIT` and `SELLER_REJECT_COOLDOWN_DAYS`.
    public var rules: InboxRules
    /// `SELLER_AUTH_CACHE_TTL_SECONDS` / `SELLER_AUTH_CACHE_DENY_TTL_SECONDS`:
    /// the TTLs of entries the write-through and the relay put in Redis (same
    /// names and defaults as the gate's, so both writers agree).
    public var cacheTTL: CacheTTL

    public init(enabled: Bool, rules: InboxRules, cacheTTL: CacheTTL) {
        self.enabled = enabled
        self.rules = rules
        self.cacheTTL = cacheTTL
    }

    /// Flag names.
    public enum Flag {
        public static let enabled = "ENABLE_SELLER_AUTHORIZATION"
        public static let productLimit = "SELLER_PRODUCT_LIMIT"
        public static let cooldownDays = "SELLER_REJECT_COOLDOWN_DAYS"
        public static let cacheTTLSeconds = CacheTTL.Variable.allowSeconds
        public static let cacheDenyTTLSeconds = CacheTTL.Variable.denySeconds
    }

    /// The flag definitions; the ranges refuse what the core would refuse
    /// (a negative limit stops start-up, or is refused by FlagService/Set).
    public static let definitions: [FlagDefinition] = [
        .bool(Flag.enabled, "Serve the inbox; off answers UNIMPLEMENTED on every method (seed Phase 0)"),
        .int(Flag.productLimit, "Most products one seller may hold (approved + pending)",
             in: 0...SellerLimitPolicy.maximumLimit),
        .int(Flag.cooldownDays, "Days after a rejection before the seller may request the product again",
             in: 0...RejectCooldown.maximumDays),
        .int(Flag.cacheTTLSeconds, "TTL of APPROVED entries written to the gate cache", in: 1...3600),
        .int(Flag.cacheDenyTTLSeconds, "TTL of every other entry written to the gate cache (capped at the allow TTL)",
             in: 1...3600),
    ]

    /// Values used when neither the environment nor the flag store sets one.
    public static let defaults: [String: String] = [
        Flag.enabled: "false",
        Flag.productLimit: String(SellerLimitPolicy.defaultLimit),
        Flag.cooldownDays: String(RejectCooldown.defaultDays),
        Flag.cacheTTLSeconds: "60",
        Flag.cacheDenyTTLSeconds: "10",
    ]

    /// Parses validated flag values.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming the flag; unreachable in practice,
    ///   because ``definitions`` refuse out-of-range values before they get here.
    public init(flags: FlagValues) throws(InboxError) {
        self.init(
            enabled: flags.bool(Flag.enabled),
            rules: InboxRules(
                limit: try SellerLimitPolicy(limit: flags.int(Flag.productLimit)),
                cooldown: try RejectCooldown(days: flags.int(Flag.cooldownDays))),
            cacheTTL: CacheTTL(
                allowMilliseconds: Int64(flags.int(Flag.cacheTTLSeconds)) * 1000,
                denyMilliseconds: Int64(flags.int(Flag.cacheDenyTTLSeconds)) * 1000))
    }
}

/// The settings in force, refreshed by a ``RuntimeFlags`` observer; read
/// lock-briefly on every call.
public final class InboxSettingsSource: Sendable {
    private let value: Mutex<InboxSettings>

    /// Follows `flags` from now on. A change the core refuses (impossible
    /// while the flag definitions hold) keeps the settings in force.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming the flag when the initial values are refused.
    public init(flags: RuntimeFlags) throws(InboxError) {
        value = Mutex(try InboxSettings(flags: flags.current))
        flags.observe { [weak self] values in
            guard let settings = try? InboxSettings(flags: values) else { return }
            self?.value.withLock { $0 = settings }
        }
    }

    /// Fixed settings (tests of pieces that take a source).
    public init(_ settings: InboxSettings) {
        value = Mutex(settings)
    }

    /// The settings in force now.
    public var current: InboxSettings { value.withLock { $0 } }
}
