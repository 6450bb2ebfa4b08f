-- Reverts 0001_policies.up.sql. Destroys every policy, link, audit row and
-- recorded commission line: take a backup first (seed rollback level 3).
-- btree_gist is left installed: other schemas may use it, and it holds no data.
-- No CASCADE: an object someone added to the schema makes this fail loudly.
DROP TABLE policy.commission_lines;
DROP TABLE policy.policy_audit;
DROP FUNCTION policy.policy_audit_refuse_change();
DROP TABLE policy.policy_links;
DROP TABLE policy.policies;
DROP FUNCTION policy.policy_links_copy_policy();
DROP FUNCTION policy.policies_propagate_to_links();
DROP SCHEMA policy;
