-- Lighter writes for the tables every decision writes (issue #4): each
-- decision is one statement that writes authorization_requests,
-- authorization_state, audit_events and cache_outbox, so every CHECK
-- constraint and every index entry of those tables is paid on every call.
-- PostgreSQL evaluates all CHECKs of a table on each INSERT and UPDATE, and
-- at each statement's start re-reads and plans their stored expressions; each
-- index of a row written (or rewritten by a non-HOT update) gets an entry and
-- a WAL record. This migration removes only what guards nothing: constraints
-- other constraints imply, checks on copies nobody reads, and indexes no
-- statement reads whose uniqueness the identity columns already give.
-- See Services/InboxService/README.md ("Where the time goes").

-- audit_events: the status lists are implied by audit_events_legal_transition,
-- which admits only NULL -> REQUESTED, REQUESTED -> APPROVED | REJECTED |
-- CANCELLED and APPROVED -> REVOKED. 0001's form of it evaluated to NULL (and
-- so passed) for a NULL from_status with any to_status other than REQUESTED,
-- e.g. NULL -> APPROVED, which the status lists did not refuse either; the
-- CASE form below is never NULL (to_status is NOT NULL), so any status or
-- pair outside the state machine fails it and the lists add nothing.
ALTER TABLE inbox.audit_events
    DROP CONSTRAINT audit_events_from_status_check,
    DROP CONSTRAINT audit_events_to_status_check,
    DROP CONSTRAINT audit_events_legal_transition,
    ADD CONSTRAINT audit_events_legal_transition CHECK (
        CASE WHEN from_status IS NULL THEN to_status = 'REQUESTED'
             WHEN from_status = 'REQUESTED' THEN to_status IN ('APPROVED', 'REJECTED', 'CANCELLED')
             WHEN from_status = 'APPROVED' THEN to_status = 'REVOKED'
             ELSE false
        END);

-- audit_events: one index instead of two. Every read goes by request
-- (`inbox_get_events`: WHERE request_id = $1 ORDER BY id) and nothing reads by
-- id alone; id is GENERATED ALWAYS AS IDENTITY and the table refuses UPDATE,
-- so (request_id, id) is as unique as id. The key moves to the index the
-- reads use.
CREATE UNIQUE INDEX audit_events_request_key ON inbox.audit_events (request_id, id);
ALTER TABLE inbox.audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE inbox.audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY USING INDEX audit_events_request_key;
DROP INDEX inbox.audit_events_by_request;

-- cache_outbox: version and state are copies of the request row's checked
-- columns, written in the same statement, and only diagnostics read them:
-- the relay writes the pair's current state from authorization_state
-- (InboxSQL.outboxPending), never the row's copy. The columns stay NOT NULL.
ALTER TABLE inbox.cache_outbox
    DROP CONSTRAINT cache_outbox_version_check,
    DROP CONSTRAINT cache_outbox_state_check;

-- cache_outbox: no primary key index. Nothing reads by it (the relay takes,
-- marks and the tests count pending rows through cache_outbox_pending; the
-- prune reads by applied_at), and id is GENERATED ALWAYS AS IDENTITY. Without
-- it an insert writes one index entry instead of two, and marking a row
-- applied (a non-HOT update: applied_at is in the pending index's predicate)
-- writes no index entry at all, where it wrote a new primary-key entry.
ALTER TABLE inbox.cache_outbox DROP CONSTRAINT cache_outbox_pkey;
