public import GateCore
public import InboxCore

/// One authorization request row as the store returns it (the README's
/// `<request columns>` projection).
public struct StoredRequest: Sendable, Hashable {
    /// The request id, canonical lowercase UUID text.
    public var id: String
    public var sellerId: String
    public var productId: String
    /// The product's supplier at request time.
    public var supplierId: String
    public var status: AuthorizationStatus
    /// The pair's version after this row's latest transition.
    public var version: Int64
    public var createdAtMicros: Int64
    /// 0 while REQUESTED.
    public var decidedAtMicros: Int64
    /// 0 unless REVOKED.
    public var revokedAtMicros: Int64
    public var reason: String
    public var note: String
    /// Who acted last (revoker, else decider); empty while REQUESTED.
    public var actedBy: String
    public var idempotencyKey: String

    /// The parties, for ``ActorRule``.
    public var parties: RequestParties {
        RequestParties(sellerId: sellerId, productId: productId, supplierId: supplierId)
    }

    /// The position of this row in every listing.
    public func sortKey() throws(InboxError) -> InboxSortKey {
        InboxSortKey(status: status, createdAtUnixMicros: createdAtMicros, requestID: try RequestID(parsing: id))
    }

    /// The gate's view of the pair right after this row's latest transition:
    /// what the write-through puts in Redis.
    public var cacheState: AuthorizationState {
        let status: AuthorizationState.Status =
            switch self.status {
            case .requested: .pending
            case .approved: .approved(sinceMicros: decidedAtMicros)
            case .rejected: .rejected
            case .cancelled: .cancelled
            case .revoked: .revoked(approvedAtMicros: decidedAtMicros, revokedAtMicros: revokedAtMicros)
            }
        return AuthorizationState(version: version, status: status)
    }
}

/// One audit row (`inbox.audit_events`).
public struct StoredAuditEvent: Sendable, Hashable {
    public var requestId: String
    /// nil for the creating event.
    public var fromStatus: AuthorizationStatus?
    public var toStatus: AuthorizationStatus
    public var actorRole: ActorRole
    public var actorId: String
    public var caller: String
    public var reason: String
    public var atMicros: Int64
    public var version: Int64
}

/// What a Request call produced.
public struct RequestOutcome: Sendable, Hashable {
    /// The new row, or the first call's row on a replay.
    public var request: StoredRequest
    /// True when an earlier call with the same idempotency key created the row.
    public var replayed: Bool
    /// The outbox row written with the transition; nil on a replay (nothing written).
    public var outboxID: Int64?
}

/// What a Cancel, Approve, Reject or Revoke produced.
public struct TransitionOutcome: Sendable, Hashable {
    /// The row after the transition.
    public var request: StoredRequest
    /// The state before.
    public var from: AuthorizationStatus
    /// The outbox row written in the same transaction.
    public var outboxID: Int64
}

/// A pending outbox row, joined with the pair's current state: the relay
/// writes the pair's newest state, which is never older than the row.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var sellerId: String
    public var productId: String
    public var state: AuthorizationState
}

/// A check the store makes on its own writes failed (a transition updated no
/// row, or not exactly one state row): a bug, answered INTERNAL, and the
/// transaction is rolled back so nothing half-written remains.
public struct InboxStoreInvariantError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "inbox store invariant broken: \(message)" }
}
