-- Reverses 0003_lighter_writes.up.sql (the names 0001 gave).
ALTER TABLE inbox.cache_outbox ADD CONSTRAINT cache_outbox_pkey PRIMARY KEY (id);
ALTER TABLE inbox.cache_outbox
    ADD CONSTRAINT cache_outbox_version_check CHECK (version > 0),
    ADD CONSTRAINT cache_outbox_state_check
        CHECK (state IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED'));

CREATE INDEX audit_events_by_request ON inbox.audit_events (request_id, id);
ALTER TABLE inbox.audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE inbox.audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);
ALTER TABLE inbox.audit_events
    DROP CONSTRAINT audit_events_legal_transition,
    ADD CONSTRAINT audit_events_legal_transition CHECK (
        (from_status IS NULL AND to_status = 'REQUESTED')
        OR (from_status = 'REQUESTED' AND to_status IN ('APPROVED', 'REJECTED', 'CANCELLED'))
        OR (from_status = 'APPROVED' AND to_status = 'REVOKED')
    ),
    ADD CONSTRAINT audit_events_from_status_check CHECK (from_status IN ('REQUESTED', 'APPROVED')),
    ADD CONSTRAINT audit_events_to_status_check
        CHECK (to_status IN ('REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'REVOKED'));
