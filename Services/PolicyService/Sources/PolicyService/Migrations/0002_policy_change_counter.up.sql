-- A counter that every change to policy.policies or policy.policy_links
-- increments inside the changing transaction. PolicyService keeps the policies
-- and the supplier and tier links in memory between calls and reads this one
-- row with each call: the same value means nothing changed since it loaded
-- them, a new value makes it reload first. So an edit is seen by every call
-- that starts after its commit, and never served late.
--
-- A row, not a sequence: nextval is not transactional, so a reader could see
-- a new value before the change commits, cache the old data under it and keep
-- it. The row update commits (or rolls back) with the change itself, and it
-- serialises writers of policies and links, which are rare operator actions.
CREATE TABLE policy.change_counter (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    value      bigint NOT NULL CHECK (value >= 1)
);

INSERT INTO policy.change_counter (singleton, value) VALUES (true, 1);

CREATE FUNCTION policy.bump_change_counter() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE policy.change_counter SET value = value + 1;
    RETURN NULL;
END;
$$;

-- Per statement: one increment per changing statement is enough, and a
-- statement that changes no row costs an increment, never a missed change.
CREATE TRIGGER policies_bump_change_counter
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy.policies
    FOR EACH STATEMENT EXECUTE FUNCTION policy.bump_change_counter();

CREATE TRIGGER policy_links_bump_change_counter
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy.policy_links
    FOR EACH STATEMENT EXECUTE FUNCTION policy.bump_change_counter();
