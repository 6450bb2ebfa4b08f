public import InboxCore
public import Storage

/// The new request a seller asks for, validated by the handler.
public struct NewRequest: Sendable, Hashable {
    public var sellerId: String
    public var productId: String
    public var idempotencyKey: IdempotencyKey
    public var note: RequestNote
    /// The wire credential the seller came through (audit).
    public var caller: String

    public init(sellerId: String, productId: String, idempotencyKey: IdempotencyKey, note: RequestNote, caller: String) {
        self.sellerId = sellerId
        self.productId = productId
        self.idempotencyKey = idempotencyKey
        self.note = note
        self.caller = caller
    }
}

/// A decision on an existing request (cancel, approve, reject, revoke).
public struct TransitionCommand: Sendable, Hashable {
    public var action: InboxAction
    public var id: RequestID
    /// Who acts; the store authorizes it against the request's parties
    /// (``ActorRule``) before taking any lock.
    public var actor: Actor
    /// The validated reason; empty for cancel and a reasonless approve.
    public var reason: DecisionReason?

    public init(action: InboxAction, id: RequestID, actor: Actor, reason: DecisionReason?) {
        self.action = action
        self.id = id
        self.actor = actor
        self.reason = reason
    }
}

/// The rules a write is judged by, read from the runtime flags at call time.
public struct InboxRules: Sendable, Hashable {
    public var limit: SellerLimitPolicy
    public var cooldown: RejectCooldown

    public init(limit: SellerLimitPolicy, cooldown: RejectCooldown) {
        self.limit = limit
        self.cooldown = cooldown
    }
}

/// Where authorization requests live. Every write is one transaction that
/// also writes the audit event, bumps the pair's version and adds a cache
/// outbox row; the caller writes the new state through to Redis after it
/// returns (the commit happened) and later marks the row with
/// ``markOutboxApplied(_:deadline:)`` (batched, see ``OutboxMarks``).
///
/// Errors: ``InboxError`` for refusals (the wire code is its code),
/// ``InboxStoreInvariantError`` for bugs, `PostgresError` for storage failures.
public protocol AuthorizationStore: Sendable {
    /// Creates a REQUESTED row, or replays the first call with the same idempotency key.
    func request(_ request: NewRequest, rules: InboxRules, deadline: Deadline) throws -> RequestOutcome

    /// Applies a cancel, approve, reject or revoke.
    func transition(_ command: TransitionCommand, rules: InboxRules, deadline: Deadline) throws -> TransitionOutcome

    /// A request with its audit history (oldest first); nil when unknown.
    func get(id: RequestID, deadline: Deadline) throws -> (StoredRequest, [StoredAuditEvent])?

    /// Up to `limit` rows of `listing` strictly after `after` (nil: from the start),
    /// in ``InboxSortKey`` order.
    func list(_ listing: InboxListing, after: InboxSortKey?, limit: Int, deadline: Deadline) throws -> [StoredRequest]

    /// The supplier's pending (REQUESTED) requests.
    func inboxSize(supplierId: String, deadline: Deadline) throws -> Int64

    /// Total pending requests and the largest supplier's pending count (the gauges).
    func inboxSizeGauges(deadline: Deadline) throws -> (total: Int64, largest: Int64)

    /// Marks outbox rows applied after their write-through reached Redis.
    func markOutboxApplied(_ ids: [Int64], deadline: Deadline) throws

    /// Takes up to `limit` pending outbox rows (skipping rows another relay
    /// holds), hands them to `write` in id order, and marks applied the ids
    /// `write` returns, all in one transaction. Returns how many were applied.
    func applyPendingOutbox(
        limit: Int, deadline: Deadline, write: ([OutboxEntry]) -> [Int64]
    ) throws -> Int

    /// Pending outbox rows (tests, diagnostics).
    func pendingOutboxCount(deadline: Deadline) throws -> Int64

    /// Deletes applied outbox rows older than `retentionSeconds`; returns how many.
    func pruneOutbox(retentionSeconds: Int64, deadline: Deadline) throws -> Int
}
