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

    static let sellerLockCreate =
        "INSERT INTO inbox.seller_locks (seller_id) VALUES ($1::text) ON CONFLICT (seller_id) DO NOTHING"

    static let sellerLock = "SELECT seller_id FROM inbox.seller_locks WHERE seller_id = $1::text FOR UPDATE"

    static let requestByKey = """
        SELECT \(requestColumns) FROM inbox.authorization_requests
         WHERE seller_id = $1::text AND idempotency_key = $2::text
        """

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

    static let requestInsert = """
        WITH req AS (
            INSERT INTO inbox.authorization_requests
                   (seller_id, product_id, supplier_id, idempotency_key, note, created_at, version)
            VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, statement_timestamp(),
                    nextval('inbox.authorization_version_seq'))
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
            SELECT id, NULL, status, 'seller', seller_id, $6::text, '', version, created_at FROM req
        ), outbox AS (
            INSERT INTO inbox.cache_outbox (seller_id, product_id, version, state, created_at)
            SELECT seller_id, product_id, version, status, created_at FROM req
            RETURNING id AS outbox_id
        )
        SELECT \(requestColumns), outbox.outbox_id, (SELECT count(*) FROM state) AS state_rows
          FROM req, outbox
        """

    static let sellerApprovedCount = """
        SELECT count(*) FROM inbox.authorization_requests
         WHERE seller_id = $1::text AND status = 'APPROVED'
        """

    static let requestLock = "SELECT status FROM inbox.authorization_requests WHERE id = $1::uuid FOR UPDATE"

    /// `inbox_request_lock` returning the parties too, so the lock and the
    /// authorization input arrive in the same round trip.
    static let requestLockWithParties = """
        SELECT seller_id, product_id, supplier_id, status
          FROM inbox.authorization_requests WHERE id = $1::uuid FOR UPDATE
        """

    /// `inbox_seller_lock` for the seller of request $1 (Approve), so it can
    /// be pipelined before the request's row is read. No row: unknown request
    /// (or a seller without a lock row, see the store).
    static let sellerLockOfRequest = """
        SELECT l.seller_id FROM inbox.seller_locks l
         WHERE l.seller_id = (SELECT r.seller_id FROM inbox.authorization_requests r WHERE r.id = $1::uuid)
           FOR UPDATE OF l
        """

    /// `inbox_seller_approved_count` for the seller of request $1.
    static let sellerApprovedCountOfRequest = """
        SELECT count(*) FROM inbox.authorization_requests
         WHERE seller_id = (SELECT r.seller_id FROM inbox.authorization_requests r WHERE r.id = $1::uuid)
           AND status = 'APPROVED'
        """

    static let transition = """
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
            RETURNING r.*
        ), state AS (
            UPDATE inbox.authorization_state s
               SET status      = req.status,
                   version     = req.version,
                   approved_at = CASE WHEN req.status = 'APPROVED' THEN req.decided_at ELSE s.approved_at END,
                   revoked_at  = req.revoked_at,
                   updated_at  = statement_timestamp()
              FROM req
             WHERE s.seller_id = req.seller_id AND s.product_id = req.product_id AND s.request_id = req.id
            RETURNING s.version
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
        SELECT \(requestColumns), outbox.outbox_id, (SELECT count(*) FROM state) AS state_rows
          FROM req, outbox
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
    /// than what Redis holds). Rows of one pair are inserted under the pair's
    /// locks, so id order is version order within a pair.
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
