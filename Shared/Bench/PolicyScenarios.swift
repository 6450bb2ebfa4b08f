import Foundation
import PolicyCore
import Proto
import Storage
import Wire

/// PolicyService scenarios (issue #3): a 10,000-item ResolveBatch end to end,
/// a single warm Resolve, and the in-process resolver alone.
///
/// The service scenarios write their own data with SQL through `DATABASE_URL`
/// (catalog rows, policies, links; idempotent, prefixed `bench-`) and call the
/// running policy-service at `O4O_POLICY_ADDR` as the `settlement` caller.
enum PolicyScenarios {
    static let all: [Scenario] = [batch, single, resolver]

    /// Products in the bench catalog; a batch spreads its items over all of them.
    static let productCount = 10_000
    static let supplierCount = 100
    /// Items of one ResolveBatch call (the contract's maximum).
    static let batchSize = 10_000

    static let batch = Scenario(name: "policy-batch") { context, report in
        try BenchData.ensure(context.environment)
        let items = BenchData.items(count: batchSize, seed: 0)
        let request = PolicyV1.ResolveBatchRequest(items: items)
        let call: LoadGenerator.OperationFactory = { _ in
            let client = context.environment.client(service: "policy", caller: "settlement")
            return {
                let response = try client.call(
                    "/policy.v1.PolicyService/ResolveBatch", request, as: PolicyV1.ResolveBatchResponse.self, timeout: .seconds(10)
                )
                guard response.results.count == batchSize, response.results.allSatisfy({ $0.error == nil }) else {
                    throw BenchData.Failure(description: "ResolveBatch returned \(response.results.count) results, some failed")
                }
            }
        }
        let result = try context.generator("policy: ResolveBatch of \(batchSize) items, 1 connection", connections: 1, call).runClosedLoop()
        report.results.append(result)
        // A batch slower than POLICY_RESOLUTION_TIMEOUT_MS (default 100 ms) fails with
        // DEADLINE_EXCEEDED by design: say which value was in force.
        let flags = try? context.environment.client(service: "policy", caller: "settlement")
            .call("/flags.v1.FlagService/List", FlagsV1.ListFlagsRequest(), as: FlagsV1.ListFlagsResponse.self)
        if let timeout = flags?.flags.first(where: { $0.name == "POLICY_RESOLUTION_TIMEOUT_MS" }) {
            report.notes.append("policy-batch ran with POLICY_RESOLUTION_TIMEOUT_MS=\(timeout.value) (\(timeout.source)); a batch slower than that fails with DEADLINE_EXCEEDED.")
        }
        report.goals.append(GoalVerdict(
            issue: "#3", goal: "ResolveBatch of 10,000 items end to end p50 < 50 ms",
            measured: "p50 \(format(result.p50 / 1000)) ms, p99 \(format(result.p99 / 1000)) ms, \(format(result.achievedRate * Double(batchSize))) items/s, \(result.errors) errors",
            met: result.p50 < 50_000 && result.errors == 0
        ))
    }

    static let single = Scenario(name: "policy-resolve") { context, report in
        try BenchData.ensure(context.environment)
        let items = BenchData.items(count: 1_000, seed: 1)
        let call: LoadGenerator.OperationFactory = { worker in
            let client = context.environment.client(service: "policy", caller: "settlement")
            let counter = BenchData.Counter()
            return {
                let item = items[counter.next() % items.count]
                _ = try client.call("/policy.v1.PolicyService/Resolve", PolicyV1.ResolveRequest(item: item), as: PolicyV1.ResolveResponse.self)
            }
        }
        let result = try context.generator("policy: Resolve (warm), 1 connection", connections: 1, call).runClosedLoop()
        report.results.append(result)
        var measured = "p50 \(Int(result.p50)) µs, p99 \(Int(result.p99)) µs, \(result.errors) errors"
        if let pgbench = report.baselines.first(where: { $0.name.hasPrefix("pgbench") }) {
            measured += "; pgbench -S p50 \(Int(pgbench.p50)) µs"
        }
        report.goals.append(GoalVerdict(
            issue: "#3", goal: "single warm Resolve p99 < 1 ms", measured: measured, met: result.p99 < 1_000 && result.errors == 0
        ))
    }

    /// The pure resolver over a preloaded snapshot shaped like the bench data
    /// (10 % product overrides, supplier policies, a default), single-threaded.
    static let resolver = Scenario(name: "policy-resolver") { _, report in
        let (resolver, items) = try InProcessResolver.make()
        var checksum: Int64 = 0
        for item in items.prefix(100_000) {  // warm-up
            checksum &+= (try? resolver.resolve(item).commission.minorUnits) ?? 0
        }
        let rounds = 20
        let started = Deadline.now()
        for _ in 0..<rounds {
            for item in items {
                checksum &+= (try? resolver.resolve(item).commission.minorUnits) ?? 0
            }
        }
        let seconds = Double(Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let total = Double(rounds * items.count)
        let rate = total / seconds
        report.results.append(LoadResult(
            name: "policy: in-process PolicyResolver.resolve (checksum \(checksum))", mode: "in-process", connections: 1,
            offeredRate: nil, achievedRate: rate, calls: UInt64(total), errors: 0,
            p50: .nan, p90: .nan, p99: .nan, p999: .nan, max: .nan, firstError: nil
        ))
        report.goals.append(GoalVerdict(
            issue: "#3", goal: "in-process resolver > 1,000,000 items/s",
            measured: "\(Int(rate)) items/s on one thread (\(format(1e9 / rate)) ns per item)", met: rate > 1_000_000
        ))
    }
}

/// The bench's catalog and policies, written with SQL (idempotent: `ON CONFLICT DO NOTHING`).
enum BenchData {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A per-worker round-robin index.
    final class Counter: @unchecked Sendable {
        // @unchecked: used by one load-generator worker thread only.
        private var value = 0
        func next() -> Int {
            value &+= 1
            return value
        }
    }

    /// 2025-11-07T00:00:00Z, inside every bench policy's window.
    static let orderTime: Int64 = 1_762_473_600_000_000

    static func ensure(_ environment: BenchEnvironment) throws {
        guard let url = environment.databaseURL else {
            throw Failure(description: "DATABASE_URL is required: the policy scenarios write their own catalog rows and policies")
        }
        let connection = try PostgresConnection.connect(url: url, timeout: .seconds(5), applicationName: "o4o-bench-policy")
        let deadline = Deadline.after(seconds: 120)
        try connection.transaction(deadline: deadline) { connection in
            try connection.query(
                "INSERT INTO catalog.suppliers (id, name) SELECT 'bench-sup-' || g, 'Bench supplier ' || g FROM generate_series(0, $1::int - 1) AS g ON CONFLICT DO NOTHING",
                [.int64(Int64(PolicyScenarios.supplierCount))], deadline: deadline
            )
            try connection.query(
                """
                INSERT INTO catalog.products (id, supplier_id, name)
                SELECT 'bench-prod-' || g, 'bench-sup-' || (g % $2::int), 'Bench product ' || g FROM generate_series(0, $1::int - 1) AS g
                ON CONFLICT DO NOTHING
                """,
                [.int64(Int64(PolicyScenarios.productCount)), .int64(Int64(PolicyScenarios.supplierCount))], deadline: deadline
            )
            // A DEFAULT policy only when none is active: two active defaults may not overlap.
            try connection.query(
                """
                INSERT INTO policy.policies (code, kind, commission_type, rate_ppm, status, created_by, updated_by)
                SELECT 'BENCH-DEFAULT', 'DEFAULT', 'PERCENTAGE', 100000, 'active', 'o4o-bench', 'o4o-bench'
                 WHERE NOT EXISTS (SELECT 1 FROM policy.policies WHERE kind = 'DEFAULT' AND status = 'active')
                ON CONFLICT (code) DO NOTHING
                """, deadline: deadline
            )
            try connection.query(
                """
                INSERT INTO policy.policies (code, kind, commission_type, rate_ppm, status, created_by, updated_by)
                VALUES ('BENCH-SUPPLIER', 'SUPPLIER', 'PERCENTAGE', 150000, 'active', 'o4o-bench', 'o4o-bench'),
                       ('BENCH-PRODUCT', 'PRODUCT', 'PERCENTAGE', 225000, 'active', 'o4o-bench', 'o4o-bench')
                ON CONFLICT (code) DO NOTHING
                """, deadline: deadline
            )
            // Half the suppliers have a supplier policy; one product in ten an override.
            try connection.query(
                """
                INSERT INTO policy.policy_links (scope_kind, scope_id, policy_id, created_by)
                SELECT 'SUPPLIER', 'bench-sup-' || g, p.id, 'o4o-bench'
                  FROM generate_series(0, $1::int - 1, 2) AS g, policy.policies AS p WHERE p.code = 'BENCH-SUPPLIER'
                ON CONFLICT DO NOTHING
                """,
                [.int64(Int64(PolicyScenarios.supplierCount))], deadline: deadline
            )
            try connection.query(
                """
                INSERT INTO policy.policy_links (scope_kind, scope_id, policy_id, created_by)
                SELECT 'PRODUCT', 'bench-prod-' || g, p.id, 'o4o-bench'
                  FROM generate_series(0, $1::int - 1, 10) AS g, policy.policies AS p WHERE p.code = 'BENCH-PRODUCT'
                ON CONFLICT DO NOTHING
                """,
                [.int64(Int64(PolicyScenarios.productCount))], deadline: deadline
            )
        }
    }

    /// Items over every bench product; the supplier comes from the catalog.
    static func items(count: Int, seed: Int) -> [PolicyV1.OrderItem] {
        (0..<count).map { index in
            PolicyV1.OrderItem(
                orderItemId: "bench-\(seed)-\(index)",
                productId: "bench-prod-\((index * 7 + seed) % PolicyScenarios.productCount)",
                lineAmount: Int64(1_000 + index % 50_000),
                currency: "USD",
                orderTimeUnixMicros: orderTime + Int64(index)
            )
        }
    }
}

/// A resolver over a snapshot shaped like the bench data, built in memory.
enum InProcessResolver {
    static func make() throws -> (PolicyResolver, [OrderItem]) {
        let usd = try Currency(code: "USD")
        let defaultPolicy = try Policy(
            id: "bench-default", code: "BENCH-DEFAULT", kind: .default,
            commission: .percentage(CommissionRate(ppm: 100_000)), currency: nil, status: .active, version: 1
        )
        let supplierPolicy = try Policy(
            id: "bench-supplier", code: "BENCH-SUPPLIER", kind: .supplier,
            commission: .percentage(CommissionRate(ppm: 150_000)), currency: usd,
            minCommission: Money(minorUnits: 10, currency: usd), maxCommission: Money(minorUnits: 100_000, currency: usd),
            status: .active, version: 1
        )
        let productPolicy = try Policy(
            id: "bench-product", code: "BENCH-PRODUCT", kind: .product,
            commission: .percentage(CommissionRate(ppm: 225_000)), currency: nil,
            status: .active, window: PolicyWindow(start: 0, end: .max), version: 1
        )
        var links: [PolicyLink] = []
        for supplier in stride(from: 0, to: PolicyScenarios.supplierCount, by: 2) {
            links.append(try PolicyLink(scope: PolicyScope(kind: .supplier, id: "bench-sup-\(supplier)"), policyID: supplierPolicy.id))
        }
        for product in stride(from: 0, to: PolicyScenarios.productCount, by: 10) {
            links.append(try PolicyLink(scope: PolicyScope(kind: .product, id: "bench-prod-\(product)"), policyID: productPolicy.id))
        }
        let policies = try PolicySet(policies: [defaultPolicy, supplierPolicy, productPolicy], links: links)
        let resolver = PolicyResolver(policies: policies, flags: PolicyResolutionFlags(supplierPolicyEnabled: true, tierPolicyEnabled: true))
        let items = (0..<PolicyScenarios.batchSize * 10).map { index in
            let product = (index * 7) % PolicyScenarios.productCount
            return OrderItem(
                orderItemID: "bench-\(index)", productID: "bench-prod-\(product)",
                supplierID: "bench-sup-\(product % PolicyScenarios.supplierCount)", sellerTier: index % 3 == 0 ? "GOLD" : nil,
                lineAmount: Money(minorUnits: Int64(1_000 + index % 50_000), currency: usd), orderedAt: BenchData.orderTime + Int64(index)
            )
        }
        return (resolver, items)
    }
}
