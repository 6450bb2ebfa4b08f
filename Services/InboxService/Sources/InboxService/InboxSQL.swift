/// The statements of `Services/InboxService/README.md` ("Transactions"),
/// verbatim apart from the projection being spliced in. Keep the two in step.
///
/// Every statement except the listings is prepared once per connection
/// (`PostgresConnection.query` caches by text); the listings run unprepared
/// so the planner sees whether the product filter is empty (see the README).
enum InboxSQL {
    /// `<request columns>`: the projection of every statement returning a request.
    static let requestColumns = """
        id::text AS id, seller_id, product_id, supplier_id, status, version,
        inbox.unix_micros(created_at) AS created_at_micros,
        coalesce(inbox.unix_micros(decided_at), 0) AS decided_at_micros,
        coalesce(inbox.unix_micros(revoked_at), 0) AS revoked_at_micros,
        reason, note, coalesce(revoked_by, decided_by, '') AS acted_by, idempotency_key
        """

    static let catalogLookup = """
        SELECT p.supplier_id,
               EXISTS (SELECT 1 FROM catalog.sellers s WHERE s.id = $1::text) AS seller_exists
          FROM (SELECT 1) AS one
          LEFT JOIN catalog.products p ON p.id = $2::text
        """

    /// `inbox_seller_lock_take`: locks the seller's lock row until COMMIT,
    /// creating it on the seller's first request. `DO UPDATE ... WHERE false`
    /// locks a conflicting row without writing a new version of it (the
    /// INSERT documentation: "all rows will be locked when the ON CONFLICT DO
    /// UPDATE action is taken"); a concurrent first request of the same
    /// seller waits on this insert. An unknown seller fails the foreign key
    /// (23503 on `seller_locks_seller_id_fkey`), so the statement that
    /// follows never runs without the lock.
    static let sellerLockTake = """
        INSERT INTO inbox.seller_locks AS l (seller_id) VALUES ($1::text)
        ON CONFLICT (seller_id) DO UPDATE SET seller_id = EXCLUDED.seller_id WHERE false
        """

    /// `inbox_seller_lock_take` for the seller of request $1 (Approve when
    /// the seller's holdings exceed the limit). No request: no lock, and the
    /// guarded update that follows finds no row either.
    static let sellerLockTakeOfRequest = """
        INSERT INTO inbox.seller_locks AS l (seller_id)
        SELECT r.seller_id FROM inbox.authorization_requests r WHERE r.id = $1::uuid
        ON CONFLICT (seller_id) DO UPDATE SET seller_id = EXCLUDED.seller_id WHERE false
        """

    static let requestByKey = """
        SELECT \(requestColumns) FROM inbox.authorization_requests
         WHERE seller_id = $1::text AND idempotency_key = $2::text
        """

    /// `inbox_request_preflight`: what a refused Request is explained from
    /// (read after the guarded insert wrote nothing).
    static let requestPreflight = """
        SELECT count(*) FILTER (WHERE status = 'APPROVED')                 AS approved,
               count(*) FILTER (WHERE status = 'REQUESTED')                AS pending,
               min(id::text) FILTER (WHERE product_id = $2::text)          AS open_id,
               min(status) FILTER (WHERE product_id = $2::text)            AS open_status,
               (SELECT inbox.unix_micros(max(h.decided_at))
                  FROM inbox.authorization_requests h
                 WHERE h.seller_id = $1::text AND h.product_id = $2::text
                   AND h.status = 'REJECTED')                              AS last_rejected_micros,
               inbox.unix_micros(statement_timestamp())                    AS now_micros
          FROM inbox.authorization_requests
         WHERE seller_id = $1::text AND status IN ('REQUESTED', 'APPROVED')
        """

    /// `inbox_request_insert`, guarded: runs after `inbox_seller_lock_take`
    /// in the same transaction, and inserts only when every rule of Request
    /// holds on what is committed now (no row with this key, no open request
    /// for the pair, approved + pending below the limit, no rejection within
    /// the cooldown). Each condition is the SQL form of the Swift rule named
    /// beside it; zero rows means a refusal the store then explains from
    /// `inbox_request_preflight` with those very rules.
    ///
    /// $1 seller, $2 product, $3 key, $4 note, $5 caller, $6 "now" in unix
    /// micros (NULL: `statement_timestamp()`; tests inject a clock),
    /// $7 `SELLER_PRODUCT_LIMIT`, $8 the cooldown in micros.
    static let requestInsert = """
        WITH allowed AS (
            SELECT p.supplier_id
              FROM catalog.products p
             WHERE p.id = $2::text
               -- replay (IdempotencyKey): the key is new for this seller
               AND NOT EXISTS (SELECT 1 FROM inbox.authorization_requests k
                                WHERE k.seller_id = $1::text AND k.idempotency_key = $3::text)
               -- one open request per pair
               AND NOT EXISTS (SELECT 1 FROM inbox.authorization_requests o
                                WHERE o.seller_id = $1::text AND o.product_id = $2::text
                                  AND o.status IN ('REQUESTED', 'APPROVED'))
               -- SellerLimitPolicy.decideRequest: approved + pending < limit
               AND (SELECT count(*) FROM inbox.authorization_requests h
                     WHERE h.seller_id = $1::text AND h.status IN ('REQUESTED', 'APPROVED')) < $7::int
               -- RejectCooldown.decide: blocked while now < rejected_at + cooldown
               AND NOT EXISTS (SELECT 1 FROM inbox.authorization_requests c
                                WHERE c.seller_id = $1::text AND c.product_id = $2::text
                                  AND c.status = 'REJECTED'
                                  AND coalesce($6::bigint, inbox.unix_micros(statement_timestamp()))
                                      < inbox.unix_micros(c.decided_at) + $8::bigint)
        ), req AS (
            INSERT INTO inbox.authorization_requests
                   (seller_id, product_id, supplier_id, idempotency_key, note, created_at, version)
            SELECT $1::text, $2::text, allowed.supplier_id, $3::text, $4::text, statement_timestamp(),
                   nextval('inbox.authorization_version_seq')
              FROM allowed
            RETURNING *
        ), state AS (
            INSERT INTO inbox.authorization_state AS s
                   (seller_id, product_id, status, version, request_id, approved_at, revoked_at, updated_at)
            SELECT seller_id, product_id, status, version, id, NULL, NULL, created_at FROM req
            ON CONFLICT (seller_id, product_id) DO UPDATE
               SET status = EXCLUDED.status, version = EXCLUDED.version, request_id = EXCLUDED.request_id,
                   approved_at = NULL, revoked_at = NULL, updated_at = EXCLUDED.updated_at
            RETURNING s.version
        ), audit AS (
            INSERT INTO inbox.audit_events
                   (request_id, from_status, to_status, actor_role, actor_id, caller, reason, version, at)
            SELECT id, NULL, status, 'seller', seller_id, $5::text, '', version, created_at FROM req
        ), outbox AS (
            INSERT INTO inbox.cache_outbox (seller_id, product_id, version, state, created_at)
            SELECT seller_id, product_id, version, status, created_at FROM req
            RETURNING id AS outbox_id
        )
        SELECT \(requestColumns), outbox.outbox_id,
               inbox.require((SELECT count(*) FROM state) = 1, 'request wrote no pair state row') AS state_ok
          FROM req, outbox
        """

    /// How a guarded decision bounds the seller's holdings (approve only).
    enum LimitGuard {
        /// Reject, cancel, revoke: they only lower a seller's holdings.
        case notNeeded
        /// Approve without the seller lock: approved + pending, the request
        /// itself included, within the limit
        /// (`SellerLimitPolicy.approvalIsSafeWithoutLock`).
        case holdingWithinLimit
        /// Approve under the seller lock: the other approved rows below the
        /// limit (`SellerLimitPolicy.decideApproval`), counted in this
        /// statement's snapshot, taken after the lock was granted.
        case approvedBelowLimit

        var condition: String {
            switch self {
            case .notNeeded:
                ""
            case .holdingWithinLimit:
                "\n" + """
                   AND (SELECT count(*) FROM inbox.authorization_requests h
                         WHERE h.seller_id = r.seller_id AND h.status IN ('REQUESTED', 'APPROVED')) <= $11::int
                """
            case .approvedBelowLimit:
                "\n" + """
                   AND (SELECT count(*) FROM inbox.authorization_requests a
                         WHERE a.seller_id = r.seller_id AND a.status = 'APPROVED') < $11::int
                """
            }
        }
    }

    /// `inbox_transition`, guarded: the update applies only when the row is
    /// in the decision's one legal from-state (`AuthorizationTransition.decision`),
    /// the actor's `DecisionScope` admits it and, for approve, the limit
    /// guard holds. Zero rows means a refusal the store then explains from
    /// `inbox_request_diagnosis` with the Swift rules.
    ///
    /// $1 id, $2 from status, $3 to status, $4 actor role, $5 actor id,
    /// $6 caller, $7 reason ('' when none), $8 the scope's seller (NULL: any),
    /// $9 the scope's supplier (NULL: any), $10 false when the scope admits
    /// nobody, $11 `SELLER_PRODUCT_LIMIT` (approve only).
    static func transition(_ limit: LimitGuard) -> String {
        """
        WITH req AS (
            UPDATE inbox.authorization_requests r
               SET status     = $3::text,
                   reason     = $7::text,
                   decided_at = CASE WHEN $2::text = 'REQUESTED' THEN statement_timestamp() ELSE r.decided_at END,
                   decided_by = CASE WHEN $2::text = 'REQUESTED' THEN $5::text ELSE r.decided_by END,
                   revoked_at = CASE WHEN $3::text = 'REVOKED' THEN statement_timestamp() END,
                   revoked_by = CASE WHEN $3::text = 'REVOKED' THEN $5::text END,
                   version    = nextval('inbox.authorization_version_seq')
             WHERE r.id = $1::uuid AND r.status = $2::text
               AND $10::boolean
               AND ($8::text IS NULL OR r.seller_id = $8::text)
               AND ($9::text IS NULL OR r.supplier_id = $9::text)\(limit.condition)
            RETURNING r.*
        ), \(pairStateFromRequests)
        ), audit AS (
            INSERT INTO inbox.audit_events
                   (request_id, from_status, to_status, actor_role, actor_id, caller, reason, version, at)
            SELECT id, $2::text, status, $4::text, $5::text, $6::text, $7::text, version, statement_timestamp()
              FROM req
        ), outbox AS (
            INSERT INTO inbox.cache_outbox (seller_id, product_id, version, state, created_at)
            SELECT seller_id, product_id, version, status, statement_timestamp() FROM req
            RETURNING id AS outbox_id
        )
        SELECT \(requestColumns), outbox.outbox_id,
               inbox.require((SELECT count(*) FROM state) = 1, 'transition updated no pair state row') AS state_ok
          FROM req, outbox
        """
    }

    /// The `state` step of both transition statements: the pair's state
    /// row follows the request rows the `req` step moved (one per pair).
    private static let pairStateFromRequests = """
        state AS (
            UPDATE inbox.authorization_state s
               SET status      = req.status,
                   version     = req.version,
                   approved_at = CASE WHEN req.status = 'APPROVED' THEN req.decided_at ELSE s.approved_at END,
                   revoked_at  = req.revoked_at,
                   updated_at  = statement_timestamp()
              FROM req
             WHERE s.seller_id = req.seller_id AND s.product_id = req.product_id AND s.request_id = req.id
            RETURNING s.version
        """

    /// `inbox_transition_batch`: the guarded decisions of several calls in
    /// one statement (``TransitionBatcher``: one round trip, one commit).
    /// Item k's guards are exactly `inbox_transition`'s with its own
    /// parameters taken from element k of each array, and an approval uses
    /// the unlocked guard (`LimitGuard.holdingWithinLimit`, sound in one
    /// snapshot for the reason `SellerLimitPolicy.approvalIsSafeWithoutLock`
    /// gives: approvals never raise approved + pending). An item whose guards
    /// fail gets no row; its caller explains it alone. Two items on one
    /// request: the row is updated once, by the first whose guards hold, and
    /// the second then finds it moved on, as two sequential calls would.
    /// Requests updated together belong to distinct pairs (a pair has one
    /// open request), so each `req` row matches one state row and one outbox
    /// row.
    ///
    /// $1 item numbers, $2 ids, $3 from statuses, $4 to statuses, $5 actor
    /// roles, $6 actor ids, $7 callers, $8 reasons, $9 scope sellers (NULL:
    /// any), $10 scope suppliers (NULL: any), $11 whether the scope admits
    /// anybody, $12 the approval limit (NULL: not an approval).
    static let transitionBatch = """
        WITH input AS (
            SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::text[], $10::text[], $11::boolean[], $12::int[])
                AS i(item, id, from_status, to_status, actor_role, actor_id, caller, reason, scope_seller,
                     scope_supplier, admitted, holding_limit)
        ), req AS (
            UPDATE inbox.authorization_requests r
               SET status     = i.to_status,
                   reason     = i.reason,
                   decided_at = CASE WHEN i.from_status = 'REQUESTED' THEN statement_timestamp() ELSE r.decided_at END,
                   decided_by = CASE WHEN i.from_status = 'REQUESTED' THEN i.actor_id ELSE r.decided_by END,
                   revoked_at = CASE WHEN i.to_status = 'REVOKED' THEN statement_timestamp() END,
                   revoked_by = CASE WHEN i.to_status = 'REVOKED' THEN i.actor_id END,
                   version    = nextval('inbox.authorization_version_seq')
              FROM input i
             WHERE r.id = i.id AND r.status = i.from_status
               AND i.admitted
               AND (i.scope_seller IS NULL OR r.seller_id = i.scope_seller)
               AND (i.scope_supplier IS NULL OR r.supplier_id = i.scope_supplier)
               AND (i.holding_limit IS NULL
                    OR (SELECT count(*) FROM inbox.authorization_requests h
                         WHERE h.seller_id = r.seller_id AND h.status IN ('REQUESTED', 'APPROVED')) <= i.holding_limit)
            RETURNING r.*, i.item, i.from_status, i.actor_role, i.actor_id, i.caller
        ), \(pairStateFromRequests)
        ), audit AS (
            INSERT INTO inbox.audit_events
                   (request_id, from_status, to_status, actor_role, actor_id, caller, reason, version, at)
            SELECT id, from_status, status, actor_role, actor_id, caller, reason, version, statement_timestamp()
              FROM req ORDER BY item
        ), outbox AS (
            INSERT INTO inbox.cache_outbox (seller_id, product_id, version, state, created_at)
            SELECT seller_id, product_id, version, status, statement_timestamp() FROM req ORDER BY item
            RETURNING id AS outbox_id, seller_id AS outbox_seller_id, product_id AS outbox_product_id
        )
        SELECT req.item, \(requestColumns), outbox.outbox_id,
               inbox.require((SELECT count(*) FROM state) = (SELECT count(*) FROM req),
                             'a batched transition updated no pair state row') AS state_ok
          FROM req
          JOIN outbox ON outbox.outbox_seller_id = req.seller_id AND outbox.outbox_product_id = req.product_id
        """

    static let decide = transition(.notNeeded)
    static let approveUnlocked = transition(.holdingWithinLimit)
    static let approveLocked = transition(.approvedBelowLimit)

    /// `inbox_request_diagnosis`: a request's parties and status with its
    /// seller's counts, read after a guarded decision wrote nothing, to
    /// explain why (or to find that approving needs the seller lock).
    static let requestDiagnosis = """
        SELECT r.seller_id, r.product_id, r.supplier_id, r.status,
               (SELECT count(*) FROM inbox.authorization_requests a
                 WHERE a.seller_id = r.seller_id AND a.status = 'APPROVED') AS approved,
               (SELECT count(*) FROM inbox.authorization_requests h
                 WHERE h.seller_id = r.seller_id AND h.status IN ('REQUESTED', 'APPROVED')) AS holding
          FROM inbox.authorization_requests r WHERE r.id = $1::uuid
        """

    static let get = "SELECT \(requestColumns) FROM inbox.authorization_requests WHERE id = $1::uuid"

    static let getEvents = """
        SELECT request_id::text, from_status, to_status, actor_role, actor_id, caller, reason,
               inbox.unix_micros(at) AS at_micros, version
          FROM inbox.audit_events WHERE request_id = $1::uuid ORDER BY id
        """

    /// `inbox_list_by_supplier` / `inbox_list_by_seller`: `ownerColumn` is
    /// one of two constants, never input.
    static func list(ownerColumn: String) -> String {
        """
        SELECT \(requestColumns) FROM inbox.authorization_requests r
         WHERE r.\(ownerColumn) = $1::text
           AND (cardinality($2::text[]) = 0 OR r.status = ANY ($2::text[]))
           AND ($3::text = '' OR r.product_id = $3::text)
           AND (r.status_rank, r.created_at, r.id) > ($4::smallint, inbox.from_unix_micros($5::bigint), $6::uuid)
         ORDER BY r.status_rank, r.created_at, r.id
         LIMIT $7::int
        """
    }

    static let listBySupplier = list(ownerColumn: "supplier_id")
    static let listBySeller = list(ownerColumn: "seller_id")

    static let inboxSize =
        "SELECT count(*) FROM inbox.authorization_requests WHERE supplier_id = $1::text AND status_rank = 0"

    static let inboxSizeGauges = """
        SELECT coalesce(sum(n), 0)::bigint AS total, coalesce(max(n), 0)::bigint AS largest
          FROM (SELECT count(*) AS n FROM inbox.authorization_requests
                 WHERE status = 'REQUESTED' GROUP BY supplier_id) AS per_supplier
        """

    static let outboxAppliedMany = """
        UPDATE inbox.cache_outbox SET applied_at = statement_timestamp()
         WHERE id = ANY ($1::bigint[]) AND applied_at IS NULL
        """

    /// `inbox_outbox_pending`, joined with the pair's current state: the
    /// outbox row says *which* pair changed; the relay writes the pair's
    /// newest state (never older than the row; the CAS refuses anything older
    /// than what Redis holds). Transitions of one pair are sequential (each
    /// starts after the previous one committed), so id order is version
    /// order within a pair.
    static let outboxPending = """
        SELECT o.id, o.seller_id, o.product_id, s.version, s.status,
               coalesce(inbox.unix_micros(s.approved_at), 0) AS approved_at_micros,
               coalesce(inbox.unix_micros(s.revoked_at), 0) AS revoked_at_micros
          FROM inbox.cache_outbox o
          JOIN inbox.authorization_state s ON s.seller_id = o.seller_id AND s.product_id = o.product_id
         WHERE o.applied_at IS NULL
         ORDER BY o.id LIMIT $1::int
           FOR UPDATE OF o SKIP LOCKED
        """

    static let outboxPendingCount = "SELECT count(*) FROM inbox.cache_outbox WHERE applied_at IS NULL"

    /// `inbox_outbox_prune` with the retention as a parameter (seconds).
    static let outboxPrune = """
        DELETE FROM inbox.cache_outbox
         WHERE applied_at < statement_timestamp() - make_interval(secs => $1::float8)
        """
}
