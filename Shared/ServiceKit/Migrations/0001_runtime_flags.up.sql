-- Runtime flags: values an operator set at runtime, per service, overriding
-- the environment defaults the instances started with. Every instance polls
-- this table (one indexed read per second) and applies changes within 2 s.
CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE ops.runtime_flags (
    service     text NOT NULL CHECK (service IN ('gate', 'inbox', 'policy')),
    name        text NOT NULL CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
    value       text NOT NULL CHECK (length(value) <= 4096),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL CHECK (updated_by <> ''),
    PRIMARY KEY (service, name)
);

-- Append-only: who changed what, from what to what, and why.
CREATE TABLE ops.runtime_flag_audit (
    id          bigserial PRIMARY KEY,
    service     text NOT NULL,
    name        text NOT NULL,
    old_value   text,
    new_value   text NOT NULL,
    actor       text NOT NULL,
    caller      text NOT NULL,
    reason      text NOT NULL CHECK (reason <> ''),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runtime_flag_audit_lookup ON ops.runtime_flag_audit (service, name, changed_at DESC);

CREATE FUNCTION ops.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ops.runtime_flag_audit is append-only';
END;
$$;
CREATE TRIGGER runtime_flag_audit_append_only
    BEFORE UPDATE OR DELETE ON ops.runtime_flag_audit
    FOR EACH ROW EXECUTE FUNCTION ops.refuse_audit_change();
