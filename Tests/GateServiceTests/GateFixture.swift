import Catalog
import Foundation
import GateCore
@testable import GateService
import InboxService
import Logging
import Proto
import ServiceKit
import Storage
import TestSupport
import Wire

/// A gate served in-process on a free loopback port, over a fresh database
/// holding the catalog, the runtime-flags schema and InboxService's schema,
/// with helpers that write authorization rows the way InboxService does
/// (state row with a new version, then the compare-and-set write-through).
final class GateFixture: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; the types
    // they hold are thread-safe (pools, server, proxies, gate).
    static let secrets: [Caller: String] = [
        .checkout: "checkout-gate-test-secret-01",
        .settlement: "settlement-gate-test-secret-01",
        .operator: "operator-gate-test-secret-01",
        .supplierPortal: "portal-gate-test-secret-0001",
    ]

    /// How a fixture reaches its stores.
    struct Options {
        var redisThroughProxy = false
        var postgresThroughProxy = false
        var withFlags = false
        var settings = GateSettings(
            rollout: RolloutConfig(mode: .full), cacheTTL: .default, redisTimeout: .milliseconds(100),
            breaker: CircuitBreaker.Configuration(consecutiveFailures: 2, window: 20, failureRatePercent: 50, openDuration: .milliseconds(200)))
    }

    let databaseURL: String
    let adminConnection: PostgresConnection
    let postgres: PostgresPool
    let redis: RedisPool
    /// A direct Redis pool (never proxied) for the test's own reads and write-throughs.
    let directRedis: RedisPool
    let redisProxy: TCPProxy?
    let postgresProxy: TCPProxy?
    let application: GateApplication
    let server: WireServer
    let seller: String
    let supplier: String
    private let adminLock = NSLock()

    var gate: AuthorizationGate { application.gate }

    init(_ options: Options = Options()) throws {
        let logger = TestInfrastructure.logger("gate-test")
        databaseURL = try TestInfrastructure.freshDatabase()
        adminConnection = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(5), applicationName: "gate-test")
        for component in [Catalog.migrations, MigrationComponent.runtimeFlags, Self.inboxMigrations] {
            _ = try Migrator(component: component.name, directory: component.directory, logger: logger).migrateUp(on: adminConnection)
        }
        supplier = TestInfrastructure.uniqueID("sup")
        seller = TestInfrastructure.uniqueID("sel")
        try adminConnection.query("INSERT INTO catalog.suppliers (id, name) VALUES ($1, 'Supplier')", [.text(supplier)])
        try adminConnection.query("INSERT INTO catalog.sellers (id, name, tier) VALUES ($1, 'Seller', 'GOLD')", [.text(seller)])

        let pgPort = URLComponents(string: databaseURL)?.port ?? 5432
        postgresProxy = options.postgresThroughProxy ? try TCPProxy(targetPort: pgPort) : nil
        postgres = PostgresPool(
            configuration: .init(
                url: postgresProxy?.url(replacingPortOf: databaseURL) ?? databaseURL, size: 8,
                connectTimeout: .seconds(2), applicationName: "gate-test"),
            logger: logger)

        let redisURL = try TestInfrastructure.redisURL()
        let redisPort = URLComponents(string: redisURL)?.port ?? 6379
        redisProxy = options.redisThroughProxy ? try TCPProxy(targetPort: redisPort) : nil
        let redisConfiguration = try RedisConnection.Configuration(
            url: redisProxy?.url(replacingPortOf: redisURL) ?? redisURL,
            connectTimeout: .milliseconds(500), commandTimeout: .milliseconds(250))
        redis = RedisPool(configuration: redisConfiguration, size: 8, logger: logger)
        directRedis = RedisPool(configuration: try TestInfrastructure.redisConfiguration(), size: 4, logger: logger)

        let flags = options.withFlags
            ? try RuntimeFlags(
                service: "gate", definitions: GateFlags.definitions,
                environment: EnvironmentReader(["ENABLE_SELLER_AUTHORIZATION": "true", "SELLER_AUTH_MODE": "full"]),
                defaults: [:], pool: postgres, logger: logger)
            : nil
        application = GateApplication(settings: options.settings, postgres: postgres, redis: redis, flags: flags, logger: logger)
        var router = application.router
        HealthService.register(on: &router, services: [GateApplication.serviceName], isDraining: { false }) {
            HealthReport(dependencies: [])
        }
        var configuration = WireServerConfiguration(port: 0)
        configuration.host = "127.0.0.1"
        configuration.workerThreads = 16
        server = WireServer(
            configuration: configuration, router: router, credentials: try CredentialStore(Self.secrets), logger: logger)
        try server.start()
        application.localCacheListener?.start()
    }

    deinit {
        application.localCacheListener?.stop()
        server.stop()
        redisProxy?.stop()
        postgresProxy?.stop()
        postgres.close()
        redis.close()
        directRedis.close()
        try? TestInfrastructure.dropDatabase(databaseURL)
    }

    /// InboxService's migrations, from the source tree (the gate reads its tables).
    static var inboxMigrations: MigrationComponent {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/InboxService/Sources/InboxService/Migrations", isDirectory: true)
        return MigrationComponent(name: "inbox", directory: directory)
    }

    func client(_ caller: Caller = .checkout) -> WireClient {
        var configuration = WireClientConfiguration(addresses: ["127.0.0.1:\(server.port)"], credential: Self.secrets[caller])
        configuration.defaultTimeout = .seconds(5)
        return WireClient(configuration: configuration)
    }

    // MARK: - Calls

    func check(
        _ product: String, seller: String? = nil, stage: GateV1.Stage = .cart, orderTime: Int64 = 0,
        client: WireClient? = nil
    ) throws -> GateV1.CheckResult {
        let owned = client == nil ? self.client() : nil
        defer { owned?.close() }
        let request = GateV1.CheckRequest(
            sellerId: seller ?? self.seller, productId: product, stage: stage, orderTimeUnixMicros: orderTime)
        let response: GateV1.CheckResponse = try (client ?? owned!).call("/gate.v1.GateService/Check", request)
        guard let result = response.result else { throw FixtureError("Check answered without a result") }
        return result
    }

    // MARK: - Authorization rows, as InboxService writes them

    /// What a transition produced.
    struct Transition {
        var requestId: String
        var state: AuthorizationState
    }

    /// Adds a catalog product of the fixture's supplier.
    func addProduct(_ id: String) throws {
        try admin { connection in
            try connection.query(
                "INSERT INTO catalog.products (id, supplier_id, name) VALUES ($1, $2, 'Product') ON CONFLICT DO NOTHING",
                [.text(id), .text(supplier)])
        }
    }

    /// Opens a request (REQUESTED) for the pair.
    @discardableResult
    func request(_ product: String, seller: String? = nil) throws -> Transition {
        let seller = seller ?? self.seller
        let requestId = try admin { connection in
            try connection.query(
                "INSERT INTO catalog.sellers (id, name, tier) VALUES ($1, 'Seller', 'GOLD') ON CONFLICT DO NOTHING", [.text(seller)])
            return try connection.query(
                """
                WITH req AS (
                    INSERT INTO inbox.authorization_requests
                           (seller_id, product_id, supplier_id, idempotency_key, created_at, version)
                    VALUES ($1::text, $2::text, $3::text, $4::text, statement_timestamp(), nextval('inbox.authorization_version_seq'))
                    RETURNING *
                ), state AS (
                    INSERT INTO inbox.authorization_state AS s
                           (seller_id, product_id, status, version, request_id, approved_at, revoked_at, updated_at)
                    SELECT seller_id, product_id, status, version, id, NULL, NULL, created_at FROM req
                    ON CONFLICT (seller_id, product_id) DO UPDATE
                       SET status = EXCLUDED.status, version = EXCLUDED.version, request_id = EXCLUDED.request_id,
                           approved_at = NULL, revoked_at = NULL, updated_at = EXCLUDED.updated_at
                    RETURNING s.version
                )
                SELECT req.id::text AS id, (SELECT count(*) FROM state) AS n FROM req
                """,
                [.text(seller), .text(product), .text(supplier), .text(TestInfrastructure.uniqueID("key"))]
            ).first!.string("id")
        }
        return try writeThrough(requestId: requestId)
    }

    /// Moves the request `from` → `to` (APPROVED, REJECTED, CANCELLED, REVOKED)
    /// with a new version, then writes the state through to Redis.
    @discardableResult
    func transition(_ requestId: String, from: String, to: String) throws -> Transition {
        try admin { connection in
            let rows = try connection.query(
                """
                WITH req AS (
                    UPDATE inbox.authorization_requests r
                       SET status     = $3::text,
                           reason     = CASE WHEN $3::text IN ('REJECTED', 'REVOKED') THEN 'test' ELSE '' END,
                           decided_at = CASE WHEN $2::text = 'REQUESTED' THEN statement_timestamp() ELSE r.decided_at END,
                           decided_by = CASE WHEN $2::text = 'REQUESTED' THEN 'tester' ELSE r.decided_by END,
                           revoked_at = CASE WHEN $3::text = 'REVOKED' THEN statement_timestamp() END,
                           revoked_by = CASE WHEN $3::text = 'REVOKED' THEN 'tester' END,
                           version    = nextval('inbox.authorization_version_seq')
                     WHERE r.id = $1::uuid AND r.status = $2::text
                    RETURNING r.*
                )
                UPDATE inbox.authorization_state s
                   SET status      = req.status,
                       version     = req.version,
                       approved_at = CASE WHEN req.status = 'APPROVED' THEN req.decided_at ELSE s.approved_at END,
                       revoked_at  = req.revoked_at,
                       updated_at  = statement_timestamp()
                  FROM req
                 WHERE s.seller_id = req.seller_id AND s.product_id = req.product_id AND s.request_id = req.id
                """,
                [.text(requestId), .text(from), .text(to)])
            guard rows.affectedRows == 1 else { throw FixtureError("transition \(from) → \(to) of \(requestId) changed nothing") }
        }
        return try writeThrough(requestId: requestId)
    }

    /// Requests and approves the pair.
    @discardableResult
    func approve(_ product: String, seller: String? = nil) throws -> Transition {
        let requested = try request(product, seller: seller)
        return try transition(requested.requestId, from: "REQUESTED", to: "APPROVED")
    }

    /// Puts the pair in `status` (NOT_REQUESTED, REQUESTED, APPROVED, REJECTED, REVOKED, CANCELLED).
    func put(_ product: String, in status: String, seller: String? = nil) throws {
        switch status {
        case "NOT_REQUESTED": return
        case "REQUESTED": try request(product, seller: seller)
        case "APPROVED": try approve(product, seller: seller)
        case "REVOKED": try transition(try approve(product, seller: seller).requestId, from: "APPROVED", to: "REVOKED")
        case "REJECTED", "CANCELLED":
            try transition(try request(product, seller: seller).requestId, from: "REQUESTED", to: status)
        default: throw FixtureError("unknown status \(status)")
        }
    }

    /// Reads the pair's state row and writes it to Redis with InboxService's
    /// own write-through (the compare-and-set, and for a revocation the wait
    /// for every gate's local copy to drop it), as it does after COMMIT.
    private func writeThrough(requestId: String) throws -> Transition {
        let (pair, state) = try admin { connection in
            let row = try connection.query(
                """
                SELECT seller_id, product_id, status, version, inbox.unix_micros(approved_at) AS approved_micros,
                       inbox.unix_micros(revoked_at) AS revoked_micros
                  FROM inbox.authorization_state WHERE request_id = $1::uuid
                """, [.text(requestId)]
            ).first!
            let pair = AuthorizationPair(sellerId: try row.string("seller_id"), productId: try row.string("product_id"))
            return (pair, try PostgresAuthorizationStore.state(from: row, pair: pair))
        }
        let writer = AuthorizationCacheWriter(redis: directRedis, writeTimeout: .seconds(2), confirmationTimeout: .seconds(2))
        let outcome = writer.writeThrough(
            seller: pair.sellerId, product: pair.productId, state: state, ttl: .default, deadline: .after(seconds: 3))
        guard outcome == .applied else { throw FixtureError("the write-through of \(state) ended \(outcome)") }
        return Transition(requestId: requestId, state: state)
    }

    /// The entry Redis holds for the pair, decoded.
    func cachedEntry(_ product: String, seller: String? = nil) throws -> AuthorizationState? {
        let key = AuthorizationPair(sellerId: seller ?? self.seller, productId: product).cacheKey
        let reply = try directRedis.withConnection(deadline: .after(seconds: 2)) { try $0.command(["GET", key], deadline: .after(seconds: 2)) }
        return reply.bytesValue.flatMap { AuthorizationCacheEntry(encodedBytes: $0)?.state }
    }

    /// Milliseconds the pair's entry has left, or nil when there is none.
    func cachedTTL(_ product: String, seller: String? = nil) throws -> Int64? {
        let key = AuthorizationPair(sellerId: seller ?? self.seller, productId: product).cacheKey
        let reply = try directRedis.withConnection(deadline: .after(seconds: 2)) { try $0.command(["PTTL", key], deadline: .after(seconds: 2)) }
        guard let value = reply.integerValue, value >= 0 else { return nil }
        return value
    }

    /// Runs SQL on the fixture's own connection (not the gate's pool, which a test may cut).
    @discardableResult
    func admin<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        adminLock.lock()
        defer { adminLock.unlock() }
        return try body(adminConnection)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Product ids that fall inside or outside a percentage rollout.
enum BucketedProducts {
    /// A product id starting with `prefix` whose unsalted bucket is below
    /// `percentage` (`inside`) or at or above it.
    static func product(_ prefix: String, inside: Bool, of percentage: Int) -> String {
        var counter = 0
        while true {
            let candidate = "\(prefix)-\(counter)"
            if (RolloutBucket.unsalted.bucket(of: candidate) < percentage) == inside { return candidate }
            counter += 1
        }
    }
}
