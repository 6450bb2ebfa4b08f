/// What PostgreSQL says about one seller/product pair: the latest
/// authorization row's status and times, with the pair's version.
///
/// The version comes from a PostgreSQL sequence and grows with every
/// transition of the pair; 0 means the seller never requested the product.
/// Cache writes compare it (``AuthorizationCacheScript``), so a cache fill
/// from an older read can never replace a newer decision.
public struct AuthorizationState: Sendable, Hashable, CustomStringConvertible {
    /// The latest row's status, with the instants the gate's rules need.
    /// Times are unix microseconds (UTC).
    public enum Status: Sendable, Hashable {
        /// No row exists for the pair (version 0).
        case notRequested
        /// A request waits for the supplier (`REQUESTED` in the inbox).
        case pending
        /// Approved since `sinceMicros`.
        case approved(sinceMicros: Int64)
        /// The supplier rejected the latest request.
        case rejected
        /// Approved at `approvedAtMicros`, revoked at `revokedAtMicros`.
        case revoked(approvedAtMicros: Int64, revokedAtMicros: Int64)
        /// The seller withdrew the latest request.
        case cancelled
    }

    /// The pair's version (0 only for ``Status/notRequested``).
    public var version: Int64
    /// The latest row's status.
    public var status: Status

    /// A pair nobody ever requested.
    public static let notRequested = AuthorizationState(version: 0, status: .notRequested)

    /// Creates a state; the caller vouches that `version` is the pair's
    /// version for exactly this status.
    public init(version: Int64, status: Status) {
        self.version = version
        self.status = status
    }

    /// True when the pair is approved now.
    public var isApproved: Bool {
        if case .approved = status { return true }
        return false
    }

    /// `v<version> <STATUS>`.
    public var description: String { "v\(version) \(status.token)" }
}

extension AuthorizationState.Status {
    /// The status spelling shared with the inbox's PostgreSQL column and the
    /// cache value (``AuthorizationCacheEntry``): `NOT_REQUESTED`,
    /// `REQUESTED`, `APPROVED`, `REJECTED`, `REVOKED`, `CANCELLED`.
    public var token: String {
        switch self {
        case .notRequested: "NOT_REQUESTED"
        case .pending: "REQUESTED"
        case .approved: "APPROVED"
        case .rejected: "REJECTED"
        case .revoked: "REVOKED"
        case .cancelled: "CANCELLED"
        }
    }
}

extension AuthorizationState {
    /// True when the state keeps the invariants every reader relies on:
    /// version 0 exactly for ``Status/notRequested``, no negative version or
    /// time, and a revocation no earlier than its approval. Cache entries
    /// that break them decode as nil (a miss).
    public var isWellFormed: Bool {
        guard version >= 0, (version == 0) == (status == .notRequested) else { return false }
        switch status {
        case .notRequested, .pending, .rejected, .cancelled:
            return true
        case .approved(let since):
            return since >= 0
        case .revoked(let approvedAt, let revokedAt):
            return approvedAt >= 0 && approvedAt <= revokedAt
        }
    }
}
