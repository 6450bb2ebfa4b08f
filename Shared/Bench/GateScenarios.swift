import Foundation
import Proto
import Storage
import Wire

/// GateService under the issue 5 goals, against a gate running as its own
/// process (`O4O_GATE_ADDR`, metrics at `O4O_GATE_METRICS_URL`, default
/// `http://127.0.0.1:9102/metrics`) in an enforcing mode. The scenario writes
/// its own data through `DATABASE_URL` (catalog rows and approved
/// `inbox.authorization_state` rows, as InboxService would leave them) under
/// a fresh run id, so reruns never collide.
///
/// Data: 200 sellers, each approved for its own 10 products (2,000 pairs);
/// seller i's "neighbour" products (those of seller i+1) are never requested.
enum GateScenarios {
    static let all: [Scenario] = [scenario]

    static let sellers = 200
    static let productsPerSeller = 10

    /// The runs of the scenario, in order. `O4O_BENCH_GATE_RUNS` (comma-separated
    /// names) keeps some of them, for profiling one run with `perf` or
    /// `strace` attached, or for alternating before/after builds quickly;
    /// the default runs all of them, as `deploy/local/bench` expects.
    enum Run: String, CaseIterable {
        case hit, miss, wide, paced, batch

        static func selected(from environment: [String: String]) throws -> Set<Run> {
            guard let list = environment["O4O_BENCH_GATE_RUNS"], !list.isEmpty else { return Set(allCases) }
            return try Set(list.split(separator: ",").map { name in
                guard let run = Run(rawValue: String(name)) else {
                    throw BenchError("O4O_BENCH_GATE_RUNS: unknown run \(name) (known: \(allCases.map(\.rawValue).joined(separator: ",")))")
                }
                return run
            })
        }
    }

    static let scenario = Scenario(name: "gate") { context, report in
        let runs = try Run.selected(from: ProcessInfo.processInfo.environment)
        guard let databaseURL = context.environment.databaseURL else {
            throw BenchError("the gate scenario needs DATABASE_URL to write its test data")
        }
        let run = String(UUID().uuidString.lowercased().prefix(8))
        let prefix = "bench-\(run)"
        try seed(databaseURL: databaseURL, prefix: prefix)
        let data = GateBenchData(prefix: prefix)

        // Warm the cache: every approved pair once (one CheckBatch per seller).
        let warm = context.environment.client(service: "gate", caller: "checkout")
        var mode = GateV1.RolloutMode.unspecified
        for seller in 0..<sellers {
            let response: GateV1.CheckBatchResponse = try warm.call(
                checkBatchMethod, GateV1.CheckBatchRequest(sellerId: data.seller(seller), items: data.ownItems(of: seller)))
            mode = response.results.first?.mode ?? mode
        }
        warm.close()
        guard mode == .full else {
            report.notes.append("gate scenario skipped: the gate runs in mode \(mode), not FULL (set ENABLE_SELLER_AUTHORIZATION=true, SELLER_AUTH_MODE=full)")
            report.goals.append(GoalVerdict(issue: "#5", goal: "gate measured in FULL mode", measured: "mode \(mode)", met: false))
            return
        }

        // 1. Cache hit, one connection, beside the Redis GET baseline.
        if runs.contains(.hit) {
            let hit: LoadGenerator.OperationFactory = { worker in
                let client = context.environment.client(service: "gate", caller: "checkout")
                let cursor = WorkerCursor(start: worker * 7919)
                return {
                    let (seller, product) = data.approvedPair(cursor.advance())
                    let result = try check(client, seller: seller, product: product)
                    guard result.allowed else { throw BenchError("approved pair \(seller)/\(product) denied: \(result.reason)") }
                }
        }
        let countersBefore = try GateCacheCounters.read()
        let single = try context.generator("gate: Check, cache hit, 1 connection", connections: 1, hit).runClosedLoop()
        let countersAfter = try GateCacheCounters.read()
        report.results.append(single)
        let hitsDuring = countersAfter.hits - countersBefore.hits
        let localShare = hitsDuring > 0 ? (countersAfter.localHits - countersBefore.localHits) / hitsDuring : 0
        if let redis = report.baselines.first(where: { $0.name.hasPrefix("redis GET") && $0.connections == 1 }) {
            let p50Ratio = single.p50 / redis.p50
            let p99Ratio = single.p99 / redis.p99
            report.goals.append(GoalVerdict(
                issue: "#5", goal: "Check cache hit p50 ≤ 2x and p99 ≤ 3x of a Redis GET round trip",
                measured: "p50 \(Int(single.p50)) µs vs \(Int(redis.p50)) µs = \(format(p50Ratio))x; p99 \(Int(single.p99)) µs vs \(Int(redis.p99)) µs = \(format(p99Ratio))x"
                    + floorNote(single, redis: redis, baselines: report.baselines)
                    + "; \(String(format: "%.1f", localShare * 100))% of its hits answered by the gate's local copy",
                met: p50Ratio <= 2 && p99Ratio <= 3 && single.errors == 0))
        }
        }

        // 2. Cache miss: every call names a product never asked about, so each
        // is a Redis miss, a PostgreSQL read and a compare-and-set fill.
        if runs.contains(.miss) {
            let miss: LoadGenerator.OperationFactory = { worker in
                let client = context.environment.client(service: "gate", caller: "checkout")
                let cursor = WorkerCursor(start: 0)
                return {
                    let product = "\(prefix)-miss-w\(worker)-\(cursor.advance())"
                    let result = try check(client, seller: data.seller(0), product: product)
                    guard !result.allowed, result.tier == .postgres else {
                        throw BenchError("a never-requested product answered \(result.reason) from \(result.tier)")
                    }
                }
            }
            let missResult = try context.generator("gate: Check, cache miss (PostgreSQL + fill), 1 connection", connections: 1, miss).runClosedLoop()
            report.results.append(missResult)
            report.notes.append(
                "gate cache miss: p50 \(Int(missResult.p50)) µs, p99 \(Int(missResult.p99)) µs (each call a Redis GET miss, a PostgreSQL primary-key read and an EVALSHA fill)")
        }

        // 3. 64 connections, steady state: 95% approved pairs, 5% pairs never
        // requested (denials, cached with the shorter TTL). Hit rate from the
        // gate's own counters across both runs. Driven by the event-loop
        // generator so that 64 client threads do not compete with the gate
        // for the 2 cores.
        let mixed = MixedChecks(data: data)
        func wideGenerator(_ name: String) -> EventLoopLoadGenerator {
            context.eventLoopGenerator(
                name, service: "gate", caller: "checkout", connections: 64, method: checkMethod,
                payloads: mixed.payloads, verify: mixed.verify)
        }
        if runs.contains(.wide) || runs.contains(.paced) {
            let before = try GateCacheCounters.read()
            let wide = runs.contains(.wide)
                ? try wideGenerator("gate: Check, 64 connections (95% approved, 5% denied; event-loop client)").runClosedLoop() : nil
            let paced = runs.contains(.paced)
                ? try wideGenerator("gate: Check, 64 connections at 20,000/s (event-loop client)").runOpenLoop(rate: 20_000) : nil
            let after = try GateCacheCounters.read()
            report.results += [wide, paced].compactMap { $0 }
            if let wide, let paced {
                report.notes.append(
                    "gate, 64 connections: driven by the event-loop load generator (one thread, epoll, pre-encoded requests, every response decoded and checked); "
                        + "o4o-bench used \(format(wide.clientCPUSeconds ?? 0)) s CPU for the closed-loop run and \(format(paced.clientCPUSeconds ?? 0)) s for the open-loop run "
                        + "(\(context.runSeconds) s each). The 1-connection runs go through WireClient.")
                let p95 = paced.p95 ?? paced.p99
                report.goals.append(GoalVerdict(
                    issue: "#5", goal: "≥ 20,000 checks/s with 64 connections at p95 < 1 ms",
                    measured: "peak \(Int(wide.achievedRate))/s (closed loop, p95 \(Int(wide.p95 ?? wide.p99)) µs); at 20,000/s offered: \(Int(paced.achievedRate))/s achieved, p95 \(Int(p95)) µs, p99 \(Int(paced.p99)) µs, \(paced.errors + wide.errors) errors",
                    met: paced.achievedRate >= 19_800 && p95 < 1000 && paced.errors == 0 && wide.errors == 0))
            }
            let hits = after.hits - before.hits
            let misses = after.misses - before.misses
            let hitRate = hits + misses > 0 ? hits / (hits + misses) : 0
            report.goals.append(GoalVerdict(
                issue: "#5", goal: "steady-state cache hit rate > 95%",
                measured: "\(String(format: "%.2f", hitRate * 100))% (\(Int(hits)) hits, \(Int(misses)) misses, from seller_auth_gate_cache_* during the 64-connection runs)",
                met: hitRate > 0.95))
        }

        // 4. A 20-item cart: the seller's 10 approved products and 10 it never requested.
        guard runs.contains(.batch) else { return }
        let batch: LoadGenerator.OperationFactory = { worker in
            let client = context.environment.client(service: "gate", caller: "checkout")
            let cursor = WorkerCursor(start: worker * 31)
            return {
                let seller = cursor.advance() % sellers
                let request = GateV1.CheckBatchRequest(sellerId: data.seller(seller), items: data.cartItems(of: seller))
                let response: GateV1.CheckBatchResponse = try client.call(checkBatchMethod, request)
                guard response.results.count == 20, response.results.prefix(10).allSatisfy(\.allowed),
                    !response.results.suffix(10).contains(where: \.allowed)
                else { throw BenchError("CheckBatch answered wrongly for seller \(seller)") }
            }
        }
        let batchResult = try context.generator("gate: CheckBatch of 20, 1 connection", connections: 1, batch).runClosedLoop()
        report.results.append(batchResult)
        report.goals.append(GoalVerdict(
            issue: "#5", goal: "CheckBatch of 20 items p99 < 1 ms",
            measured: "p50 \(Int(batchResult.p50)) µs, p99 \(Int(batchResult.p99)) µs, \(batchResult.errors) errors",
            met: batchResult.p99 < 1000 && batchResult.errors == 0))
    }

    static let checkMethod = "/gate.v1.GateService/Check"
    static let checkBatchMethod = "/gate.v1.GateService/CheckBatch"

    static func check(_ client: WireClient, seller: String, product: String) throws -> GateV1.CheckResult {
        let response: GateV1.CheckResponse = try client.call(
            checkMethod, GateV1.CheckRequest(sellerId: seller, productId: product, stage: .cart))
        guard let result = response.result else { throw BenchError("Check answered without a result") }
        return result
    }

    /// Writes the scenario's catalog rows and approvals in a few set-based statements.
    static func seed(databaseURL: String, prefix: String) throws {
        let connection = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), applicationName: "o4o-bench")
        let deadline = Deadline.after(seconds: 60)
        let supplier = "\(prefix)-sup"
        let productCount = Int64(sellers * productsPerSeller)
        try connection.transaction(deadline: deadline) { connection in
            try connection.query(
                "INSERT INTO catalog.suppliers (id, name) VALUES ($1::text, 'Bench supplier')", [.text(supplier)], deadline: deadline)
            try connection.query(
                """
                INSERT INTO catalog.sellers (id, name, tier)
                SELECT $1::text || '-s' || g, 'Bench seller', 'GOLD' FROM generate_series(0, $2::int - 1) AS g
                """, [.text(prefix), .int64(Int64(sellers))], deadline: deadline)
            try connection.query(
                """
                INSERT INTO catalog.products (id, supplier_id, name)
                SELECT $1::text || '-p' || g, $2::text, 'Bench product' FROM generate_series(0, $3::int - 1) AS g
                """, [.text(prefix), .text(supplier), .int64(productCount)], deadline: deadline)
            try connection.query(
                """
                WITH req AS (
                    INSERT INTO inbox.authorization_requests
                           (seller_id, product_id, supplier_id, status, idempotency_key, decided_at, decided_by, version)
                    SELECT $1::text || '-s' || (g / $3::int), $1::text || '-p' || g, $2::text, 'APPROVED',
                           $1::text || '-k' || g, statement_timestamp(), 'o4o-bench', nextval('inbox.authorization_version_seq')
                      FROM generate_series(0, $4::int - 1) AS g
                    RETURNING *
                )
                INSERT INTO inbox.authorization_state (seller_id, product_id, status, version, request_id, approved_at)
                SELECT seller_id, product_id, status, version, id, decided_at FROM req
                """, [.text(prefix), .text(supplier), .int64(Int64(productsPerSeller)), .int64(productCount)], deadline: deadline)
        }
    }
}

/// The 64-connection Check mix, pre-encoded: step `i` of the rotation asks
/// about a never-requested pair when `i` is a multiple of 20 (it must be
/// denied) and about an approved pair otherwise (it must be allowed).
/// 40,000 steps visit every approved pair and every never-requested pair.
struct MixedChecks: Sendable {
    var payloads: [[UInt8]]
    var expectAllowed: [Bool]
    var pairs: [(seller: String, product: String)]

    init(data: GateBenchData, steps: Int = 40_000) {
        pairs = (0..<steps).map { $0 % 20 == 0 ? data.neighbourPair($0 / 20) : data.approvedPair($0) }
        expectAllowed = (0..<steps).map { $0 % 20 != 0 }
        payloads = pairs.map { GateV1.CheckRequest(sellerId: $0.seller, productId: $0.product, stage: .cart).serializedBytes() }
    }

    /// Why the response to step `index` is wrong, or nil.
    func verify(_ index: Int, _ response: [UInt8]) -> String? {
        guard let decoded = try? GateV1.CheckResponse(serializedBytes: response) else { return "malformed CheckResponse" }
        guard let result = decoded.result else { return "Check answered without a result" }
        guard result.allowed != expectAllowed[index] else { return nil }
        let (seller, product) = pairs[index]
        return result.allowed
            ? "never-requested pair \(seller)/\(product) was allowed"
            : "approved pair \(seller)/\(product) denied: \(result.reason)"
    }
}

/// The ids the gate scenario wrote.
struct GateBenchData: Sendable {
    var prefix: String

    func seller(_ index: Int) -> String { "\(prefix)-s\(index % GateScenarios.sellers)" }

    func product(_ index: Int) -> String {
        "\(prefix)-p\(index % (GateScenarios.sellers * GateScenarios.productsPerSeller))"
    }

    /// The `step`-th approved pair (seller i owns products 10i ..< 10i + 10).
    func approvedPair(_ step: Int) -> (String, String) {
        let product = step % (GateScenarios.sellers * GateScenarios.productsPerSeller)
        return (seller(product / GateScenarios.productsPerSeller), self.product(product))
    }

    /// The `step`-th never-requested pair: a seller and one of its neighbour's products.
    func neighbourPair(_ step: Int) -> (String, String) {
        let product = step % (GateScenarios.sellers * GateScenarios.productsPerSeller)
        return (seller(product / GateScenarios.productsPerSeller + 1), self.product(product))
    }

    /// Seller `index`'s approved products as CART items.
    func ownItems(of index: Int) -> [GateV1.CheckItem] {
        (0..<GateScenarios.productsPerSeller).map {
            GateV1.CheckItem(productId: product(index * GateScenarios.productsPerSeller + $0), stage: .cart)
        }
    }

    /// A 20-item cart: the seller's 10 approved products, then 10 of its neighbour's.
    func cartItems(of index: Int) -> [GateV1.CheckItem] {
        ownItems(of: index) + ownItems(of: index + 1)
    }
}

/// A worker's position in its sequence of calls (one worker thread each).
final class WorkerCursor: @unchecked Sendable {
    // @unchecked: each cursor belongs to one worker thread.
    private var value: Int

    init(start: Int) { value = start }

    func advance() -> Int {
        defer { value &+= 1 }
        return value & Int.max
    }
}

/// `seller_auth_gate_cache_hits_total`, `..._misses_total` and
/// `seller_auth_gate_local_cache_hits_total` from the gate's Prometheus endpoint.
struct GateCacheCounters {
    var hits: Double
    var misses: Double
    /// Of the hits, those the gate's local copy answered.
    var localHits: Double

    static func read() throws -> GateCacheCounters {
        let url = ProcessInfo.processInfo.environment["O4O_GATE_METRICS_URL"] ?? "http://127.0.0.1:9102/metrics"
        let text = try Baselines.run("/usr/bin/curl", ["-sSf", "--max-time", "5", url])
        func total(_ name: String) -> Double {
            text.split(separator: "\n")
                .filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                .reduce(0, +)
        }
        return GateCacheCounters(
            hits: total("seller_auth_gate_cache_hits_total"), misses: total("seller_auth_gate_cache_misses_total"),
            localHits: total("seller_auth_gate_local_cache_hits_total"))
    }
}

/// The cache-hit goal compares a check with one Redis round trip alone. A check the gate's
/// local copy answers is one hop; one it asks Redis for is a hop plus a Redis round trip.
/// This note puts both beside the floor of the second shape (`Baselines.relayRedisGet`).
private func floorNote(_ single: LoadResult, redis: LoadResult, baselines: [LoadResult]) -> String {
    guard let floor = baselines.first(where: { $0.name.hasPrefix("TCP hop + redis GET") }), floor.p50 > 0 else { return "" }
    return "; floor (TCP hop + Redis GET, no gate) p50 \(Int(floor.p50)) µs = \(format(floor.p50 / redis.p50))x Redis GET, "
        + "gate p50 = \(format(single.p50 / floor.p50))x the floor"
}
