public import Storage
import PolicyCore

/// PolicyService's PostgreSQL access: the per-batch preload (catalog and
/// policies), commission lines, and the admin writes. Every method takes the
/// call's deadline and passes it to every statement.
///
/// The catalog is read afresh by every call (a few set-based statements per
/// batch, whatever its size). Policies and supplier and tier links are kept
/// in a ``PolicyCache`` between calls, revalidated by every call against
/// `policy.change_counter` in the same round trip as the catalog, so an edit
/// is never served late.
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

    /// The statement that reads `policy.change_counter` (see the 0002 migration).
    static let changeCounterStatement = PostgresStatement("SELECT value FROM policy.change_counter")

    /// Looks up products (their supplier, and their product links when
    /// `productLinks` is true), the suppliers callers named, sellers (their
    /// tier), and then the policy change counter: one round trip for a small
    /// batch, two for a large one.
    ///
    /// The counter is read after the product links, so every policy a link
    /// names existed when the counter was read: a cache that is current at that
    /// value holds it.
    ///
    /// Ids travel as one array each (the batch's product ids once for both
    /// the catalog and the links), matched by `= ANY` or joined through
    /// `unnest` depending on their number (see inside).
    static func lookUpCatalog(
        products: Set<String>, givenSuppliers: Set<String>, sellers: Set<String>, productLinks: Bool,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> CatalogLookup {
        var lookup = CatalogLookup()
        // Two shapes per lookup. Small id sets (the single Resolve, small
        // batches) run prepared in the pipeline as `id = ANY($1)`, whose plan
        // probes the primary key per id; the links subquery's `OFFSET 0` keeps
        // it from being flattened into a hash join over every link. (An
        // `unnest` join's generic plan assumes 10 rows and picks hash joins over
        // sequential scans of whole tables: measured 0.3 ms for policy_links
        // and 3.4 ms for sellers per single Resolve, growing with the tables.)
        // Large sets join an `unnest`, which plans in constant time whatever
        // the array's length (an `= ANY` of 10,000 constants costs the planner
        // more than the lookup itself); the big product lookup runs unprepared,
        // planned with the real array, and the rest follows in a second round trip.
        let small = products.count <= Self.preparedLookupLimit
        let productStatement = PostgresStatement(
            small
                ? """
                  SELECT p.id, p.supplier_id, l.policy_id
                    FROM catalog.products AS p
                    LEFT JOIN LATERAL (
                        SELECT l.policy_id::text FROM policy.policy_links AS l
                         WHERE $2::bool AND l.scope_kind = 'PRODUCT' AND l.scope_id = p.id
                        OFFSET 0
                    ) AS l ON true
                   WHERE p.id = ANY($1::text[])
                  """
                : """
                  SELECT u.id, p.supplier_id, l.policy_id::text
                    FROM unnest($1::text[]) AS u(id)
                    JOIN catalog.products AS p ON p.id = u.id
                    LEFT JOIN policy.policy_links AS l ON $2::bool AND l.scope_kind = 'PRODUCT' AND l.scope_id = u.id
                  """,
            [PostgresArrayLiteral.text(products), .bool(productLinks)]
        )
        var statements: [PostgresStatement] = []
        var productRows: PostgresRows?
        if small {
            statements.append(productStatement)
        } else {
            // The service's sessions force generic plans (see
            // `PolicyServiceApplication.postgresSettings`), which would apply to
            // this unnamed statement too and plan 10,000 ids as 10: plan it with
            // the real array for this statement only.
            _ = try connection.simpleQuery("SET plan_cache_mode = force_custom_plan", deadline: deadline)
            defer { _ = try? connection.simpleQuery("RESET plan_cache_mode", deadline: .after(micros: 1_000_000)) }
            productRows = try connection.queryUnprepared(productStatement.sql, productStatement.parameters, deadline: deadline)
        }
        if !givenSuppliers.isEmpty {
            statements.append(PostgresStatement(
                givenSuppliers.count <= Self.preparedLookupLimit
                    ? "SELECT s.id FROM catalog.suppliers AS s WHERE s.id = ANY($1::text[])"
                    : "SELECT s.id FROM unnest($1::text[]) AS u(id) JOIN catalog.suppliers AS s ON s.id = u.id",
                [PostgresArrayLiteral.text(givenSuppliers)]
            ))
        }
        if !sellers.isEmpty {
            statements.append(PostgresStatement(
                sellers.count <= Self.preparedLookupLimit
                    ? "SELECT s.id, s.tier FROM catalog.sellers AS s WHERE s.id = ANY($1::text[])"
                    : "SELECT s.id, s.tier FROM unnest($1::text[]) AS u(id) JOIN catalog.sellers AS s ON s.id = u.id",
                [PostgresArrayLiteral.text(sellers)]
            ))
        }
        statements.append(Self.changeCounterStatement)
        var results = try connection.pipeline(statements, deadline: deadline)[...]
        if productRows == nil { productRows = results.popFirst() }
        if let rows = productRows {
            lookup.productSuppliers.reserveCapacity(rows.count)
            for row in rows {
                let product = try row.string(0)
                lookup.productSuppliers[product] = try row.string(1)
                // `text` rather than the generic `decodeIfPresent(String.self, _:)`, which runs
                // unspecialized from this module: 10,000 rows paid its metadata lookups.
                if let policyID = try row.text(2) {
                    lookup.productLinks.append(try PolicyLink(scope: try PolicyScope(kind: .product, id: product), policyID: policyID))
                }
            }
        }
        if !givenSuppliers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.knownSuppliers.insert(try row.string(0)) }
        }
        if !sellers.isEmpty, let rows = results.popFirst() {
            for row in rows { lookup.sellerTiers[try row.string(0)] = try row.string(1) }
        }
        lookup.policyChangeCounter = try Self.changeCounter(results.popFirst())
        return lookup
    }

    /// Every policy and every supplier and tier link, indexed, with the change
    /// counter read before them: one pipelined round trip.
    ///
    /// The rows may be newer than the counter (a change committed in between);
    /// the next call then sees a higher counter and reloads, so the pair is
    /// never trusted beyond its counter. Product links are not loaded: they
    /// grow with the catalog and come with each batch's catalog lookup.
    ///
    /// Policies are never deleted and a linked policy's kind cannot change
    /// (the schema refuses both), so reading links and policies in separate
    /// statements cannot see a link without its policy.
    static func loadPolicies(on connection: PostgresConnection, deadline: Deadline) throws -> PolicyCache.Entry {
        let results = try connection.pipeline([
            Self.changeCounterStatement,
            PostgresStatement("SELECT \(PolicyRow.columns) FROM policy.policies AS p"),
            PostgresStatement(
                "SELECT scope_kind, scope_id, policy_id::text FROM policy.policy_links WHERE scope_kind IN ('SUPPLIER', 'TIER')"
            ),
        ], deadline: deadline)
        let counter = try Self.changeCounter(results[0])
        var policies: [Policy] = []
        policies.reserveCapacity(results[1].count)
        for row in results[1] { policies.append(try PolicyRow.decode(row)) }
        var links: [PolicyLink] = []
        links.reserveCapacity(results[2].count)
        for row in results[2] {
            guard let kind = ScopeKind(rawValue: try row.string(0)) else { continue }
            links.append(try PolicyLink(scope: try PolicyScope(kind: kind, id: try row.string(1)), policyID: try row.string(2)))
        }
        return PolicyCache.Entry(changeCounter: counter, policies: try PolicySet(policies: policies, links: links))
    }

    private static func changeCounter(_ rows: PostgresRows?) throws -> Int64 {
        guard let row = rows?.first else {
            throw PostgresError(kind: .decoding, message: "policy.change_counter has no row (the policy migrations insert it)")
        }
        return try row.int64(0)
    }
}
