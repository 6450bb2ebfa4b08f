public import Storage
import PolicyCore

/// PolicyService's PostgreSQL access: the per-batch preload (catalog and
/// policies), commission lines, and the admin writes. Every method takes the
/// call's deadline and passes it to every statement.
///
/// Nothing is cached across calls: policies change under the operator's hand
/// and a stale snapshot would misprice lines silently. The preload is a few
/// set-based statements per batch instead, whatever its size.
public final class PolicyStore: Sendable {
    /// The pool every call leases a connection from.
    public let pool: PostgresPool

    /// Creates a store over `pool` (whose database has the catalog, ops and policy schemas).
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Preload

    /// Looks up products (their supplier), the suppliers callers named, and
    /// sellers (their tier) in one pipelined round trip.
    static func lookUpCatalog(
        products: Set<String>, givenSuppliers: Set<String>, sellers: Set<String>,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> CatalogLookup {
        var statements: [PostgresStatement] = []
        if !products.isEmpty {
            statements.append(PostgresStatement(
                "SELECT id, supplier_id FROM catalog.products WHERE id = ANY($1::text[])",
                [PostgresArrayLiteral.text(products)]
            ))
        }
        if !givenSuppliers.isEmpty {
            statements.append(PostgresStatement(
                "SELECT id FROM catalog.suppliers WHERE id = ANY($1::text[])",
                [PostgresArrayLiteral.text(givenSuppliers)]
            ))
        }
        if !sellers.isEmpty {
            statements.append(PostgresStatement(
                "SELECT id, tier FROM catalog.sellers WHERE id = ANY($1::text[])",
                [PostgresArrayLiteral.text(sellers)]
            ))
        }
        var results = try connection.pipeline(statements, deadline: deadline)[...]
        var lookup = CatalogLookup()
        if !products.isEmpty, let rows = results.popFirst() {
            lookup.productSuppliers.reserveCapacity(rows.count)
            for row in rows { lookup.productSuppliers[try row.string(0)] = try row.string(1) }
        }
        if !givenSuppliers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.knownSuppliers.insert(try row.string(0)) }
        }
        if !sellers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.sellerTiers[try row.string(0)] = try row.string(1) }
        }
        return lookup
    }

    /// The links of the given scopes, their policies and the active DEFAULT
    /// policies, indexed for resolution: two statements whatever the batch size.
    ///
    /// Policies are never deleted and a linked policy's kind cannot change
    /// (the schema refuses both), so reading links and policies in two
    /// statements cannot see a link without its policy.
    static func loadPolicies(
        products: Set<String>, suppliers: Set<String>, tiers: Set<String>,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> PolicySet {
        var links: [PolicyLink] = []
        var linkedPolicyIDs = Set<String>()
        if !(products.isEmpty && suppliers.isEmpty && tiers.isEmpty) {
            let rows = try connection.query(
                """
                SELECT scope_kind, scope_id, policy_id::text FROM policy.policy_links
                 WHERE scope_kind = 'PRODUCT' AND scope_id = ANY($1::text[])
                UNION ALL
                SELECT scope_kind, scope_id, policy_id::text FROM policy.policy_links
                 WHERE scope_kind = 'SUPPLIER' AND scope_id = ANY($2::text[])
                UNION ALL
                SELECT scope_kind, scope_id, policy_id::text FROM policy.policy_links
                 WHERE scope_kind = 'TIER' AND scope_id = ANY($3::text[])
                """,
                [PostgresArrayLiteral.text(products), PostgresArrayLiteral.text(suppliers), PostgresArrayLiteral.text(tiers)],
                deadline: deadline
            )
            links.reserveCapacity(rows.count)
            for row in rows {
                guard let kind = ScopeKind(rawValue: try row.string(0)) else { continue }
                let policyID = try row.string(2)
                links.append(try PolicyLink(scope: try PolicyScope(kind: kind, id: try row.string(1)), policyID: policyID))
                linkedPolicyIDs.insert(policyID)
            }
        }
        let rows = try connection.query(
            """
            SELECT \(PolicyRow.columns) FROM policy.policies AS p
             WHERE p.id = ANY($1::uuid[]) OR (p.kind = 'DEFAULT' AND p.status = 'active')
            """,
            [PostgresArrayLiteral.text(linkedPolicyIDs)],
            deadline: deadline
        )
        var policies: [Policy] = []
        policies.reserveCapacity(rows.count)
        for row in rows { policies.append(try PolicyRow.decode(row)) }
        return try PolicySet(policies: policies, links: links)
    }
}
