-- Every write now commits in the statement (or the one pipelined
-- transaction) that performs it: one round trip per decision, so a seller's
-- lock is held only for the server's own work and COMMIT. The checks Swift
-- used to make between the write and COMMIT ("exactly one state row") must
-- therefore fail the statement itself; see Services/InboxService/README.md
-- ("Transactions").

-- Returns true, or raises internal_error (XX000) naming the broken
-- invariant, so the statement and its transaction roll back. VOLATILE: the
-- planner must evaluate it for every row it is given, never fold it.
CREATE FUNCTION inbox.require(ok boolean, failure text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'inbox invariant broken: %', failure USING ERRCODE = 'internal_error';
    END IF;
    RETURN true;
END
$$;
