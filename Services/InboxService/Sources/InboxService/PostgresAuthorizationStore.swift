public import InboxCore
public import Storage

/// ``AuthorizationStore`` on PostgreSQL: the README's statements, one READ
/// COMMITTED transaction per action, lock order seller lock → request row →
/// state row (so actions cannot deadlock one another).
public final class PostgresAuthorizationStore: AuthorizationStore {
    /// Reads "now" for the cooldown, in unix microseconds. nil: PostgreSQL's
    /// `statement_timestamp()` read under the seller lock (production). Tests
    /// inject a clock to probe the cooldown boundary to the microsecond.
    public typealias Clock = @Sendable () -> Int64

    private let pool: PostgresPool
    private let clock: Clock?

    /// A store on `pool`; `clock` overrides the cooldown's "now" (tests only).
    public init(pool: PostgresPool, clock: Clock? = nil) {
        self.pool = pool
        self.clock = clock
    }

    // MARK: - Request

    public func request(_ request: NewRequest, rules: InboxRules, deadline: Deadline) throws -> RequestOutcome {
        let seller = PostgresValue.text(request.sellerId)
        let product = PostgresValue.text(request.productId)
        let key = PostgresValue.text(request.idempotencyKey.rawValue)
        return try pool.withConnection(deadline: deadline) { connection in
            do {
                // One round trip: BEGIN, the catalog, the seller lock, then under it the key and the preflight.
                return try Self.transaction(
                    on: connection, opening: [
                        PostgresStatement(InboxSQL.catalogLookup, [seller, product]),
                        PostgresStatement(InboxSQL.sellerLock, [seller]),
                        PostgresStatement(InboxSQL.requestByKey, [seller, key]),
                        PostgresStatement(InboxSQL.requestPreflight, [seller, product]),
                    ], deadline: deadline
                ) { results in
                    guard let catalog = results[0].first else { throw InboxStoreInvariantError("catalog lookup returned no row") }
                    guard try catalog.bool("seller_exists") else {
                        throw InboxError.notFound("seller_id: no seller \(request.sellerId) in the catalog")
                    }
                    guard let supplierId = try catalog.decodeIfPresent(String.self, "supplier_id") else {
                        throw InboxError.notFound("product_id: no product \(request.productId) in the catalog")
                    }
                    var byKey = results[2]
                    var preflight = results[3]
                    if results[1].isEmpty {
                        // The seller's first request: create the lock row, take it, and read again under it.
                        let again = try connection.pipeline([
                            PostgresStatement(InboxSQL.sellerLockCreate, [seller]),
                            PostgresStatement(InboxSQL.sellerLock, [seller]),
                            PostgresStatement(InboxSQL.requestByKey, [seller, key]),
                            PostgresStatement(InboxSQL.requestPreflight, [seller, product]),
                        ], deadline: deadline)
                        byKey = again[2]
                        preflight = again[3]
                    }
                    return try self.requestLocked(
                        request, supplierId: supplierId, byKey: byKey.first, preflight: preflight.first, rules: rules,
                        on: connection, deadline: deadline)
                }
            } catch let error as PostgresError where error.isUniqueViolation {
                // Backstops: the seller lock makes both unreachable.
                if error.constraint == "authorization_requests_one_open_per_pair" {
                    throw InboxError.failedPrecondition(
                        "cannot request: seller \(request.sellerId) already holds an open request for product "
                            + "\(request.productId); a pair holds one open request at a time")
                }
                if error.constraint == "authorization_requests_idempotency_key",
                    let first = try connection.query(InboxSQL.requestByKey, [seller, key], deadline: deadline).first
                {
                    return try Self.replay(try Self.decodeRequest(first), of: request)
                }
                throw error
            }
        }
    }

    /// The rest of the Request transaction, under the seller lock: replay,
    /// one open request per pair, cooldown, limit, then the insert.
    private func requestLocked(
        _ request: NewRequest, supplierId: String, byKey: PostgresRow?, preflight: PostgresRow?, rules: InboxRules,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> RequestOutcome {
        // Under the lock a concurrent call with the same key has committed.
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
        let inserted = try connection.query(
            InboxSQL.requestInsert,
            [.text(request.sellerId), .text(request.productId), .text(supplierId),
             .text(request.idempotencyKey.rawValue), .text(request.note.text), .text(request.caller)],
            deadline: deadline)
        guard let row = inserted.first, try row.int64("state_rows") == 1 else {
            throw InboxStoreInvariantError("request insert wrote no row or not exactly one state row")
        }
        return RequestOutcome(request: try Self.decodeRequest(row), replayed: false, outboxID: try row.int64("outbox_id"))
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
        let id = PostgresValue.text(command.id.description)
        let approving = command.action == .approve
        // One round trip: BEGIN and the locks in the README's order (approve:
        // the seller lock, then the request row, then the seller's approved
        // count under the lock). The parties come with the row lock, so a
        // stranger holds the locks for that one round trip before the refusal
        // rolls back; in exchange every decision saves a round trip.
        let opening: [PostgresStatement] =
            approving
            ? [PostgresStatement(InboxSQL.sellerLockOfRequest, [id]),
               PostgresStatement(InboxSQL.requestLockWithParties, [id]),
               PostgresStatement(InboxSQL.sellerApprovedCountOfRequest, [id])]
            : [PostgresStatement(InboxSQL.requestLockWithParties, [id])]
        return try pool.withConnection(deadline: deadline) { connection in
            try Self.transaction(on: connection, opening: opening, deadline: deadline) { results in
                var results = results
                guard let row = results[approving ? 1 : 0].first else {
                    throw InboxError.notFound("id: no authorization request \(command.id)")
                }
                let parties = RequestParties(
                    sellerId: try row.string("seller_id"), productId: try row.string("product_id"),
                    supplierId: try row.string("supplier_id"))
                try ActorRule.authorize(command.action, by: command.actor, on: parties)
                if approving, results[0].isEmpty {
                    // No lock row (a seller whose requests predate it): create it, then lock and
                    // count again in the README's order. The request row is already ours.
                    results = try connection.pipeline([
                        PostgresStatement(InboxSQL.sellerLockCreate, [.text(parties.sellerId)]),
                        PostgresStatement(InboxSQL.sellerLock, [.text(parties.sellerId)]),
                        PostgresStatement(InboxSQL.requestLockWithParties, [id]),
                        PostgresStatement(InboxSQL.sellerApprovedCount, [.text(parties.sellerId)]),
                    ], deadline: deadline).dropFirst().map { $0 }
                }
                let transition = try AuthorizationTransition.applying(
                    command.action, to: try Self.status(row.string("status")))
                guard let from = transition.from else { throw InboxStoreInvariantError("transition without a from state") }
                if approving {
                    let approved = try results[2].first?.int64(0) ?? 0
                    try rules.limit.checkApproval(sellerId: parties.sellerId, approvedOthers: Int(approved))
                }
                let written = try connection.query(
                    InboxSQL.transition,
                    [id, .text(from.rawValue), .text(transition.to.rawValue), .text(command.actor.role.rawValue),
                     .text(command.actor.id), .text(command.actor.caller.rawValue), .text(command.reason?.text ?? "")],
                    deadline: deadline)
                guard let result = written.first, try result.int64("state_rows") == 1 else {
                    throw InboxStoreInvariantError(
                        "\(command.action) of \(command.id) updated no request row or not exactly one state row")
                }
                return TransitionOutcome(
                    request: try Self.decodeRequest(result), from: from, outboxID: try result.int64("outbox_id"))
            }
        }
    }

    /// A READ COMMITTED transaction whose BEGIN travels in one pipeline with
    /// its `opening` statements (their results go to `body`); COMMIT when
    /// `body` returns, ROLLBACK when anything throws.
    ///
    /// Pipelined statements run one after another on the server, each with
    /// its own READ COMMITTED snapshot, so a count placed after a lock reads
    /// what the previous lock holder committed.
    static func transaction<T>(
        on connection: PostgresConnection, opening: [PostgresStatement], deadline: Deadline,
        _ body: ([PostgresRows]) throws -> T
    ) throws -> T {
        do {
            let results = try connection.pipeline(
                [PostgresStatement("BEGIN ISOLATION LEVEL READ COMMITTED")] + opening, deadline: deadline)
            let value = try body(Array(results.dropFirst()))
            try connection.simpleQuery("COMMIT", deadline: deadline)
            return value
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
