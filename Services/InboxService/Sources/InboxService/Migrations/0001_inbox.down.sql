-- Reverses 0001_inbox.up.sql. Drops every object by name (no CASCADE), so an
-- object a later migration forgot to drop makes this fail loudly instead of
-- vanishing silently.
DROP TABLE inbox.cache_outbox;
DROP TRIGGER audit_events_no_truncate ON inbox.audit_events;
DROP TRIGGER audit_events_no_update_or_delete ON inbox.audit_events;
DROP TABLE inbox.audit_events;
DROP FUNCTION inbox.audit_events_append_only();
DROP TABLE inbox.seller_locks;
DROP TABLE inbox.authorization_state;
DROP FUNCTION inbox.authorization_state_version_grows();
DROP TABLE inbox.authorization_requests;
DROP FUNCTION inbox.from_unix_micros(bigint);
DROP FUNCTION inbox.unix_micros(timestamptz);
DROP SEQUENCE inbox.authorization_version_seq;
DROP SCHEMA inbox;
