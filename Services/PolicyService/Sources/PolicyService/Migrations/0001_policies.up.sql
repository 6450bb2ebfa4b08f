-- PolicyService: commission policies, their links to products, suppliers and
-- seller tiers, an append-only audit trail, and the recorded commission lines
-- with their frozen policy snapshots. Every rule PolicyCore's PolicyValidator
-- enforces is mirrored here as a constraint, so a write that bypasses the
-- service still cannot store a policy settlement would choke on.
--
-- Units: money is bigint minor units of an ISO 4217 currency; rates are
-- rate_ppm (parts per million: 1000000 = 100 %, 125000 = 12.5 %); windows are
-- half-open [valid_from, valid_until) with NULL for an open end.

-- Text equality inside GiST exclusion constraints (policy_links below).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE SCHEMA IF NOT EXISTS policy;

CREATE TABLE policy.policies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code             text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
    kind             text NOT NULL CHECK (kind IN ('PRODUCT', 'SUPPLIER', 'TIER', 'DEFAULT')),
    commission_type  text NOT NULL CHECK (commission_type IN ('PERCENTAGE', 'FIXED')),
    rate_ppm         bigint NOT NULL DEFAULT 0 CHECK (rate_ppm BETWEEN 0 AND 1000000),
    fixed_amount     bigint NOT NULL DEFAULT 0 CHECK (fixed_amount BETWEEN 0 AND 1000000000000000),
    -- Currency of fixed_amount and the caps; NULL for a percentage policy
    -- without caps (it prices lines of any currency). The list of known codes
    -- lives in PolicyCore.Currency; here only the shape is checked.
    currency         char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    min_commission   bigint CHECK (min_commission BETWEEN 0 AND 1000000000000000),
    max_commission   bigint CHECK (max_commission BETWEEN 0 AND 1000000000000000),
    status           text NOT NULL CHECK (status IN ('active', 'inactive')),
    valid_from       timestamptz,
    valid_until      timestamptz,
    -- 1 at creation; every edit (terms or status) adds 1. Updates compare it
    -- with the caller's expected_version (optimistic concurrency).
    version          bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL CHECK (created_by <> ''),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL CHECK (updated_by <> ''),

    CONSTRAINT policies_min_not_above_max
        CHECK (min_commission IS NULL OR max_commission IS NULL OR min_commission <= max_commission),
    CONSTRAINT policies_window_not_empty
        CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
    CONSTRAINT policies_amounts_have_currency
        CHECK (currency IS NOT NULL
               OR (commission_type = 'PERCENTAGE' AND min_commission IS NULL AND max_commission IS NULL)),
    CONSTRAINT policies_type_uses_its_own_field
        CHECK ((commission_type = 'PERCENTAGE' AND fixed_amount = 0)
               OR (commission_type = 'FIXED' AND rate_ppm = 0)),
    -- Two DEFAULT policies active at the same instant would make the fallback
    -- ambiguous: refused whatever the order of writes.
    CONSTRAINT policies_one_active_default_at_a_time
        EXCLUDE USING gist (tstzrange(valid_from, valid_until, '[)') WITH &&)
        WHERE (kind = 'DEFAULT' AND status = 'active')
);

-- The fallback level of every resolution reads the DEFAULT policies.
CREATE INDEX policies_defaults_idx ON policy.policies (valid_from) WHERE kind = 'DEFAULT';

-- A link from a scope to a policy of the same kind. A scope may hold several
-- links (e.g. this year's and next year's policy) but their windows may not
-- overlap. The policy's kind and window are copied into the link row by the
-- triggers below so that the exclusion constraint can see them; they are
-- never written by the service.
--
-- scope_id is not a foreign key into catalog: the catalog belongs to another
-- owner and must stay deletable; the service checks existence when linking.
CREATE TABLE policy.policy_links (
    scope_kind             text NOT NULL CHECK (scope_kind IN ('PRODUCT', 'SUPPLIER', 'TIER')),
    scope_id               text NOT NULL CHECK (scope_id <> '' AND length(scope_id) <= 128),
    policy_id              uuid NOT NULL REFERENCES policy.policies (id),
    -- SUPPLIER links only; NULL = the platform's default cycle.
    settlement_cycle_days  integer CHECK (settlement_cycle_days BETWEEN 1 AND 365),
    policy_kind            text NOT NULL,
    valid_from             timestamptz,
    valid_until            timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    created_by             text NOT NULL CHECK (created_by <> ''),

    PRIMARY KEY (scope_kind, scope_id, policy_id),
    CONSTRAINT policy_links_cycle_only_for_suppliers
        CHECK (settlement_cycle_days IS NULL OR scope_kind = 'SUPPLIER'),
    CONSTRAINT policy_links_kind_matches_policy
        CHECK (policy_kind = scope_kind),
    CONSTRAINT policy_links_no_overlap_per_scope
        EXCLUDE USING gist (
            scope_kind WITH =,
            scope_id WITH =,
            tstzrange(valid_from, valid_until, '[)') WITH &&
        )
);

-- GetPolicy lists a policy's links; the primary key serves the per-batch
-- preload (scope_kind = $1 AND scope_id = ANY($2)).
CREATE INDEX policy_links_policy_idx ON policy.policy_links (policy_id);

-- Fills a link's copy of its policy's kind and window.
CREATE FUNCTION policy.policy_links_copy_policy() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.kind, p.valid_from, p.valid_until
      INTO NEW.policy_kind, NEW.valid_from, NEW.valid_until
      FROM policy.policies AS p
     WHERE p.id = NEW.policy_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'policy_id: unknown policy %', NEW.policy_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER policy_links_copy_policy
    BEFORE INSERT OR UPDATE ON policy.policy_links
    FOR EACH ROW EXECUTE FUNCTION policy.policy_links_copy_policy();

-- Re-copies an edited policy's kind and window into its links: an edit that
-- would make two links of one scope overlap fails on the exclusion constraint
-- (SQLSTATE 23P01), a kind change of a linked policy on the kind check (23514).
CREATE FUNCTION policy.policies_propagate_to_links() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE policy.policy_links
       SET policy_kind = NEW.kind, valid_from = NEW.valid_from, valid_until = NEW.valid_until
     WHERE policy_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER policies_propagate_to_links
    AFTER UPDATE OF kind, valid_from, valid_until ON policy.policies
    FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.valid_from IS DISTINCT FROM NEW.valid_from
          OR OLD.valid_until IS DISTINCT FROM NEW.valid_until)
    EXECUTE FUNCTION policy.policies_propagate_to_links();

-- Append-only history of policy and link edits.
CREATE TABLE policy.policy_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_id   uuid NOT NULL REFERENCES policy.policies (id),
    action      text NOT NULL
                CHECK (action IN ('CREATE', 'UPDATE', 'ACTIVATE', 'DEACTIVATE', 'LINK', 'UNLINK')),
    -- The operator id from the request.
    actor       text NOT NULL CHECK (actor <> ''),
    -- The wire caller credential ("operator").
    caller      text NOT NULL CHECK (caller <> ''),
    reason      text CHECK (length(reason) <= 1000),
    at          timestamptz NOT NULL DEFAULT now(),
    before      jsonb,
    after       jsonb,
    CONSTRAINT policy_audit_states_present
        CHECK ((action = 'CREATE' OR before IS NOT NULL) AND (action = 'UNLINK' OR after IS NOT NULL))
);

CREATE INDEX policy_audit_policy_idx ON policy.policy_audit (policy_id, id);

CREATE FUNCTION policy.policy_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy.policy_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER policy_audit_append_only
    BEFORE UPDATE OR DELETE ON policy.policy_audit
    FOR EACH ROW EXECUTE FUNCTION policy.policy_audit_refuse_change();

CREATE TRIGGER policy_audit_no_truncate
    BEFORE TRUNCATE ON policy.policy_audit
    FOR EACH STATEMENT EXECUTE FUNCTION policy.policy_audit_refuse_change();

-- One commission line per order item: order_item_id is the idempotency key
-- of RecordCommissions (INSERT ... ON CONFLICT DO NOTHING, then read back).
-- The applied policy is frozen into typed columns: editing the policy later
-- never changes a recorded line. There is deliberately no foreign key to
-- policy.policies: a snapshot is a copy, not a reference.
CREATE TABLE policy.commission_lines (
    order_item_id      text PRIMARY KEY CHECK (order_item_id <> '' AND length(order_item_id) <= 128),
    -- The settlement batch that last wrote the line.
    batch_id           text NOT NULL CHECK (batch_id <> '' AND length(batch_id) <= 128),

    -- The item as priced; a repeat must carry the same values unless it
    -- asks for a recalculation.
    product_id         text NOT NULL CHECK (product_id <> ''),
    supplier_id        text,
    seller_id          text,
    seller_tier        text,
    line_amount        bigint NOT NULL CHECK (line_amount BETWEEN 1 AND 1000000000000000),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    ordered_at         timestamptz NOT NULL,

    -- The result.
    level              text NOT NULL CHECK (level IN ('product', 'supplier', 'tier', 'default', 'safe_mode')),
    commission_amount  bigint NOT NULL,

    -- The frozen snapshot; all NULL exactly in safe mode.
    policy_id          uuid,
    policy_code        text,
    policy_version     bigint,
    policy_kind        text CHECK (policy_kind IN ('PRODUCT', 'SUPPLIER', 'TIER', 'DEFAULT')),
    commission_type    text CHECK (commission_type IN ('PERCENTAGE', 'FIXED')),
    rate_ppm           bigint CHECK (rate_ppm BETWEEN 0 AND 1000000),
    fixed_amount       bigint CHECK (fixed_amount >= 0),
    policy_currency    char(3),
    min_commission     bigint,
    max_commission     bigint,
    valid_from         timestamptz,
    valid_until        timestamptz,

    recorded_at        timestamptz NOT NULL DEFAULT now(),
    recalculated_at    timestamptz,

    CONSTRAINT commission_lines_within_line
        CHECK (commission_amount BETWEEN 0 AND line_amount),
    CONSTRAINT commission_lines_safe_mode_has_no_policy
        CHECK ((level = 'safe_mode') = (policy_id IS NULL)),
    CONSTRAINT commission_lines_safe_mode_is_free
        CHECK (level <> 'safe_mode' OR commission_amount = 0),
    CONSTRAINT commission_lines_snapshot_complete
        CHECK (policy_id IS NULL
               OR (policy_code IS NOT NULL AND policy_version IS NOT NULL AND policy_kind IS NOT NULL
                   AND commission_type IS NOT NULL AND rate_ppm IS NOT NULL AND fixed_amount IS NOT NULL)),
    CONSTRAINT commission_lines_level_matches_policy
        CHECK (policy_kind IS NULL OR lower(policy_kind) = level),
    CONSTRAINT commission_lines_recalculated_after_recorded
        CHECK (recalculated_at IS NULL OR recalculated_at >= recorded_at)
);

-- Settlement reads a batch's lines; operators ask which lines a policy priced.
CREATE INDEX commission_lines_batch_idx ON policy.commission_lines (batch_id);
CREATE INDEX commission_lines_policy_idx ON policy.commission_lines (policy_id) WHERE policy_id IS NOT NULL;
