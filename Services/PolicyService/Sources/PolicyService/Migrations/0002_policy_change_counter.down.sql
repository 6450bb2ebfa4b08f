-- Reverts 0002_policy_change_counter.up.sql. A PolicyService that still reads
-- the counter fails its calls until it is rolled back too (rollback order:
-- binary first, then this migration).
DROP TRIGGER policy_links_bump_change_counter ON policy.policy_links;
DROP TRIGGER policies_bump_change_counter ON policy.policies;
DROP FUNCTION policy.bump_change_counter();
DROP TABLE policy.change_counter;
