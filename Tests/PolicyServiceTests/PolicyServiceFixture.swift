import Catalog
import Foundation
import Logging
import PolicyService
import Proto
import ServiceKit
import Storage
import TestSupport
import Wire

/// A policy service on a free loopback port over its own fresh database
/// (catalog, ops and policy migrations applied), with one client per caller
/// and helpers to write catalog rows and policies.
final class PolicyServiceFixture: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init and itself thread-safe.
    static let secrets: [Caller: String] = [
        .checkout: "checkout-policy-test-0000001",
        .settlement: "settlement-policy-test-00001",
        .supplierPortal: "supplier-policy-test-0000001",
        .operator: "operator-policy-test-00000001",
    ]

    /// 2025-11-07T00:00:00Z, the seed's rollout day, in unix microseconds.
    static let day0: Int64 = 1_762_473_600_000_000
    static let day: Int64 = 86_400_000_000

    let databaseURL: String
    let pool: PostgresPool
    let flags: RuntimeFlags
    let server: WireServer
    let settlement: WireClient
    let operatorClient: WireClient
    let checkout: WireClient
    let supplierPortal: WireClient

    /// Starts the service; `environment` sets runtime flags (the resolution
    /// timeout defaults to 10 s here so a slow debug build never trips it).
    init(environment: [String: String] = [:]) throws {
        databaseURL = try TestInfrastructure.freshDatabase()
        let logger = TestInfrastructure.logger("policy-test")
        let connection = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(5), applicationName: "policy-test-migrate")
        for component in [Catalog.migrations, MigrationComponent.runtimeFlags, PolicyServiceApplication.migrations] {
            _ = try Migrator(component: component.name, directory: component.directory, logger: logger).migrateUp(on: connection)
        }
        pool = PostgresPool(
            configuration: .init(url: databaseURL, size: 8, applicationName: "policy-test", settings: PolicyServiceApplication.postgresSettings),
            logger: logger
        )
        var values = ["POLICY_RESOLUTION_TIMEOUT_MS": "10000"]
        values.merge(environment) { $1 }
        flags = try PolicyServiceApplication.makeFlags(environment: EnvironmentReader(values), pool: pool, logger: logger)
        var configuration = WireServerConfiguration(port: 0)
        configuration.host = "127.0.0.1"
        configuration.workerThreads = 16
        server = WireServer(
            configuration: configuration,
            router: PolicyServiceApplication.router(pool: pool, flags: flags, logger: logger),
            credentials: try CredentialStore(Self.secrets),
            logger: logger
        )
        try server.start()
        let address = "127.0.0.1:\(server.port)"
        func client(_ caller: Caller) -> WireClient {
            var configuration = WireClientConfiguration(addresses: [address], credential: PolicyServiceFixture.secrets[caller])
            configuration.defaultTimeout = .seconds(30)
            configuration.connectionsPerAddress = 2
            return WireClient(configuration: configuration)
        }
        settlement = client(.settlement)
        operatorClient = client(.operator)
        checkout = client(.checkout)
        supplierPortal = client(.supplierPortal)
    }

    deinit {
        for client in [settlement, operatorClient, checkout, supplierPortal] { client.close() }
        server.stop()
        pool.close()
        try? TestInfrastructure.dropDatabase(databaseURL)
    }

    // MARK: Data

    /// Runs SQL directly (catalog rows, test setup).
    func sql(_ statement: String, _ parameters: [PostgresValue?] = []) throws {
        try pool.withConnection(deadline: .after(seconds: 10)) { connection in
            try connection.query(statement, parameters, deadline: .after(seconds: 10))
        }
    }

    /// Counts rows of a query's first column.
    func count(_ query: String, _ parameters: [PostgresValue?] = []) throws -> Int64 {
        try pool.withConnection(deadline: .after(seconds: 10)) { connection in
            try connection.query(query, parameters, deadline: .after(seconds: 10)).first?.int64(0) ?? -1
        }
    }

    /// Adds a supplier with products, and sellers with tiers.
    func catalog(supplier: String, products: [String] = [], sellers: [(id: String, tier: String)] = []) throws {
        try sql("INSERT INTO catalog.suppliers (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING", [.text(supplier)])
        for product in products {
            try sql("INSERT INTO catalog.products (id, supplier_id, name) VALUES ($1, $2, $1)", [.text(product), .text(supplier)])
        }
        for seller in sellers {
            try sql("INSERT INTO catalog.sellers (id, name, tier) VALUES ($1, $1, $2)", [.text(seller.id), .text(seller.tier)])
        }
    }

    // MARK: Calls

    func call<Response: ProtoMessage>(
        _ client: WireClient, _ method: String, _ request: some ProtoMessage, as: Response.Type = Response.self
    ) throws(RPCError) -> Response {
        try client.call("/policy.v1.PolicyService/\(method)", request, as: Response.self)
    }

    /// Terms of a percentage policy.
    static func percentage(
        _ code: String, _ kind: PolicyV1.PolicyKind, ppm: Int64, currency: String = "",
        min: Int64? = nil, max: Int64? = nil, from: Int64? = nil, until: Int64? = nil
    ) -> PolicyV1.PolicyTerms {
        PolicyV1.PolicyTerms(
            code: code, kind: kind, commissionType: .percentage, ratePpm: ppm, currency: currency,
            minCommission: .wrapping(min), maxCommission: .wrapping(max),
            validFromUnixMicros: .wrapping(from), validUntilUnixMicros: .wrapping(until)
        )
    }

    /// Terms of a fixed-amount policy.
    static func fixed(_ code: String, _ kind: PolicyV1.PolicyKind, amount: Int64, currency: String) -> PolicyV1.PolicyTerms {
        PolicyV1.PolicyTerms(code: code, kind: kind, commissionType: .fixed, fixedAmount: amount, currency: currency)
    }

    @discardableResult
    func create(_ terms: PolicyV1.PolicyTerms, status: PolicyV1.PolicyStatus = .active) throws(RPCError) -> PolicyV1.Policy {
        let response: PolicyV1.PolicyResponse = try call(
            operatorClient, "CreatePolicy", PolicyV1.CreatePolicyRequest(terms: terms, status: status, operatorId: "ops-alice")
        )
        guard let policy = response.policy else { throw RPCError(.internal, "CreatePolicy returned no policy") }
        return policy
    }

    @discardableResult
    func link(_ kind: PolicyV1.ScopeKind, _ scopeID: String, to policy: PolicyV1.Policy, cycleDays: Int32 = 0) throws(RPCError) -> PolicyV1.PolicyLink? {
        let response: PolicyV1.LinkPolicyResponse = try call(
            operatorClient, "LinkPolicy",
            PolicyV1.LinkPolicyRequest(scopeKind: kind, scopeId: scopeID, policyId: policy.id, settlementCycleDays: cycleDays, operatorId: "ops-alice")
        )
        return response.link
    }

    func resolve(_ item: PolicyV1.OrderItem, client: WireClient? = nil) throws(RPCError) -> PolicyV1.Resolution {
        let response: PolicyV1.ResolveResponse = try call(client ?? settlement, "Resolve", PolicyV1.ResolveRequest(item: item))
        guard let resolution = response.resolution else { throw RPCError(.internal, "Resolve returned no resolution") }
        return resolution
    }

    func resolveBatch(_ items: [PolicyV1.OrderItem]) throws(RPCError) -> [PolicyV1.ItemResult] {
        let response: PolicyV1.ResolveBatchResponse = try call(settlement, "ResolveBatch", PolicyV1.ResolveBatchRequest(items: items))
        return response.results
    }

    func record(_ items: [PolicyV1.OrderItem], batch: String = "batch-1", recalculate: Bool = false) throws(RPCError) -> [PolicyV1.CommissionLine] {
        let response: PolicyV1.RecordCommissionsResponse = try call(
            settlement, "RecordCommissions", PolicyV1.RecordCommissionsRequest(batchId: batch, items: items, recalculate: recalculate)
        )
        return response.lines
    }

    /// An order item at `day0` unless told.
    static func item(
        _ id: String, product: String, amount: Int64 = 10_000, currency: String = "USD",
        at time: Int64 = day0, supplier: String = "", seller: String = "", tier: String = ""
    ) -> PolicyV1.OrderItem {
        PolicyV1.OrderItem(
            orderItemId: id, productId: product, supplierId: supplier, sellerId: seller, sellerTier: tier,
            lineAmount: amount, currency: currency, orderTimeUnixMicros: time
        )
    }
}

extension PolicyV1.Int64Value {
    static func wrapping(_ value: Int64?) -> PolicyV1.Int64Value? {
        value.map { PolicyV1.Int64Value(value: $0) }
    }
}

/// The error a throwing call produced, or nil when it succeeded.
func rpcError<T>(_ body: () throws -> T) -> RPCError? {
    do {
        _ = try body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}
