-- InboxService: seller authorization requests, supplier decisions, the
-- per-pair state the gate reads, the audit trail and the cache outbox.
-- The SQL the store runs for each action is in Services/InboxService/README.md
-- ("Transactions"); keep the two in step.
--
-- Invariants the schema enforces (not just the code):
--   * one open (REQUESTED or APPROVED) request per seller and product;
--   * one idempotency key per seller, ever;
--   * a request's timestamps agree with its status;
--   * a pair's version only ever grows (trigger), so a cache entry written
--     with a newer version can never be overwritten by an older read;
--   * audit rows are never updated, deleted or truncated (trigger).
CREATE SCHEMA IF NOT EXISTS inbox;

-- Versions of authorization pairs: one global sequence, bumped on every
-- transition of any pair. CACHE must stay 1 (the default): with a per-session
-- cache a later transition could draw a smaller number than an earlier one and
-- the gate cache's compare-and-set would keep the older decision.
-- Transitions of one pair are serialized by row locks, and each draws its
-- number while holding them, so a pair's versions grow in commit order.
CREATE SEQUENCE inbox.authorization_version_seq AS bigint MINVALUE 1 START WITH 1 CACHE 1;

-- Unix microseconds <-> timestamptz, exact (no float8 round trip), for the
-- wire's int64 *_unix_micros fields. The gate uses them too. STABLE, not
-- IMMUTABLE, because the built-ins they wrap are STABLE; declaring the true
-- volatility lets the planner inline them.
CREATE FUNCTION inbox.unix_micros(at timestamptz) RETURNS bigint
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (extract(epoch FROM at) * 1000000)::bigint;

CREATE FUNCTION inbox.from_unix_micros(micros bigint) RETURNS timestamptz
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN timestamptz 'epoch' + micros * interval '1 microsecond';

-- One row per request. Terminal rows never change; a new request is a new row.
CREATE TABLE inbox.authorization_requests (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id        text NOT NULL REFERENCES catalog.sellers (id),
    product_id       text NOT NULL REFERENCES catalog.products (id),
    -- The product's supplier at request time (denormalized from
    -- catalog.products): the inbox is listed and authorized by it.
    supplier_id      text NOT NULL REFERENCES catalog.suppliers (id),
    status           text NOT NULL DEFAULT 'REQUESTED'
                     CHECK (status IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED')),
    -- The first key of every listing order: pending (0) before the rest (1).
    status_rank      smallint GENERATED ALWAYS AS (CASE WHEN status = 'REQUESTED' THEN 0 ELSE 1 END) STORED,
    idempotency_key  text NOT NULL CHECK (idempotency_key ~ '^[A-Za-z0-9._:-]{1,128}$'),
    note             text NOT NULL DEFAULT '' CHECK (char_length(note) <= 1000),
    -- The reason of the latest decision (required for REJECTED and REVOKED;
    -- a revoke replaces the approval's reason, which the audit keeps).
    reason           text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- When approved, rejected or cancelled, and by whom (supplier or seller id).
    decided_at       timestamptz,
    decided_by       text,
    -- When revoked, and by whom (supplier or operator id).
    revoked_at       timestamptz,
    revoked_by       text,
    -- The pair's version after this row's latest transition.
    version          bigint NOT NULL CHECK (version > 0),
    CONSTRAINT authorization_requests_idempotency_key UNIQUE (seller_id, idempotency_key),
    CONSTRAINT authorization_requests_decided_matches_status
        CHECK ((status = 'REQUESTED') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
    CONSTRAINT authorization_requests_revoked_matches_status
        CHECK ((status = 'REVOKED') = (revoked_at IS NOT NULL) AND (revoked_at IS NULL) = (revoked_by IS NULL)),
    CONSTRAINT authorization_requests_revoked_after_decided
        CHECK (revoked_at IS NULL OR revoked_at >= decided_at),
    CONSTRAINT authorization_requests_reason_required
        CHECK (status NOT IN ('REJECTED', 'REVOKED') OR reason <> '')
);

-- One open request per seller and product. Also serves the limit count
-- (seller_id prefix) and the open-request check of Request.
CREATE UNIQUE INDEX authorization_requests_one_open_per_pair
    ON inbox.authorization_requests (seller_id, product_id)
    WHERE status IN ('REQUESTED', 'APPROVED');

-- A pair's history: the cooldown (latest REJECTED decided_at) and the gate's
-- settlement question "was the seller approved at time T?":
--   status IN ('APPROVED','REVOKED') AND decided_at <= T AND (revoked_at IS NULL OR revoked_at > T)
CREATE INDEX authorization_requests_pair_history
    ON inbox.authorization_requests (seller_id, product_id, decided_at);

-- ListInbox: one index range scan per page,
--   WHERE supplier_id = $1 AND (status_rank, created_at, id) > ($2, $3, $4)
--   ORDER BY status_rank, created_at, id
-- and InboxSize (supplier_id = $1 AND status_rank = 0).
CREATE INDEX authorization_requests_inbox_order
    ON inbox.authorization_requests (supplier_id, status_rank, created_at, id);

-- ListInbox filtered by product (a product has one supplier).
CREATE INDEX authorization_requests_product_order
    ON inbox.authorization_requests (product_id, status_rank, created_at, id);

-- ListMine, same order.
CREATE INDEX authorization_requests_seller_order
    ON inbox.authorization_requests (seller_id, status_rank, created_at, id);

-- The inbox-size gauges (total pending, largest supplier): a small index of
-- pending rows only.
CREATE INDEX authorization_requests_pending_by_supplier
    ON inbox.authorization_requests (supplier_id)
    WHERE status = 'REQUESTED';

-- The current authorization of each seller/product pair: the status of its
-- latest request. The gate reads it by primary key and caches
-- (version, status); no row means "never requested" (version 0).
CREATE TABLE inbox.authorization_state (
    seller_id    text NOT NULL,
    product_id   text NOT NULL,
    status       text NOT NULL
                 CHECK (status IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED')),
    version      bigint NOT NULL CHECK (version > 0),
    -- The latest request of the pair.
    request_id   uuid NOT NULL REFERENCES inbox.authorization_requests (id),
    -- That request's approval and revocation times (NULL when not yet).
    approved_at  timestamptz,
    revoked_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (seller_id, product_id),
    CONSTRAINT authorization_state_approved_has_time CHECK (status <> 'APPROVED' OR approved_at IS NOT NULL),
    CONSTRAINT authorization_state_revoked_has_time CHECK ((status = 'REVOKED') = (revoked_at IS NOT NULL))
);

-- A pair's version must grow on every change: the gate cache's
-- compare-and-set relies on it, and a bug here would let a stale ALLOW win.
CREATE FUNCTION inbox.authorization_state_version_grows() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version <= OLD.version THEN
        RAISE EXCEPTION 'inbox.authorization_state: version of (%, %) must grow (% -> %)',
            OLD.seller_id, OLD.product_id, OLD.version, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER authorization_state_version_grows
    BEFORE UPDATE ON inbox.authorization_state
    FOR EACH ROW EXECUTE FUNCTION inbox.authorization_state_version_grows();

-- The per-seller lock row. Request and Approve take it with
-- SELECT ... FOR UPDATE (after an upsert, so it exists before the first
-- request) and count the seller's holdings under it: concurrent requests and
-- approvals of one seller serialize, and the limit cannot be overshot.
-- Counting under the lock (via authorization_requests_one_open_per_pair, at
-- most SELLER_PRODUCT_LIMIT entries) instead of keeping counter columns
-- means there is no second copy of the truth to drift.
CREATE TABLE inbox.seller_locks (
    seller_id   text PRIMARY KEY REFERENCES catalog.sellers (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Append-only: one row per transition, written in the transition's
-- transaction.
CREATE TABLE inbox.audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id   uuid NOT NULL REFERENCES inbox.authorization_requests (id),
    -- NULL for the creating event.
    from_status  text CHECK (from_status IN ('REQUESTED', 'APPROVED')),
    to_status    text NOT NULL
                 CHECK (to_status IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED')),
    actor_role   text NOT NULL CHECK (actor_role IN ('seller', 'supplier', 'operator')),
    actor_id     text NOT NULL CHECK (actor_id <> '' AND char_length(actor_id) <= 128),
    -- The wire credential the actor came through ("supplier-portal", "operator").
    caller       text NOT NULL CHECK (caller <> ''),
    reason       text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    -- The pair version this transition produced.
    version      bigint NOT NULL CHECK (version > 0),
    at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_events_legal_transition CHECK (
        (from_status IS NULL AND to_status = 'REQUESTED')
        OR (from_status = 'REQUESTED' AND to_status IN ('APPROVED', 'REJECTED', 'CANCELLED'))
        OR (from_status = 'APPROVED' AND to_status = 'REVOKED')
    )
);
CREATE INDEX audit_events_by_request ON inbox.audit_events (request_id, id);

CREATE FUNCTION inbox.audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inbox.audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON inbox.audit_events
    FOR EACH ROW EXECUTE FUNCTION inbox.audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON inbox.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION inbox.audit_events_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON inbox.audit_events FROM PUBLIC;

-- Cache write-through outbox: every transition adds a row in its
-- transaction. After COMMIT the service writes (version, state) to Redis with
-- the gate's compare-and-set and sets applied_at; rows Redis could not take
-- stay pending and a background applier retries them in id order. Applying
-- an old row late is harmless: the compare-and-set refuses versions older
-- than the cached one.
CREATE TABLE inbox.cache_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id   text NOT NULL,
    product_id  text NOT NULL,
    version     bigint NOT NULL CHECK (version > 0),
    state       text NOT NULL
                CHECK (state IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz
);
-- The applier's work queue: pending rows only, oldest first.
CREATE INDEX cache_outbox_pending ON inbox.cache_outbox (id) WHERE applied_at IS NULL;
