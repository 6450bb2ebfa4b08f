/// How long cached authorizations live in Redis.
///
/// Approvals live ``allowMilliseconds`` (default 60 s, the seed's TTL);
/// every other state (denials, including revocations) lives
/// ``denyMilliseconds`` (default 10 s), so a seller who was just approved is
/// not kept waiting by a cached denial for long. Correctness does not rest
/// on the TTL: versioned writes (``AuthorizationCacheScript``) keep newer
/// decisions in place. The TTL bounds how long a stale entry can survive
/// when the inbox could not write through (its outbox catches up).
///
/// Variables: `SELLER_AUTH_CACHE_TTL_SECONDS` (allow TTL, 1 to 3600, default
/// 60) and `SELLER_AUTH_CACHE_DENY_TTL_SECONDS` (1 to 3600, default 10, not
/// above the allow TTL).
public struct CacheTTL: Sendable, Hashable {
    /// The environment variable names.
    public enum Variable {
        /// The TTL of APPROVED entries, in seconds.
        public static let allowSeconds = "SELLER_AUTH_CACHE_TTL_SECONDS"
        /// The TTL of every other entry, in seconds.
        public static let denySeconds = "SELLER_AUTH_CACHE_DENY_TTL_SECONDS"
    }

    /// The seed's 60 s for approvals and 10 s for denials.
    public static let `default` = CacheTTL(allowMilliseconds: 60_000, denyMilliseconds: 10_000)

    /// TTL of APPROVED entries, in milliseconds (`PX`).
    public let allowMilliseconds: Int64
    /// TTL of every other entry, in milliseconds (`PX`).
    public let denyMilliseconds: Int64

    /// Creates a policy; values below 1 ms are raised to 1 ms (Redis refuses
    /// `PX 0`) and the deny TTL is capped at the allow TTL.
    public init(allowMilliseconds: Int64, denyMilliseconds: Int64) {
        self.allowMilliseconds = max(1, allowMilliseconds)
        self.denyMilliseconds = min(max(1, denyMilliseconds), self.allowMilliseconds)
    }

    /// The TTL for an entry holding `state`.
    public func milliseconds(for state: AuthorizationState) -> Int64 {
        state.isApproved ? allowMilliseconds : denyMilliseconds
    }

    /// The oldest a PostgreSQL read may be when its cache fill is sent: half
    /// the deny TTL. A fill from a read that began before a revoke is
    /// refused while the inbox's newer entry lives (at least the deny TTL
    /// from its write, which follows the commit); sending fills no later
    /// than this keeps every stale fill inside that window. A fill that
    /// misses it is dropped (the answer is still returned).
    public var maximumFillAgeMilliseconds: Int64 { max(1, denyMilliseconds / 2) }

    /// Parses the TTLs from environment-style variables; absent or empty
    /// values take the defaults.
    ///
    /// - Throws: ``GateConfigurationError`` naming the variable at fault.
    public static func fromEnvironment(_ environment: [String: String]) throws(GateConfigurationError) -> CacheTTL {
        let allow = try seconds(environment[Variable.allowSeconds], variable: Variable.allowSeconds) ?? 60
        let deny = try seconds(environment[Variable.denySeconds], variable: Variable.denySeconds) ?? min(10, allow)
        guard deny <= allow else {
            throw GateConfigurationError(
                .conflict, variable: Variable.denySeconds,
                "must not exceed \(Variable.allowSeconds) (\(allow)), got \(deny)")
        }
        return CacheTTL(allowMilliseconds: allow * 1000, denyMilliseconds: deny * 1000)
    }

    private static func seconds(_ raw: String?, variable: String) throws(GateConfigurationError) -> Int64? {
        let value = RolloutConfig.trimmed(raw)
        if value.isEmpty { return nil }
        guard value.utf8.count <= 4, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int64(value), (1...3600).contains(number)
        else {
            throw GateConfigurationError(
                .invalidValue, variable: variable, "must be a whole number of seconds from 1 to 3600, got \"\(raw ?? "")\"")
        }
        return number
    }
}
