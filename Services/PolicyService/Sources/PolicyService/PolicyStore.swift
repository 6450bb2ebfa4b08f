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

    /// Up to this many distinct products, the catalog lookup runs as a prepared statement.
    static let preparedLookupLimit = 256

    /// Looks up products (their supplier, and their product links when
    /// `productLinks` is true), then the suppliers callers named and sellers
    /// (their tier) in one pipelined round trip when there are any.
    ///
    /// Ids travel as one array each and are joined through `unnest`, which
    /// plans in constant time whatever the array's length (an `= ANY` of
    /// 10,000 constants costs the planner more than the lookup itself) and
    /// sends the batch's product ids once for both the catalog and the links.
    static func lookUpCatalog(
        products: Set<String>, givenSuppliers: Set<String>, sellers: Set<String>, productLinks: Bool,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> CatalogLookup {
        var lookup = CatalogLookup()
        if !products.isEmpty {
            let sql = """
                SELECT u.id, p.supplier_id, l.policy_id::text
                  FROM unnest($1::text[]) AS u(id)
                  JOIN catalog.products AS p ON p.id = u.id
                  LEFT JOIN policy.policy_links AS l ON $2::bool AND l.scope_kind = 'PRODUCT' AND l.scope_id = u.id
                """
            let parameters: [PostgresValue?] = [PostgresArrayLiteral.text(products), .bool(productLinks)]
            // A prepared statement soon runs a generic plan that assumes a 10-row
            // array and probes the index once per id: right for small batches.
            // Big ones are planned with the real array (unprepared, ~1 ms of
            // planning), so PostgreSQL may pick a hash join instead.
            let rows = products.count <= Self.preparedLookupLimit
                ? try connection.query(sql, parameters, deadline: deadline)
                : try connection.queryUnprepared(sql, parameters, deadline: deadline)
            lookup.productSuppliers.reserveCapacity(rows.count)
            for row in rows {
                let product = try row.string(0)
                lookup.productSuppliers[product] = try row.string(1)
                if let policyID = try row.decodeIfPresent(String.self, 2) {
                    lookup.productLinks.append(try PolicyLink(scope: try PolicyScope(kind: .product, id: product), policyID: policyID))
                }
            }
        }
        var statements: [PostgresStatement] = []
        if !givenSuppliers.isEmpty {
            statements.append(PostgresStatement(
                "SELECT s.id FROM unnest($1::text[]) AS u(id) JOIN catalog.suppliers AS s ON s.id = u.id",
                [PostgresArrayLiteral.text(givenSuppliers)]
            ))
        }
        if !sellers.isEmpty {
            statements.append(PostgresStatement(
                "SELECT s.id, s.tier FROM unnest($1::text[]) AS u(id) JOIN catalog.sellers AS s ON s.id = u.id",
                [PostgresArrayLiteral.text(sellers)]
            ))
        }
        var results = try connection.pipeline(statements, deadline: deadline)[...]
        if !givenSuppliers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.knownSuppliers.insert(try row.string(0)) }
        }
        if !sellers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.sellerTiers[try row.string(0)] = try row.string(1) }
        }
        return lookup
    }

    /// The supplier and tier links of the given scopes, the policies of every
    /// link (these and `productLinks`) and the active DEFAULT policies, indexed
    /// for resolution: one pipelined round trip whatever the batch size.
    ///
    /// Policies are never deleted and a linked policy's kind cannot change
    /// (the schema refuses both), so reading links and policies in separate
    /// statements cannot see a link without its policy.
    static func loadPolicies(
        productLinks: [PolicyLink], suppliers: Set<String>, tiers: Set<String>,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> PolicySet {
        let scopeLinks = """
            SELECT scope_kind, scope_id, policy_id FROM policy.policy_links
             WHERE scope_kind = 'SUPPLIER' AND scope_id = ANY($1::text[])
            UNION ALL
            SELECT scope_kind, scope_id, policy_id FROM policy.policy_links
             WHERE scope_kind = 'TIER' AND scope_id = ANY($2::text[])
            """
        let scopes: [PostgresValue?] = [PostgresArrayLiteral.text(suppliers), PostgresArrayLiteral.text(tiers)]
        let results = try connection.pipeline([
            PostgresStatement("SELECT scope_kind, scope_id, policy_id::text FROM (\(scopeLinks)) AS links", scopes),
            PostgresStatement(
                """
                SELECT \(PolicyRow.columns) FROM policy.policies AS p
                 WHERE p.id = ANY($3::uuid[])
                    OR p.id IN (SELECT policy_id FROM (\(scopeLinks)) AS links)
                    OR (p.kind = 'DEFAULT' AND p.status = 'active')
                """,
                scopes + [PostgresArrayLiteral.text(Set(productLinks.map(\.policyID)))]
            ),
        ], deadline: deadline)
        var links = productLinks
        links.reserveCapacity(productLinks.count + results[0].count)
        for row in results[0] {
            guard let kind = ScopeKind(rawValue: try row.string(0)) else { continue }
            links.append(try PolicyLink(scope: try PolicyScope(kind: kind, id: try row.string(1)), policyID: try row.string(2)))
        }
        var policies: [Policy] = []
        policies.reserveCapacity(results[1].count)
        for row in results[1] { policies.append(try PolicyRow.decode(row)) }
        return try PolicySet(policies: policies, links: links)
    }
}
