public import InboxCore
public import Storage

/// ``AuthorizationStore`` on PostgreSQL: the README's statements. Every
/// write is one round trip: a guarded statement that commits by itself, or
/// (when the seller's limit is at stake) BEGIN, the seller lock, the guarded
/// statement and COMMIT in one pipeline. Lock order seller lock → request
/// row → state row (so actions cannot deadlock one another). A write that
/// changes nothing is explained afterwards by the Swift rules of
/// `InboxCore`, which word every refusal.
public final class PostgresAuthorizationStore: AuthorizationStore {
    /// Reads "now" for the cooldown, in unix microseconds. nil: PostgreSQL's
    /// `statement_timestamp()` read under the seller lock (production). Tests
    /// inject a clock to probe the cooldown boundary to the microsecond.
    public typealias Clock = @Sendable () -> Int64

    private let pool: PostgresPool
    private let clock: Clock?
    private let batcher: TransitionBatcher<GuardedDecision, PostgresRow>

    /// A store on `pool`; `clock` overrides the cooldown's "now" (tests only).
    /// `batchedDecisions` lets concurrent decisions share one statement and
    /// commit (``TransitionBatcher``); `maxBatch` bounds how many.
    public init(pool: PostgresPool, clock: Clock? = nil, batchedDecisions: Bool = true, maxBatch: Int = 32) {
        self.pool = pool
        self.clock = clock
        // Two batches in flight when batching: while one waits for its WAL
        // flush the other executes (with one, the server would sit idle
        // during every flush), and decisions arriving while both run join
        // the next one, which is what makes the commits shared. Without
        // batching, as many as there are callers.
        self.batcher = TransitionBatcher(
            maxInFlight: batchedDecisions ? 2 : Int.max, maxBatch: batchedDecisions ? max(1, maxBatch) : 1
        ) { [pool] items, deadline in
            try pool.withConnection(deadline: deadline) { connection in
                try Self.runGuardedDecisions(items, on: connection, deadline: deadline)
            }
        }
    }

    /// How often a write is tried again when it wrote nothing yet its
    /// explanation finds no rule refusing it (the data moved in between,
    /// e.g. a revoke freed a slot): rare, and bounded.
    static let writeAttempts = 3

    // MARK: - Request

    public func request(_ request: NewRequest, rules: InboxRules, deadline: Deadline) throws -> RequestOutcome {
        let seller = PostgresValue.text(request.sellerId)
        let product = PostgresValue.text(request.productId)
        let key = PostgresValue.text(request.idempotencyKey.rawValue)
        return try pool.withConnection(deadline: deadline) { connection in
            for _ in 0..<Self.writeAttempts {
                // One round trip: BEGIN, the seller lock, the guarded insert, COMMIT. The lock is
                // held for the insert's server-side work and the commit, nothing else.
                let now: PostgresValue? = clock.map { .int64($0()) }
                let insert = PostgresStatement(
                    InboxSQL.requestInsert,
                    [seller, product, key, .text(request.note.text), .text(request.caller), now,
                     .int64(Int64(rules.limit.limit)), .int64(rules.cooldown.durationMicros)])
                do {
                    let inserted = try Self.lockedWrite(
                        on: connection, lock: PostgresStatement(InboxSQL.sellerLockTake, [seller]), write: insert,
                        deadline: deadline)
                    if let row = inserted.first {
                        return RequestOutcome(
                            request: try Self.decodeRequest(row), replayed: false, outboxID: try row.int64("outbox_id"))
                    }
                } catch let error as PostgresError where error.isUniqueViolation {
                    // Backstops: the seller lock makes both unreachable.
                    if error.constraint == "authorization_requests_one_open_per_pair" {
                        throw InboxError.failedPrecondition(
                            "cannot request: seller \(request.sellerId) already holds an open request for product "
                                + "\(request.productId); a pair holds one open request at a time")
                    }
                    if error.constraint != "authorization_requests_idempotency_key" { throw error }
                } catch let error as PostgresError
                    where error.code == PostgresError.SQLState.foreignKeyViolation && error.table == "seller_locks"
                {
                    // An unknown seller: the explanation below names it.
                }
                // Nothing written: explain which rule refused, from what is committed now.
                let reads = try connection.pipeline([
                    PostgresStatement(InboxSQL.catalogLookup, [seller, product]),
                    PostgresStatement(InboxSQL.requestByKey, [seller, key]),
                    PostgresStatement(InboxSQL.requestPreflight, [seller, product]),
                ], deadline: deadline)
                if let replay = try refuseRequest(request, catalog: reads[0].first, byKey: reads[1].first,
                                                  preflight: reads[2].first, rules: rules) {
                    return replay
                }
            }
            throw InboxStoreInvariantError(
                "request of \(request.productId) by \(request.sellerId) wrote nothing \(Self.writeAttempts) times "
                    + "though no rule refused it")
        }
    }

    /// Why a guarded Request insert wrote nothing, judged by the Swift rules
    /// in the order a caller sees them: unknown seller or product, replay,
    /// one open request per pair, cooldown, limit. Throws the refusal;
    /// returns the first call's answer for a retried key; returns nil when
    /// no rule refuses (the data changed since the insert: try again).
    private func refuseRequest(
        _ request: NewRequest, catalog: PostgresRow?, byKey: PostgresRow?, preflight: PostgresRow?, rules: InboxRules
    ) throws -> RequestOutcome? {
        guard let catalog else { throw InboxStoreInvariantError("catalog lookup returned no row") }
        guard try catalog.bool("seller_exists") else {
            throw InboxError.notFound("seller_id: no seller \(request.sellerId) in the catalog")
        }
        guard try catalog.decodeIfPresent(String.self, "supplier_id") != nil else {
            throw InboxError.notFound("product_id: no product \(request.productId) in the catalog")
        }
        if let byKey {
            return try Self.replay(try Self.decodeRequest(byKey), of: request)
        }
        guard let preflight else { throw InboxStoreInvariantError("request preflight returned no row") }
        if let openID = try preflight.decodeIfPresent(String.self, "open_id") {
            let openStatus = try preflight.decodeIfPresent(String.self, "open_status") ?? "open"
            throw InboxError.failedPrecondition(
                "cannot request: seller \(request.sellerId) already holds request \(openID) (\(openStatus)) for "
                    + "product \(request.productId); a pair holds one open request at a time")
        }
        let now = try clock?() ?? preflight.int64("now_micros")
        try rules.cooldown.check(
            sellerId: request.sellerId, productId: request.productId,
            lastRejectedAtUnixMicros: try preflight.decodeIfPresent(Int64.self, "last_rejected_micros"),
            nowUnixMicros: now)
        try rules.limit.checkRequest(
            sellerId: request.sellerId, approved: Int(try preflight.int64("approved")),
            pending: Int(try preflight.int64("pending")))
        return nil
    }

    /// The first call's answer for a retried key, or INVALID_ARGUMENT when the key was used for another product.
    private static func replay(_ first: StoredRequest, of request: NewRequest) throws -> RequestOutcome {
        guard first.productId == request.productId else {
            throw InboxError.invalidArgument(
                field: "idempotency_key", "already used for product \(first.productId); use a new key per request")
        }
        return RequestOutcome(request: first, replayed: true, outboxID: nil)
    }

    // MARK: - Transitions

    public func transition(_ command: TransitionCommand, rules: InboxRules, deadline: Deadline) throws -> TransitionOutcome {
        guard let decision = AuthorizationTransition.decision(command.action), let from = decision.from else {
            throw InboxStoreInvariantError("\(command.action) is not a decision on an existing request")
        }
        let guarded = GuardedDecision(command, from: from, to: decision.to, rules: rules)
        // The guarded update, committed by itself or with the other decisions
        // arriving meanwhile (TransitionBatcher). Approve takes no seller lock
        // while the seller's holdings fit the limit
        // (SellerLimitPolicy.approvalIsSafeWithoutLock).
        switch batcher.submit(guarded, deadline: deadline) {
        case .written(let row):
            return try Self.transitionOutcome(row, from: from)
        case .failed(let error):
            throw error
        case .notWritten:
            return try pool.withConnection(deadline: deadline) { connection in
                try explainRefusal(command, guarded, from: from, rules: rules, on: connection, deadline: deadline)
            }
        case .batchFailed:
            // The shared statement failed as a whole: this decision runs alone,
            // so it answers for itself only.
            return try pool.withConnection(deadline: deadline) { connection in
                if let row = try Self.runGuardedDecisions([guarded], on: connection, deadline: deadline).first,
                    case .written(let written) = row
                {
                    return try Self.transitionOutcome(written, from: from)
                }
                return try explainRefusal(command, guarded, from: from, rules: rules, on: connection, deadline: deadline)
            }
        }
    }

    /// After a guarded decision wrote nothing: explains the refusal, or (an
    /// approval whose seller holds more than the limit allows, the limit
    /// having been lowered) takes the seller lock and re-checks the approved
    /// count under it.
    private func explainRefusal(
        _ command: TransitionCommand, _ guarded: GuardedDecision, from: AuthorizationStatus, rules: InboxRules,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> TransitionOutcome {
        let id = PostgresValue.text(command.id.description)
        for _ in 0..<Self.writeAttempts {
            let diagnosis = try connection.query(InboxSQL.requestDiagnosis, [id], deadline: deadline).first
            try Self.refuseTransition(command, from: diagnosis, rules: rules)
            guard command.action == .approve else { break }
            let locked = try Self.lockedWrite(
                on: connection, lock: PostgresStatement(InboxSQL.sellerLockTakeOfRequest, [id]),
                write: PostgresStatement(InboxSQL.approveLocked, guarded.singleParameters), deadline: deadline)
            if let row = locked.first { return try Self.transitionOutcome(row, from: from) }
        }
        throw InboxStoreInvariantError("\(command.action) of \(command.id) wrote nothing though no rule refused it")
    }

    /// Runs guarded decisions: one alone as its prepared single statement
    /// (`inbox_transition`), several as `inbox_transition_batch`, committed
    /// together. One outcome per item, in order: written or not written.
    static func runGuardedDecisions(
        _ items: [GuardedDecision], on connection: PostgresConnection, deadline: Deadline
    ) throws -> [TransitionBatcher<GuardedDecision, PostgresRow>.Outcome] {
        if items.count == 1 {
            let item = items[0]
            let written = try connection.query(
                item.holdingLimit == nil ? InboxSQL.decide : InboxSQL.approveUnlocked, item.singleParameters,
                deadline: deadline)
            return [written.first.map { .written($0) } ?? .notWritten]
        }
        let rows = try connection.query(InboxSQL.transitionBatch, GuardedDecision.batchParameters(items), deadline: deadline)
        var outcomes = [TransitionBatcher<GuardedDecision, PostgresRow>.Outcome](repeating: .notWritten, count: items.count)
        for row in rows {
            let item = Int(try row.int64("item"))
            guard outcomes.indices.contains(item) else {
                throw InboxStoreInvariantError("batched transition returned item \(item) of \(items.count)")
            }
            outcomes[item] = .written(row)
        }
        return outcomes
    }

    /// Why a guarded decision wrote nothing, judged by the Swift rules in
    /// the order a caller sees them: unknown request, who may act, the state
    /// machine, the limit (approve). Returns when none refuses.
    private static func refuseTransition(
        _ command: TransitionCommand, from row: PostgresRow?, rules: InboxRules
    ) throws {
        guard let row else { throw InboxError.notFound("id: no authorization request \(command.id)") }
        let parties = RequestParties(
            sellerId: try row.string("seller_id"), productId: try row.string("product_id"),
            supplierId: try row.string("supplier_id"))
        try ActorRule.authorize(command.action, by: command.actor, on: parties)
        _ = try AuthorizationTransition.applying(command.action, to: try status(row.string("status")))
        if command.action == .approve {
            try rules.limit.checkApproval(sellerId: parties.sellerId, approvedOthers: Int(try row.int64("approved")))
        }
    }

    private static func transitionOutcome(_ row: PostgresRow, from: AuthorizationStatus) throws -> TransitionOutcome {
        TransitionOutcome(request: try decodeRequest(row), from: from, outboxID: try row.int64("outbox_id"))
    }

    /// BEGIN, `lock`, `write`, COMMIT as one pipeline: one round trip, so
    /// the lock is held only while the server runs `write` and commits.
    /// Returns `write`'s rows. Pipelined statements run one after another,
    /// each with its own READ COMMITTED snapshot, so `write` reads what the
    /// previous lock holder committed. When a statement fails, the rest of
    /// the pipeline is skipped and the transaction is rolled back here.
    static func lockedWrite(
        on connection: PostgresConnection, lock: PostgresStatement, write: PostgresStatement, deadline: Deadline
    ) throws -> PostgresRows {
        do {
            let results = try connection.pipeline(
                [PostgresStatement("BEGIN ISOLATION LEVEL READ COMMITTED"), lock, write, PostgresStatement("COMMIT")],
                deadline: deadline)
            return results[2]
        } catch {
            if connection.isInTransaction, !connection.isBroken {
                // A short grace period even when the deadline is the reason we are here; the
                // pool rolls back (or discards) anything still open when the connection returns.
                _ = try? connection.simpleQuery("ROLLBACK", deadline: max(deadline, .after(milliseconds: 500)))
            }
            throw error
        }
    }

    // MARK: - Reads

    public func get(id: RequestID, deadline: Deadline) throws -> (StoredRequest, [StoredAuditEvent])? {
        try pool.withConnection(deadline: deadline) { connection in
            let key = PostgresValue.text(id.description)
            guard let row = try connection.query(InboxSQL.get, [key], deadline: deadline).first else { return nil }
            let events = try connection.query(InboxSQL.getEvents, [key], deadline: deadline).map { event in
                guard let role = ActorRole(rawValue: try event.string("actor_role")) else {
                    throw InboxStoreInvariantError("unknown actor role in audit event")
                }
                return StoredAuditEvent(
                    requestId: try event.string("request_id"),
                    fromStatus: try event.decodeIfPresent(String.self, "from_status").map(Self.status),
                    toStatus: try Self.status(event.string("to_status")),
                    actorRole: role, actorId: try event.string("actor_id"), caller: try event.string("caller"),
                    reason: try event.string("reason"), atMicros: try event.int64("at_micros"),
                    version: try event.int64("version"))
            }
            return (try Self.decodeRequest(row), events)
        }
    }

    public func list(_ listing: InboxListing, after: InboxSortKey?, limit: Int, deadline: Deadline) throws -> [StoredRequest] {
        let (sql, owner): (String, String) =
            switch listing.owner {
            case .supplier(let id): (InboxSQL.listBySupplier, id)
            case .seller(let id): (InboxSQL.listBySeller, id)
            }
        let statuses = "{" + listing.statuses.map(\.rawValue).joined(separator: ",") + "}"
        let parameters: [PostgresValue?] = [
            .text(owner), .text(statuses), .text(listing.productId ?? ""),
            .int64(Int64(after?.statusRank ?? -1)), .int64(after?.createdAtUnixMicros ?? 0),
            .text(after?.requestID.description ?? "00000000-0000-0000-0000-000000000000"),
            .int64(Int64(limit)),
        ]
        return try pool.withConnection(deadline: deadline) { connection in
            // Unprepared on purpose: a generic plan cannot see an empty product filter.
            try connection.queryUnprepared(sql, parameters, deadline: deadline).map(Self.decodeRequest)
        }
    }

    public func inboxSize(supplierId: String, deadline: Deadline) throws -> Int64 {
        try pool.withConnection(deadline: deadline) { connection in
            try connection.query(InboxSQL.inboxSize, [.text(supplierId)], deadline: deadline).first?.int64(0) ?? 0
        }
    }

    public func inboxSizeGauges(deadline: Deadline) throws -> (total: Int64, largest: Int64) {
        try pool.withConnection(deadline: deadline) { connection in
            guard let row = try connection.query(InboxSQL.inboxSizeGauges, deadline: deadline).first else { return (0, 0) }
            return (try row.int64("total"), try row.int64("largest"))
        }
    }

    // MARK: - Outbox

    public func markOutboxApplied(_ ids: [Int64], deadline: Deadline) throws {
        guard !ids.isEmpty else { return }
        let array = "{" + ids.map(String.init).joined(separator: ",") + "}"
        try pool.withConnection(deadline: deadline) { connection in
            try connection.query(InboxSQL.outboxAppliedMany, [.text(array)], deadline: deadline)
        }
    }

    public func applyPendingOutbox(limit: Int, deadline: Deadline, write: ([OutboxEntry]) -> [Int64]) throws -> Int {
        try pool.withConnection(deadline: deadline) { connection in
            try connection.transaction(deadline: deadline) { connection in
                let entries = try connection.query(InboxSQL.outboxPending, [.int64(Int64(limit))], deadline: deadline)
                    .map { row in
                        let status = try Self.status(row.string("status"))
                        let request = StoredRequest(
                            id: "", sellerId: try row.string("seller_id"), productId: try row.string("product_id"),
                            supplierId: "", status: status, version: try row.int64("version"), createdAtMicros: 0,
                            decidedAtMicros: try row.int64("approved_at_micros"),
                            revokedAtMicros: try row.int64("revoked_at_micros"),
                            reason: "", note: "", actedBy: "", idempotencyKey: "")
                        return OutboxEntry(
                            id: try row.int64("id"), sellerId: request.sellerId, productId: request.productId,
                            state: request.cacheState)
                    }
                if entries.isEmpty { return 0 }
                let applied = write(entries)
                if applied.isEmpty { return 0 }
                let ids = "{" + applied.map(String.init).joined(separator: ",") + "}"
                return try connection.query(InboxSQL.outboxAppliedMany, [.text(ids)], deadline: deadline).affectedRows
            }
        }
    }

    public func pendingOutboxCount(deadline: Deadline) throws -> Int64 {
        try pool.withConnection(deadline: deadline) { connection in
            try connection.query(InboxSQL.outboxPendingCount, deadline: deadline).first?.int64(0) ?? 0
        }
    }

    public func pruneOutbox(retentionSeconds: Int64, deadline: Deadline) throws -> Int {
        try pool.withConnection(deadline: deadline) { connection in
            try connection.query(InboxSQL.outboxPrune, [.int64(retentionSeconds)], deadline: deadline).affectedRows
        }
    }

    // MARK: - Decoding

    static func status(_ raw: String) throws -> AuthorizationStatus {
        guard let status = AuthorizationStatus(rawValue: raw) else {
            throw InboxStoreInvariantError("unknown status \(raw) in the database")
        }
        return status
    }

    static func decodeRequest(_ row: PostgresRow) throws -> StoredRequest {
        StoredRequest(
            id: try row.string("id"), sellerId: try row.string("seller_id"), productId: try row.string("product_id"),
            supplierId: try row.string("supplier_id"), status: try status(row.string("status")),
            version: try row.int64("version"), createdAtMicros: try row.int64("created_at_micros"),
            decidedAtMicros: try row.int64("decided_at_micros"), revokedAtMicros: try row.int64("revoked_at_micros"),
            reason: try row.string("reason"), note: try row.string("note"), actedBy: try row.string("acted_by"),
            idempotencyKey: try row.string("idempotency_key"))
    }
}
