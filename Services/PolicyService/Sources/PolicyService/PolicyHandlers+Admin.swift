import Foundation
import PolicyCore
import Proto
import Storage
import Wire

/// The operator's admin methods. Every write runs in one transaction with its
/// append-only audit row; edits compare the caller's `expected_version`
/// (optimistic concurrency, ABORTED on a stale one); the schema's exclusion
/// constraints are the last word on overlapping windows, with a pre-check that
/// names the overlapping policy.
extension PolicyHandlers {
    func registerAdmin(on router: inout MethodRouter, prefix: String) {
        router.register(prefix + "CreatePolicy", callers: Callers.admin) {
            (context: CallContext, request: PolicyV1.CreatePolicyRequest) in try self.createPolicy(context, request)
        }
        router.register(prefix + "UpdatePolicy", callers: Callers.admin) {
            (context: CallContext, request: PolicyV1.UpdatePolicyRequest) in try self.updatePolicy(context, request)
        }
        router.register(prefix + "SetPolicyStatus", callers: Callers.admin) {
            (context: CallContext, request: PolicyV1.SetPolicyStatusRequest) in try self.setPolicyStatus(context, request)
        }
        router.register(prefix + "LinkPolicy", callers: Callers.admin) {
            (context: CallContext, request: PolicyV1.LinkPolicyRequest) in try self.linkPolicy(context, request)
        }
        router.register(prefix + "UnlinkPolicy", callers: Callers.admin, idempotent: true) {
            (context: CallContext, request: PolicyV1.UnlinkPolicyRequest) in try self.unlinkPolicy(context, request)
        }
        router.register(prefix + "GetPolicy", callers: Callers.admin, idempotent: true) {
            (context: CallContext, request: PolicyV1.GetPolicyRequest) in try self.getPolicy(context, request)
        }
    }

    // MARK: Policies

    func createPolicy(_ context: CallContext, _ request: PolicyV1.CreatePolicyRequest) throws(RPCError) -> PolicyV1.PolicyResponse {
        guard let terms = request.terms else { throw .invalidArgument(field: "terms", "required") }
        let actor = try Self.operatorID(request.operatorId)
        let draft = PolicyDraft(terms: terms, status: request.status.core)
        let policy = try Self.validated(draft, id: UUID().uuidString.lowercased(), version: 1)
        let stored = try adminTransaction(context, "creating policy \(policy.code)") { connection in
            try Self.checkDefaultOverlap(policy, on: connection, deadline: context.deadline)
            try connection.query(
                """
                INSERT INTO policy.policies (id, code, kind, commission_type, rate_ppm, fixed_amount, currency,
                    min_commission, max_commission, status, valid_from, valid_until, created_by, updated_by)
                VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                """,
                Self.policyParameters(policy) + [.text(actor)],
                deadline: context.deadline
            )
            try Self.audit(policy.id, .create, actor: actor, context: context, before: nil, on: connection)
            return try Self.storedPolicy(id: policy.id, on: connection, deadline: context.deadline)
        }
        context.logger.notice("policy created", metadata: ["policy_id": "\(policy.id)", "code": "\(policy.code)", "actor": "\(actor)"])
        return PolicyV1.PolicyResponse(policy: stored)
    }

    func updatePolicy(_ context: CallContext, _ request: PolicyV1.UpdatePolicyRequest) throws(RPCError) -> PolicyV1.PolicyResponse {
        let id = try Self.policyID(request.policyId)
        guard let terms = request.terms else { throw .invalidArgument(field: "terms", "required") }
        let actor = try Self.operatorID(request.operatorId)
        let stored = try adminTransaction(context, "updating policy \(id)") { connection in
            let (current, before) = try Self.lockPolicy(id, expectedVersion: request.expectedVersion, on: connection, deadline: context.deadline)
            let policy = try Self.validated(PolicyDraft(terms: terms, status: current.status), id: id, version: current.version + 1)
            if policy.kind != current.kind {
                throw RPCError(.failedPrecondition, "terms.kind: a policy's kind cannot change (\(current.kind.rawValue) → \(policy.kind.rawValue)); create a new policy")
            }
            try Self.checkDefaultOverlap(policy, on: connection, deadline: context.deadline)
            try Self.checkLinkedOverlap(policy, on: connection, deadline: context.deadline)
            try connection.query(
                """
                UPDATE policy.policies SET code = $2, kind = $3, commission_type = $4, rate_ppm = $5, fixed_amount = $6,
                    currency = $7, min_commission = $8, max_commission = $9, status = $10, valid_from = $11,
                    valid_until = $12, updated_by = $13, updated_at = now(), version = version + 1
                 WHERE id = $1::uuid
                """,
                Self.policyParameters(policy) + [.text(actor)],
                deadline: context.deadline
            )
            try Self.audit(id, .update, actor: actor, context: context, before: before, on: connection)
            return try Self.storedPolicy(id: id, on: connection, deadline: context.deadline)
        }
        context.logger.notice("policy updated", metadata: ["policy_id": "\(id)", "version": "\(stored.version)", "actor": "\(actor)"])
        return PolicyV1.PolicyResponse(policy: stored)
    }

    func setPolicyStatus(_ context: CallContext, _ request: PolicyV1.SetPolicyStatusRequest) throws(RPCError) -> PolicyV1.PolicyResponse {
        let id = try Self.policyID(request.policyId)
        guard let status = request.status.core else { throw .invalidArgument(field: "status", "required: ACTIVE or INACTIVE") }
        let actor = try Self.operatorID(request.operatorId)
        if request.reason.count > 1000 {
            throw .invalidArgument(field: "reason", "at most 1000 characters, got \(request.reason.count)")
        }
        let stored = try adminTransaction(context, "changing the status of policy \(id)") { connection in
            let (current, before) = try Self.lockPolicy(id, expectedVersion: request.expectedVersion, on: connection, deadline: context.deadline)
            // Setting the status it already has changes nothing (no new version, no audit row).
            guard current.status != status else {
                return try Self.storedPolicy(id: id, on: connection, deadline: context.deadline)
            }
            let changed = try Self.validated(
                PolicyDraft(terms: PolicyV1.PolicyTerms(current), status: status), id: id, version: current.version + 1
            )
            try Self.checkDefaultOverlap(changed, on: connection, deadline: context.deadline)
            try connection.query(
                "UPDATE policy.policies SET status = $2, updated_by = $3, updated_at = now(), version = version + 1 WHERE id = $1::uuid",
                [.text(id), .text(status.rawValue), .text(actor)],
                deadline: context.deadline
            )
            try Self.audit(id, status == .active ? .activate : .deactivate, actor: actor, context: context,
                           before: before, reason: request.reason, on: connection)
            return try Self.storedPolicy(id: id, on: connection, deadline: context.deadline)
        }
        context.logger.notice("policy status changed", metadata: [
            "policy_id": "\(id)", "status": "\(status.rawValue)", "version": "\(stored.version)", "actor": "\(actor)",
        ])
        return PolicyV1.PolicyResponse(policy: stored)
    }

    // MARK: Links

    func linkPolicy(_ context: CallContext, _ request: PolicyV1.LinkPolicyRequest) throws(RPCError) -> PolicyV1.LinkPolicyResponse {
        let link = try Self.link(request.scopeKind, request.scopeId, request.policyId,
                                 cycleDays: request.settlementCycleDays)
        let actor = try Self.operatorID(request.operatorId)
        let stored = try adminTransaction(context, "linking policy \(link.policyID) to \(link.scope)") { connection in
            let (policy, _) = try Self.lockPolicy(link.policyID, expectedVersion: nil, on: connection, deadline: context.deadline)
            do throws(PolicyError) {
                try PolicyValidator.checkLink(link, to: policy)
            } catch {
                throw RPCError(.failedPrecondition, error.message)
            }
            try Self.checkScopeExists(link.scope, on: connection, deadline: context.deadline)
            let others = try Self.policiesLinked(to: link.scope, on: connection, deadline: context.deadline)
            if others.contains(where: { $0.id == policy.id }) {
                throw RPCError(.alreadyExists, "policy_id: \(policy.code) is already linked to \(link.scope)")
            }
            do throws(PolicyError) {
                try PolicyValidator.checkNoOverlap(policy, with: others)
            } catch {
                throw RPCError(.failedPrecondition, "\(error.message) (both linked to \(link.scope))")
            }
            let rows = try connection.query(
                """
                INSERT INTO policy.policy_links AS l (scope_kind, scope_id, policy_id, settlement_cycle_days, created_by)
                VALUES ($1, $2, $3::uuid, $4::int4, $5)
                RETURNING (extract(epoch FROM l.created_at) * 1000000)::int8, to_jsonb(l)::text
                """,
                [.text(link.scope.kind.rawValue), .text(link.scope.id), .text(link.policyID),
                 link.settlementCycleDays.map { .int64(Int64($0)) }, .text(actor)],
                deadline: context.deadline
            )
            guard let row = rows.first else { throw RPCError(.internal, "the link was not stored") }
            // The schema wants a `before` for every action but CREATE: a new link had none, JSON null says so.
            try Self.audit(link.policyID, .link, actor: actor, context: context, before: "null", after: try row.string(1), on: connection)
            return PolicyV1.PolicyLink(
                scopeKind: PolicyV1.ScopeKind(link.scope.kind), scopeId: link.scope.id, policyId: link.policyID,
                settlementCycleDays: Int32(link.settlementCycleDays ?? 0), createdAtUnixMicros: try row.int64(0), createdBy: actor
            )
        }
        context.logger.notice("policy linked", metadata: ["policy_id": "\(link.policyID)", "scope": "\(link.scope)", "actor": "\(actor)"])
        return PolicyV1.LinkPolicyResponse(link: stored)
    }

    func unlinkPolicy(_ context: CallContext, _ request: PolicyV1.UnlinkPolicyRequest) throws(RPCError) -> PolicyV1.UnlinkPolicyResponse {
        let link = try Self.link(request.scopeKind, request.scopeId, request.policyId, cycleDays: 0)
        let actor = try Self.operatorID(request.operatorId)
        let removed = try adminTransaction(context, "unlinking policy \(link.policyID) from \(link.scope)") { connection in
            let rows = try connection.query(
                """
                DELETE FROM policy.policy_links AS l WHERE scope_kind = $1 AND scope_id = $2 AND policy_id = $3::uuid
                RETURNING to_jsonb(l)::text
                """,
                [.text(link.scope.kind.rawValue), .text(link.scope.id), .text(link.policyID)],
                deadline: context.deadline
            )
            guard let row = rows.first else { return false }
            try Self.audit(link.policyID, .unlink, actor: actor, context: context, before: try row.string(0), after: nil, on: connection)
            return true
        }
        if removed {
            context.logger.notice("policy unlinked", metadata: ["policy_id": "\(link.policyID)", "scope": "\(link.scope)", "actor": "\(actor)"])
        }
        return PolicyV1.UnlinkPolicyResponse(removed: removed)
    }

    // MARK: Reads

    func getPolicy(_ context: CallContext, _ request: PolicyV1.GetPolicyRequest) throws(RPCError) -> PolicyV1.GetPolicyResponse {
        let byID = !request.policyId.isEmpty
        if byID == !request.code.isEmpty {
            throw .invalidArgument(field: "policy_id", "exactly one of policy_id and code is required")
        }
        let id = byID ? try Self.policyID(request.policyId) : ""
        let deadline = context.deadline
        do {
            return try store.pool.withConnection(deadline: deadline) { connection in
                let rows = try connection.query(
                    "SELECT \(PolicyRow.storedColumns) FROM policy.policies AS p WHERE \(byID ? "p.id = $1::uuid" : "p.code = $1")",
                    [.text(byID ? id : request.code)], deadline: deadline
                )
                guard let row = rows.first else {
                    throw RPCError(.notFound, byID ? "policy_id: no policy \(id)" : "code: no policy with code \"\(request.code.prefix(64))\"")
                }
                let policy = try PolicyRow.decodeStored(row)
                let links = try connection.query(
                    """
                    SELECT scope_kind, scope_id, settlement_cycle_days, (extract(epoch FROM created_at) * 1000000)::int8, created_by
                      FROM policy.policy_links WHERE policy_id = $1::uuid ORDER BY scope_kind, scope_id
                    """,
                    [.text(policy.id)], deadline: deadline
                ).map { row in
                    PolicyV1.PolicyLink(
                        scopeKind: ScopeKind(rawValue: try row.string(0)).map(PolicyV1.ScopeKind.init) ?? .unspecified,
                        scopeId: try row.string(1), policyId: policy.id,
                        settlementCycleDays: try row.decodeIfPresent(Int32.self, 2) ?? 0,
                        createdAtUnixMicros: try row.int64(3), createdBy: try row.string(4)
                    )
                }
                let history = try connection.query(
                    """
                    SELECT action, actor, caller, (extract(epoch FROM at) * 1000000)::int8, before::text, after::text, reason
                      FROM policy.policy_audit WHERE policy_id = $1::uuid ORDER BY id
                    """,
                    [.text(policy.id)], deadline: deadline
                ).map { row in
                    PolicyV1.PolicyAuditEntry(
                        policyId: policy.id,
                        action: AuditAction(rawValue: try row.string(0))?.proto ?? .unspecified,
                        actor: try row.string(1), caller: try row.string(2), atUnixMicros: try row.int64(3),
                        beforeJson: try row.decodeIfPresent(String.self, 4) ?? "",
                        afterJson: try row.decodeIfPresent(String.self, 5) ?? "",
                        reason: try row.decodeIfPresent(String.self, 6) ?? ""
                    )
                }
                return PolicyV1.GetPolicyResponse(policy: policy, links: links, history: history)
            }
        } catch {
            throw RPCError.storage(error, while: "reading policy")
        }
    }

    // MARK: Helpers

    /// The audit trail's action spelling.
    enum AuditAction: String {
        case create = "CREATE", update = "UPDATE", activate = "ACTIVATE", deactivate = "DEACTIVATE"
        case link = "LINK", unlink = "UNLINK"

        var proto: PolicyV1.AuditAction {
            switch self {
            case .create: .create
            case .update: .update
            case .activate: .activate
            case .deactivate: .deactivate
            case .link: .link
            case .unlink: .unlink
            }
        }
    }

    /// Runs an admin write in one transaction and maps the schema's refusals:
    /// 23505 → ALREADY_EXISTS, 23P01 (overlapping windows) → FAILED_PRECONDITION,
    /// 23514 (a check, e.g. a kind change of a linked policy) → FAILED_PRECONDITION.
    ///
    /// The transaction first takes `policy.change_counter`'s row (which the
    /// policy and link triggers increment anyway): admin writes then queue on
    /// that one row before locking any policy, rather than each holding a
    /// policy row while waiting for the counter another one holds (a deadlock).
    private func adminTransaction<T>(
        _ context: CallContext, _ activity: String, _ body: (PostgresConnection) throws -> T
    ) throws(RPCError) -> T {
        do {
            return try store.pool.withConnection(deadline: context.deadline) { connection in
                try connection.transaction(deadline: context.deadline) { connection in
                    _ = try connection.query("UPDATE policy.change_counter SET value = value + 1", deadline: context.deadline)
                    return try body(connection)
                }
            }
        } catch let error as PostgresError where error.kind == .server {
            switch error.code {
            case PostgresError.SQLState.uniqueViolation:
                throw RPCError(.alreadyExists, error.constraint == "policies_code_key"
                               ? "code: a policy with this code already exists" : "\(activity): already exists (\(error.constraint ?? ""))",
                               cause: error)
            case "23P01":
                throw RPCError(.failedPrecondition,
                               "valid_from_unix_micros: \(activity) would make two windows overlap (\(error.constraint ?? "")): \(error.detail ?? error.message)",
                               cause: error)
            case PostgresError.SQLState.checkViolation:
                throw RPCError(.failedPrecondition, "\(activity) breaks rule \(error.constraint ?? "?"): \(error.message)", cause: error)
            default:
                throw RPCError.storage(error, while: activity)
            }
        } catch {
            throw RPCError.storage(error, while: activity)
        }
    }

    /// Maps a validation error: overlaps are a state problem, the rest are bad arguments.
    private static func validated(_ draft: PolicyDraft, id: String, version: Int64) throws(RPCError) -> Policy {
        do throws(PolicyError) {
            return try PolicyValidator.policy(from: draft, id: id, version: version)
        } catch {
            throw RPCError(error.code == .overlappingWindows ? .failedPrecondition : .invalidArgument, error.message)
        }
    }

    private static func operatorID(_ value: String) throws(RPCError) -> String {
        if value.isEmpty { throw .invalidArgument(field: "operator_id", "required (kept in the audit trail)") }
        if value.utf8.count > 128 { throw .invalidArgument(field: "operator_id", "at most 128 bytes, got \(value.utf8.count)") }
        return value
    }

    /// Policy ids are UUIDs; anything else is refused by name before reaching PostgreSQL.
    private static func policyID(_ value: String) throws(RPCError) -> String {
        if value.isEmpty { throw .invalidArgument(field: "policy_id", "required") }
        guard value.utf8.count == 36, let uuid = UUID(uuidString: value) else {
            throw .invalidArgument(field: "policy_id", "must be a UUID, got \"\(value.prefix(64))\"")
        }
        return uuid.uuidString.lowercased()
    }

    private static func link(_ kind: PolicyV1.ScopeKind, _ scopeID: String, _ policyID: String, cycleDays: Int32) throws(RPCError) -> PolicyLink {
        guard let kind = kind.core else { throw .invalidArgument(field: "scope_kind", "required: PRODUCT, SUPPLIER or TIER") }
        let id = try Self.policyID(policyID)
        do throws(PolicyError) {
            let scope = try PolicyScope(kind: kind, id: scopeID)
            return try PolicyLink(scope: scope, policyID: id, settlementCycleDays: cycleDays == 0 ? nil : Int(cycleDays))
        } catch {
            throw RPCError(.invalidArgument, error.message)
        }
    }

    private static func policyParameters(_ policy: Policy) -> [PostgresValue?] {
        [
            .text(policy.id), .text(policy.code), .text(policy.kind.rawValue), .text(policy.commission.type.rawValue),
            .int64(policy.ratePPM), .int64(policy.fixedAmount), policy.currency.map { .text($0.code) },
            policy.minCommission.map { .int64($0.minorUnits) }, policy.maxCommission.map { .int64($0.minorUnits) },
            .text(policy.status.rawValue),
            policy.window.start.map { .timestamp(unixMicros: $0) }, policy.window.end.map { .timestamp(unixMicros: $0) },
        ]
    }

    /// Locks a policy row for the rest of the transaction and checks the
    /// caller's expected version (ABORTED when stale; nil skips the check).
    private static func lockPolicy(
        _ id: String, expectedVersion: Int64?, on connection: PostgresConnection, deadline: Deadline
    ) throws -> (Policy, before: String) {
        if let expectedVersion, expectedVersion < 1 {
            throw RPCError.invalidArgument(field: "expected_version", "required (the version you edited, ≥ 1), got \(expectedVersion)")
        }
        let rows = try connection.query(
            "SELECT \(PolicyRow.columns), to_jsonb(p)::text FROM policy.policies AS p WHERE p.id = $1::uuid FOR UPDATE",
            [.text(id)], deadline: deadline
        )
        guard let row = rows.first else { throw RPCError(.notFound, "policy_id: no policy \(id)") }
        let policy = try PolicyRow.decode(row)
        if let expectedVersion, expectedVersion != policy.version {
            throw RPCError(.aborted, "expected_version: policy \(policy.code) is at version \(policy.version), not \(expectedVersion); re-read it and retry; current_version=\(policy.version)")
        }
        return (policy, try row.string(13))
    }

    private static func storedPolicy(id: String, on connection: PostgresConnection, deadline: Deadline) throws -> PolicyV1.Policy {
        let rows = try connection.query(
            "SELECT \(PolicyRow.storedColumns) FROM policy.policies AS p WHERE p.id = $1::uuid", [.text(id)], deadline: deadline
        )
        guard let row = rows.first else { throw RPCError(.internal, "policy \(id) vanished inside its transaction") }
        return try PolicyRow.decodeStored(row)
    }

    /// An active DEFAULT policy must not overlap another one: checked here to
    /// name the other policy (the exclusion constraint still has the last word).
    private static func checkDefaultOverlap(_ policy: Policy, on connection: PostgresConnection, deadline: Deadline) throws {
        guard policy.kind == .default, policy.status == .active else { return }
        let others = try connection.query(
            "SELECT \(PolicyRow.columns) FROM policy.policies AS p WHERE p.kind = 'DEFAULT' AND p.status = 'active' AND p.id <> $1::uuid",
            [.text(policy.id)], deadline: deadline
        ).map { try PolicyRow.decode($0) }
        do throws(PolicyError) {
            try PolicyValidator.checkNoOverlap(policy, with: others)
        } catch {
            throw RPCError(.failedPrecondition, "\(error.message) (two active DEFAULT policies may not overlap)")
        }
    }

    /// An edited window must not overlap the other policies linked to the same scopes.
    private static func checkLinkedOverlap(_ policy: Policy, on connection: PostgresConnection, deadline: Deadline) throws {
        let rows = try connection.query(
            """
            SELECT o.scope_kind || ':' || o.scope_id, \(PolicyRow.columns)
              FROM policy.policy_links AS l
              JOIN policy.policy_links AS o ON o.scope_kind = l.scope_kind AND o.scope_id = l.scope_id AND o.policy_id <> l.policy_id
              JOIN policy.policies AS p ON p.id = o.policy_id
             WHERE l.policy_id = $1::uuid
            """,
            [.text(policy.id)], deadline: deadline
        )
        for row in rows {
            let scope = try row.string(0)
            let other = try PolicyRow.decode(row, offset: 1)
            do throws(PolicyError) {
                try PolicyValidator.checkNoOverlap(policy, with: [other])
            } catch {
                throw RPCError(.failedPrecondition, "\(error.message) (both linked to \(scope))")
            }
        }
    }

    private static func policiesLinked(to scope: PolicyScope, on connection: PostgresConnection, deadline: Deadline) throws -> [Policy] {
        try connection.query(
            """
            SELECT \(PolicyRow.columns) FROM policy.policy_links AS l JOIN policy.policies AS p ON p.id = l.policy_id
             WHERE l.scope_kind = $1 AND l.scope_id = $2
            """,
            [.text(scope.kind.rawValue), .text(scope.id)], deadline: deadline
        ).map { try PolicyRow.decode($0) }
    }

    /// Products and suppliers must exist in the catalog; a tier must look like one.
    private static func checkScopeExists(_ scope: PolicyScope, on connection: PostgresConnection, deadline: Deadline) throws {
        let table: String
        switch scope.kind {
        case .product: table = "catalog.products"
        case .supplier: table = "catalog.suppliers"
        case .tier:
            let valid = scope.id.utf8.count <= 32 && scope.id.utf8.enumerated().allSatisfy { index, byte in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (index > 0 && ((byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")))
            }
            if !valid { throw RPCError.invalidArgument(field: "scope_id", "a tier is [A-Z][A-Z0-9_]{0,31}, got \"\(scope.id.prefix(64))\"") }
            return
        }
        let rows = try connection.query("SELECT 1 FROM \(table) WHERE id = $1", [.text(scope.id)], deadline: deadline)
        if rows.isEmpty {
            throw RPCError(.notFound, "scope_id: unknown \(scope.kind.rawValue.lowercased()) \"\(scope.id)\"")
        }
    }

    private static func audit(
        _ policyID: String, _ action: AuditAction, actor: String, context: CallContext,
        before: String?, after: String? = nil, reason: String = "", on connection: PostgresConnection
    ) throws {
        // Without an explicit `after`, the policy row as it is now inside this transaction.
        try connection.query(
            """
            INSERT INTO policy.policy_audit (policy_id, action, actor, caller, reason, before, after)
            SELECT p.id, $2, $3, $4, NULLIF($5, ''), $6::jsonb, COALESCE($7::jsonb, CASE WHEN $2 = 'UNLINK' THEN NULL ELSE to_jsonb(p) END)
              FROM policy.policies AS p WHERE p.id = $1::uuid
            """,
            [.text(policyID), .text(action.rawValue), .text(actor), .text(context.caller?.rawValue ?? "unknown"),
             .text(reason), before.map { .text($0) }, after.map { .text($0) }],
            deadline: context.deadline
        )
    }
}
