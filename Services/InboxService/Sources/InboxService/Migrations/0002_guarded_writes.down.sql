-- Reverses 0002_guarded_writes.up.sql.
DROP FUNCTION inbox.require(boolean, text);
