import Foundation
import Proto
import Storage
import Synchronization
import Wire

/// InboxService scenarios (issue #4): decision latency at a fixed offered
/// rate; peak calls/s of a mixed request/decision cycle with every call
/// contending on one seller (the worst case) and spread over many sellers and
/// suppliers (what a portal sends); peak decisions/s of decisions alone; then
/// invariant checks in SQL over every row of the run.
///
/// Each run creates its own catalog rows and pending requests with SQL
/// (prefix `bench-<run>`) in the services' database (`DATABASE_URL`), then
/// calls the running inbox-service (`O4O_INBOX_ADDR`, default
/// 127.0.0.1:7103) as `supplier-portal`. The service must run with
/// `ENABLE_SELLER_AUTHORIZATION=true`.
enum InboxScenarios {
    static let all: [Scenario] = [decisions]

    static let approveMethod = "/inbox.v1.InboxService/Approve"
    static let rejectMethod = "/inbox.v1.InboxService/Reject"

    static let decisions = Scenario(name: "inbox") { context, report in
        guard let databaseURL = context.environment.databaseURL else {
            report.notes.append("inbox: skipped, DATABASE_URL is not set (the scenario creates its data with SQL)")
            return
        }
        let run = "bench-" + String(UUID().uuidString.lowercased().prefix(8))
        let connection = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), applicationName: "o4o-bench")
        let limit = try sellerProductLimit(connection)
        let seconds = Double(context.warmup.components.seconds + context.duration.components.seconds)

        // 1. Open loop at 500 decisions/s: many sellers, a few pending requests
        //    each (well under the limit), approve and reject alternating.
        let openRate = 500.0
        let openSellers = Int(openRate * seconds * 1.3 / 4) + 50
        let spread = try seedPending(
            connection, run: run, tag: "spread", sellers: openSellers, requestsPerSeller: 4)
        try analyze(connection)
        let spreadQueue = DecisionQueue(spread)
        let open = try context.generator("inbox: Approve/Reject, 500/s offered", connections: 16) { _ in
            let client = context.environment.client(service: "inbox", caller: "supplier-portal")
            return { try spreadQueue.decideNext(client) }
        }.runOpenLoop(rate: openRate)
        report.results.append(open)
        report.goals.append(GoalVerdict(
            issue: "#4", goal: "Approve/Reject p99 < 5 ms at 500 decisions/s offered",
            measured: "p50 \(Int(open.p50)) µs, p99 \(Int(open.p99)) µs at \(Int(open.achievedRate))/s, \(open.errors) errors",
            met: open.p99 < 5_000 && open.errors == 0))

        // 2. Closed loop on one hot seller. A seller holds at most
        //    SELLER_PRODUCT_LIMIT open requests, so contention means a few
        //    workers cycling through that seller's products, each call one
        //    RPC: Request, Approve, Revoke, Request, Reject, next product.
        //    Request and Approve take the seller's lock; all five touch it.
        let workers = max(1, min(8, limit - 1))
        let hotProducts = 30_000
        try seedCatalog(connection, run: run, tag: "hot", sellers: 1, products: hotProducts)
        try analyze(connection)
        let hotSeller = "\(run)-hot-s0"
        let hotSupplier = "\(run)-hot-sup"
        let productCursor = ProductCursor(prefix: "\(run)-hot-p", count: hotProducts)
        let peak = try context.generator("inbox: one hot seller, \(workers) connections (calls)", connections: workers) { worker in
            let client = context.environment.client(service: "inbox", caller: "supplier-portal")
            let cycle = DecisionCycle(client: client, keyPrefix: "\(run)-w\(worker)") {
                (seller: hotSeller, product: try productCursor.take(), supplier: hotSupplier)
            }
            return { try cycle.step() }
        }.runClosedLoop()
        report.results.append(peak)
        let decisionsPerSecond = peak.achievedRate * Double(DecisionCycle.decisionsPerCycle) / Double(DecisionCycle.callsPerCycle)

        // 3. Closed loop over many sellers and suppliers: the same five-call
        //    cycle, each pair of another seller, so sellers rarely meet
        //    (what a portal with many active sellers sends).
        let spreadSellers = 300
        let spreadSuppliers = 30
        let spreadProductsPerSupplier = 20
        let spreadConnections = 16
        try seedSpreadCatalog(
            connection, run: run, tag: "many", sellers: spreadSellers, suppliers: spreadSuppliers,
            productsPerSupplier: spreadProductsPerSupplier)
        try analyze(connection)
        let pairs = SpreadPairs(
            prefix: "\(run)-many", sellers: spreadSellers, suppliers: spreadSuppliers,
            products: spreadSuppliers * spreadProductsPerSupplier)
        let many = try context.generator(
            "inbox: \(spreadSellers) sellers, \(spreadSuppliers) suppliers, \(spreadConnections) connections (calls)",
            connections: spreadConnections
        ) { worker in
            let client = context.environment.client(service: "inbox", caller: "supplier-portal")
            let cycle = DecisionCycle(client: client, keyPrefix: "\(run)-m\(worker)") { try pairs.take() }
            return { try cycle.step() }
        }.runClosedLoop()
        report.results.append(many)
        let spreadDecisionsPerSecond =
            many.achievedRate * Double(DecisionCycle.decisionsPerCycle) / Double(DecisionCycle.callsPerCycle)

        // 4. Closed loop of decisions only: what the throughput goal counts.
        //    Pending requests are filed beforehand (as the open loop's are),
        //    then 16 connections approve and reject them back to back, each
        //    call one decision. The mixed loads above spend 2 of every 5 calls
        //    on Requests, which are not decisions.
        let decisionConnections = 16
        let decisionCapacity = 3_000.0  // decisions/s the seed must outlast
        let decisionSellers = Int(decisionCapacity * seconds * 1.3 / 4) + 50
        let pending = try seedPending(
            connection, run: run, tag: "only", sellers: decisionSellers, requestsPerSeller: 4)
        try analyze(connection)
        let pendingQueue = DecisionQueue(pending)
        let only = try context.generator(
            "inbox: decisions only (Approve/Reject of filed requests), \(decisionConnections) connections",
            connections: decisionConnections
        ) { _ in
            let client = context.environment.client(service: "inbox", caller: "supplier-portal")
            return { try pendingQueue.decideNext(client) }
        }.runClosedLoop()
        report.results.append(only)

        // 5. Invariants, in SQL, over this run's rows (all four loads).
        let overLimit = try connection.queryUnprepared(
            """
            SELECT count(*) FROM (SELECT seller_id FROM inbox.authorization_requests
                                   WHERE seller_id LIKE $1 AND status = 'APPROVED'
                                   GROUP BY seller_id HAVING count(*) > $2::int) AS over
            """, [.text(run + "-%"), .int64(Int64(limit))]
        ).first?.int64(0) ?? -1
        let unaudited = try connection.queryUnprepared(
            """
            SELECT count(*) FROM inbox.authorization_requests r
             WHERE r.seller_id LIKE $1
               AND NOT EXISTS (SELECT 1 FROM inbox.audit_events a
                                WHERE a.request_id = r.id AND a.to_status = r.status AND a.version = r.version)
            """, [.text(run + "-%")]
        ).first?.int64(0) ?? -1
        let hotApproved = try connection.queryUnprepared(
            "SELECT count(*) FROM inbox.authorization_requests WHERE seller_id = $1 AND status = 'APPROVED'",
            [.text(hotSeller)]
        ).first?.int64(0) ?? -1
        let hotOpen = try connection.queryUnprepared(
            """
            SELECT count(*) FROM inbox.authorization_requests
             WHERE seller_id = $1 AND status IN ('REQUESTED', 'APPROVED')
            """, [.text(hotSeller)]
        ).first?.int64(0) ?? -1
        // Every request's history is complete: one audit event per transition its status implies
        // (REQUESTED 1, APPROVED/REJECTED/CANCELLED 2, REVOKED 3), each with an outbox row.
        let badHistory = try connection.queryUnprepared(
            """
            SELECT count(*) FROM inbox.authorization_requests r
             WHERE r.seller_id LIKE $1
               AND (SELECT count(*) FROM inbox.audit_events a WHERE a.request_id = r.id)
                   <> CASE r.status WHEN 'REQUESTED' THEN 1 WHEN 'REVOKED' THEN 3 ELSE 2 END
            """, [.text(run + "-%")]
        ).first?.int64(0) ?? -1
        let withoutOutbox = try connection.queryUnprepared(
            """
            SELECT count(*) FROM inbox.audit_events a
              JOIN inbox.authorization_requests r ON r.id = a.request_id
             WHERE r.seller_id LIKE $1 AND a.from_status IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM inbox.cache_outbox o
                                WHERE o.seller_id = r.seller_id AND o.product_id = r.product_id
                                  AND o.version = a.version)
            """, [.text(run + "-%")]
        ).first?.int64(0) ?? -1
        // The pair state the gate reads is the pair's latest request, status and version.
        let staleState = try connection.queryUnprepared(
            """
            SELECT count(*) FROM inbox.authorization_requests r
              LEFT JOIN inbox.authorization_state s ON s.seller_id = r.seller_id AND s.product_id = r.product_id
             WHERE r.seller_id LIKE $1
               AND r.version = (SELECT max(v.version) FROM inbox.authorization_requests v
                                 WHERE v.seller_id = r.seller_id AND v.product_id = r.product_id)
               AND (s.request_id IS DISTINCT FROM r.id OR s.status <> r.status OR s.version <> r.version)
            """, [.text(run + "-%")]
        ).first?.int64(0) ?? -1
        let duplicateOpen = try connection.queryUnprepared(
            """
            SELECT count(*) FROM (SELECT 1 FROM inbox.authorization_requests
                                   WHERE seller_id LIKE $1 AND status IN ('REQUESTED', 'APPROVED')
                                   GROUP BY seller_id, product_id HAVING count(*) > 1) AS twice
            """, [.text(run + "-%")]
        ).first?.int64(0) ?? -1
        // Redis took every write-through: the relay marks outbox rows applied within ~250 ms
        // of the decision (a row stays pending only while Redis refused or was unreachable).
        var unapplied: Int64 = -1
        for _ in 0..<20 {
            unapplied = try connection.queryUnprepared(
                "SELECT count(*) FROM inbox.cache_outbox WHERE seller_id LIKE $1 AND applied_at IS NULL",
                [.text(run + "-%")]
            ).first?.int64(0) ?? -1
            if unapplied == 0 { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let invariantsHold =
            overLimit == 0 && unaudited == 0 && hotApproved <= limit && hotOpen <= limit && badHistory == 0
            && withoutOutbox == 0 && staleState == 0 && duplicateOpen == 0 && unapplied == 0
        // Judged on the decisions-only load (the goal counts decisions; every
        // call there is one), with every invariant over all four loads; the
        // mixed loads are shown beside it: many sellers (a portal's decisions
        // come from many sellers) and the hot seller as the worst case.
        report.goals.append(GoalVerdict(
            issue: "#4", goal: "≥ 1,500 decisions/s with every invariant holding (judged on decisions only; mixed loads beside it)",
            measured: "decisions only: \(Int(only.achievedRate)) decisions/s, p50 \(Int(only.p50)) µs, p99 \(Int(only.p99)) µs, "
                + "\(only.errors) errors; "
                + "many sellers: \(Int(spreadDecisionsPerSecond)) decisions/s (\(Int(many.achievedRate)) calls/s, "
                + "3 decisions per 5 calls), p99 \(Int(many.p99)) µs, \(many.errors) errors; "
                + "one hot seller: \(Int(decisionsPerSecond)) decisions/s (\(Int(peak.achievedRate)) calls/s), "
                + "p99 \(Int(peak.p99)) µs, \(peak.errors) errors; sellers over the limit (\(limit)): \(overLimit); "
                + "rows without their audit event: \(unaudited); rows with an incomplete history: \(badHistory); "
                + "transitions without an outbox row: \(withoutOutbox); outbox rows Redis has not taken: \(unapplied); "
                + "pairs whose state is not their latest request: \(staleState); pairs with two open requests: "
                + "\(duplicateOpen); hot seller open \(hotOpen), approved \(hotApproved)",
            met: only.achievedRate >= 1_500 && only.errors == 0 && many.errors == 0 && peak.errors == 0 && invariantsHold))
        if pendingQueue.exhausted {
            report.notes.append("inbox: the decisions-only load ran out of pending requests; raise decisionCapacity")
        }
        if productCursor.exhausted {
            report.notes.append("inbox: the hot seller's \(hotProducts) products ran out during the run; raise hotProducts")
        }
        if pairs.exhausted {
            report.notes.append("inbox: the many-sellers pairs ran out during the run; raise spreadProductsPerSupplier")
        }
    }

    /// One supplier `<run>-<tag>-sup`, sellers `<run>-<tag>-s<n>` and its
    /// products `<run>-<tag>-p<n>`.
    static func seedCatalog(_ connection: PostgresConnection, run: String, tag: String, sellers: Int, products: Int) throws {
        let prefix = "\(run)-\(tag)"
        let supplier = "\(prefix)-sup"
        let deadline = Deadline.after(seconds: 300)
        try connection.transaction(deadline: deadline) { connection in
            try connection.queryUnprepared(
                "INSERT INTO catalog.suppliers (id, name) VALUES ($1, 'bench supplier')", [.text(supplier)], deadline: deadline)
            try connection.queryUnprepared(
                """
                INSERT INTO catalog.sellers (id, name, tier)
                SELECT $1 || '-s' || n, 'bench seller', 'GOLD' FROM generate_series(0, $2::int - 1) AS n
                """, [.text(prefix), .int64(Int64(sellers))], deadline: deadline)
            // The per-seller lock rows the Request RPC would have created.
            try connection.queryUnprepared(
                """
                INSERT INTO inbox.seller_locks (seller_id)
                SELECT $1 || '-s' || n FROM generate_series(0, $2::int - 1) AS n
                """, [.text(prefix), .int64(Int64(sellers))], deadline: deadline)
            try connection.queryUnprepared(
                """
                INSERT INTO catalog.products (id, supplier_id, name)
                SELECT $1 || '-p' || n, $2, 'bench product' FROM generate_series(0, $3::int - 1) AS n
                """, [.text(prefix), .text(supplier), .int64(Int64(products))], deadline: deadline)
        }
    }

    /// `suppliers` suppliers `<run>-<tag>-sup<n>`, sellers `<run>-<tag>-s<n>`
    /// and `suppliers × productsPerSupplier` products `<run>-<tag>-p<n>`,
    /// product n owned by supplier n mod `suppliers` (``SpreadPairs``).
    static func seedSpreadCatalog(
        _ connection: PostgresConnection, run: String, tag: String, sellers: Int, suppliers: Int, productsPerSupplier: Int
    ) throws {
        let prefix = "\(run)-\(tag)"
        let deadline = Deadline.after(seconds: 300)
        try connection.transaction(deadline: deadline) { connection in
            try connection.queryUnprepared(
                """
                INSERT INTO catalog.suppliers (id, name)
                SELECT $1 || '-sup' || n, 'bench supplier' FROM generate_series(0, $2::int - 1) AS n
                """, [.text(prefix), .int64(Int64(suppliers))], deadline: deadline)
            try connection.queryUnprepared(
                """
                INSERT INTO catalog.sellers (id, name, tier)
                SELECT $1 || '-s' || n, 'bench seller', 'GOLD' FROM generate_series(0, $2::int - 1) AS n
                """, [.text(prefix), .int64(Int64(sellers))], deadline: deadline)
            try connection.queryUnprepared(
                """
                INSERT INTO catalog.products (id, supplier_id, name)
                SELECT $1 || '-p' || n, $1 || '-sup' || (n % $2::int), 'bench product'
                  FROM generate_series(0, $3::int - 1) AS n
                """, [.text(prefix), .int64(Int64(suppliers)), .int64(Int64(suppliers * productsPerSupplier))],
                deadline: deadline)
        }
    }

    /// Fresh statistics after a bulk load, as a production database has:
    /// without them the service's connections may cache generic plans that
    /// reach a seller's rows through the wrong index.
    static func analyze(_ connection: PostgresConnection) throws {
        try connection.simpleQuery(
            "ANALYZE catalog.sellers, catalog.products, inbox.authorization_requests, inbox.authorization_state, "
                + "inbox.seller_locks", deadline: .after(seconds: 120))
    }

    /// `SELLER_PRODUCT_LIMIT` in force: the operator-set value, else the environment, else 10.
    static func sellerProductLimit(_ connection: PostgresConnection) throws -> Int {
        let stored = try connection.queryUnprepared(
            "SELECT value FROM ops.runtime_flags WHERE service = 'inbox' AND name = 'SELLER_PRODUCT_LIMIT'"
        ).first.map { try $0.string(0) }
        return (stored ?? ProcessInfo.processInfo.environment["SELLER_PRODUCT_LIMIT"]).flatMap(Int.init) ?? 10
    }

    /// Creates `sellers` sellers, one supplier, `requestsPerSeller` products and
    /// a pending request per (seller, product), each with its creating audit
    /// event and state row, as the Request RPC would write them. Returns
    /// (request id, supplier id) pairs, interleaved across sellers.
    static func seedPending(
        _ connection: PostgresConnection, run: String, tag: String, sellers: Int, requestsPerSeller: Int
    ) throws -> [(id: String, supplier: String)] {
        let prefix = "\(run)-\(tag)"
        let supplier = "\(prefix)-sup"
        let deadline = Deadline.after(seconds: 300)
        try seedCatalog(connection, run: run, tag: tag, sellers: sellers, products: requestsPerSeller)
        // One statement: atomic on its own.
        try connection.queryUnprepared(
            """
            WITH pairs AS (
                SELECT $1 || '-s' || s AS seller_id, $1 || '-p' || p AS product_id, s, p
                  FROM generate_series(0, $2::int - 1) AS s, generate_series(0, $3::int - 1) AS p
            ), req AS (
                INSERT INTO inbox.authorization_requests
                       (seller_id, product_id, supplier_id, idempotency_key, created_at, version)
                SELECT seller_id, product_id, $4, 'bench-' || p, statement_timestamp(),
                       nextval('inbox.authorization_version_seq')
                  FROM pairs ORDER BY p, s
                RETURNING *
            ), state AS (
                INSERT INTO inbox.authorization_state (seller_id, product_id, status, version, request_id, updated_at)
                SELECT seller_id, product_id, status, version, id, created_at FROM req
            )
            INSERT INTO inbox.audit_events (request_id, from_status, to_status, actor_role, actor_id, caller, reason, version, at)
            SELECT id, NULL, status, 'seller', seller_id, 'supplier-portal', '', version, created_at FROM req
            """,
            [.text(prefix), .int64(Int64(sellers)), .int64(Int64(requestsPerSeller)), .text(supplier)],
            deadline: deadline)
        return try connection.queryUnprepared(
            """
            SELECT id::text FROM inbox.authorization_requests
             WHERE supplier_id = $1 AND status = 'REQUESTED' ORDER BY version
            """, [.text(supplier)], deadline: deadline
        ).map { (id: try $0.string(0), supplier: supplier) }
    }
}

/// Hands out pending requests to the open-loop workers, one decision each:
/// even positions are approved, odd ones rejected.
final class DecisionQueue: Sendable {
    private let requests: [(id: String, supplier: String)]
    private let next = Atomic<Int>(0)

    init(_ requests: [(id: String, supplier: String)]) {
        self.requests = requests
    }

    var exhausted: Bool { next.load(ordering: .relaxed) >= requests.count }

    /// Decides the next request; any refusal counts as an error.
    func decideNext(_ client: WireClient) throws {
        let position = next.add(1, ordering: .relaxed).oldValue
        guard position < requests.count else {
            throw RPCError(.resourceExhausted, "bench ran out of pending requests")
        }
        let request = requests[position]
        let outcome: RPCError? =
            position % 2 == 0
            ? Self.attempt(client, Self.approve(request.id, request.supplier))
            : Self.attempt(client, Self.reject(request.id, request.supplier))
        if let outcome { throw outcome }
    }

    private static func approve(_ id: String, _ supplier: String) -> @Sendable (WireClient) throws(RPCError) -> Void {
        { client throws(RPCError) in
            let _: InboxV1.ApproveAuthorizationResponse = try client.call(
                InboxScenarios.approveMethod, InboxV1.ApproveAuthorizationRequest(id: id, supplierId: supplier))
        }
    }

    private static func reject(_ id: String, _ supplier: String) -> @Sendable (WireClient) throws(RPCError) -> Void {
        { client throws(RPCError) in
            let _: InboxV1.RejectAuthorizationResponse = try client.call(
                InboxScenarios.rejectMethod,
                InboxV1.RejectAuthorizationRequest(id: id, supplierId: supplier, reason: "bench"))
        }
    }

    /// Runs one call; the error it ended with, nil on success.
    private static func attempt(
        _ client: WireClient, _ call: @Sendable (WireClient) throws(RPCError) -> Void
    ) -> RPCError? {
        do throws(RPCError) {
            try call(client)
            return nil
        } catch {
            return error
        }
    }
}

/// Hands each hot-seller worker the next unused product.
final class ProductCursor: Sendable {
    private let prefix: String
    private let count: Int
    private let next = Atomic<Int>(0)

    init(prefix: String, count: Int) {
        self.prefix = prefix
        self.count = count
    }

    var exhausted: Bool { next.load(ordering: .relaxed) >= count }

    func take() throws -> String {
        let index = next.add(1, ordering: .relaxed).oldValue
        guard index < count else { throw RPCError(.resourceExhausted, "bench ran out of hot-seller products") }
        return prefix + String(index)
    }
}

/// Hands out (seller, product) pairs of the many-sellers load, each once:
/// pair n is seller n mod `sellers` with product n / `sellers`, so
/// consecutive pairs (the ones running at the same time) belong to
/// different sellers and, through product n mod `suppliers`, to different
/// suppliers.
final class SpreadPairs: Sendable {
    private let prefix: String
    private let sellers: Int
    private let suppliers: Int
    private let products: Int
    private let next = Atomic<Int>(0)

    init(prefix: String, sellers: Int, suppliers: Int, products: Int) {
        self.prefix = prefix
        self.sellers = sellers
        self.suppliers = suppliers
        self.products = products
    }

    var exhausted: Bool { next.load(ordering: .relaxed) >= sellers * products }

    func take() throws -> (seller: String, product: String, supplier: String) {
        let index = next.add(1, ordering: .relaxed).oldValue
        guard index < sellers * products else { throw RPCError(.resourceExhausted, "bench ran out of seller/product pairs") }
        let product = index / sellers
        return (seller: "\(prefix)-s\(index % sellers)", product: "\(prefix)-p\(product)",
                supplier: "\(prefix)-sup\(product % suppliers)")
    }
}

/// One worker's walk through (seller, product) pairs, one RPC per step:
/// Request → Approve → Revoke → Request → Reject, then the next pair (a
/// rejection starts the cooldown, so the pair is not asked again).
///
/// `@unchecked Sendable`: the load generator calls `step` from one worker
/// thread only, so the mutable state is never shared.
final class DecisionCycle: @unchecked Sendable {
    static let callsPerCycle = 5
    static let decisionsPerCycle = 3

    typealias Pair = (seller: String, product: String, supplier: String)

    private let client: WireClient
    private let keyPrefix: String
    private let nextPair: () throws -> Pair
    private var phase = 0
    private var pair: Pair = ("", "", "")
    private var requestID = ""

    init(client: WireClient, keyPrefix: String, nextPair: @escaping () throws -> Pair) {
        self.client = client
        self.keyPrefix = keyPrefix
        self.nextPair = nextPair
    }

    func step() throws {
        do {
            switch phase {
            case 0, 3:
                if phase == 0 { pair = try nextPair() }
                let response: InboxV1.RequestAuthorizationResponse = try client.call(
                    "/inbox.v1.InboxService/Request",
                    InboxV1.RequestAuthorizationRequest(
                        sellerId: pair.seller, productId: pair.product,
                        idempotencyKey: "\(keyPrefix)-\(pair.product)-\(phase)"))
                requestID = response.request?.id ?? ""
            case 1:
                let _: InboxV1.ApproveAuthorizationResponse = try client.call(
                    InboxScenarios.approveMethod, InboxV1.ApproveAuthorizationRequest(id: requestID, supplierId: pair.supplier))
            case 2:
                let _: InboxV1.RevokeAuthorizationResponse = try client.call(
                    "/inbox.v1.InboxService/Revoke",
                    InboxV1.RevokeAuthorizationRequest(id: requestID, supplierId: pair.supplier, reason: "bench"))
            default:
                let _: InboxV1.RejectAuthorizationResponse = try client.call(
                    InboxScenarios.rejectMethod,
                    InboxV1.RejectAuthorizationRequest(id: requestID, supplierId: pair.supplier, reason: "bench"))
            }
            phase = (phase + 1) % Self.callsPerCycle
        } catch {
            phase = 0  // abandon this pair; the error is counted
            throw error
        }
    }
}
