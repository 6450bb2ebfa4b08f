import Catalog
import Foundation
import GateCore
import InboxService
import Logging
import Proto
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

/// One inbox on a fresh database: migrations applied, a small catalog with
/// two suppliers (`a`, `b`), sellers and products whose ids carry a unique
/// prefix (Redis is shared between tests), the application served on an
/// in-process `WireServer`, and clients for each credential.
final class InboxFixture: @unchecked Sendable {
    static let portalSecret = "supplier-portal-test-secret-01"
    static let operatorSecret = "operator-test-secret-00000001"
    static let checkoutSecret = "checkout-test-secret-00000001"

    let prefix = TestInfrastructure.uniqueID("ib")
    let databaseURL: String
    let postgres: PostgresPool
    /// The inbox's Redis pool (possibly through a proxy).
    let redis: RedisPool
    /// A direct Redis connection pool: what a gate sees.
    let gateRedis: RedisPool
    let application: InboxApplication
    let server: WireServer
    let portal: WireClient
    let operatorClient: WireClient
    let checkout: WireClient
    let clock: TestClock
    private let relayStopped = StopFlag()

    /// - Parameters:
    ///   - flags: runtime flag values (ENABLE_SELLER_AUTHORIZATION defaults to true here).
    ///   - redisURL: the inbox's Redis (a proxy's URL to cut it); REDIS_URL by default.
    ///   - sellers/products: catalog size (products per supplier).
    init(
        flags: [String: String] = [:], redisURL: String? = nil, sellers: Int = 4, products: Int = 30,
        configure: (inout InboxApplication.Configuration) -> Void = { _ in }
    ) throws {
        databaseURL = try TestInfrastructure.freshDatabase()
        let logger = TestInfrastructure.logger("inbox-test")
        let migrate = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(5), applicationName: "inbox-test")
        for component in [Catalog.migrations, MigrationComponent.runtimeFlags, InboxApplication.migrations] {
            _ = try Migrator(component: component.name, directory: component.directory, logger: logger).migrateUp(on: migrate)
        }
        var catalog = "INSERT INTO catalog.suppliers (id, name) VALUES ('\(prefix)-sup-a', 'A'), ('\(prefix)-sup-b', 'B');"
        for index in 0..<sellers {
            catalog += "INSERT INTO catalog.sellers (id, name, tier) VALUES ('\(prefix)-sel-\(index)', 'S', 'GOLD');"
        }
        for index in 0..<products {
            catalog += "INSERT INTO catalog.products (id, supplier_id, name) VALUES ('\(prefix)-a-\(index)', '\(prefix)-sup-a', 'P');"
            catalog += "INSERT INTO catalog.products (id, supplier_id, name) VALUES ('\(prefix)-b-\(index)', '\(prefix)-sup-b', 'P');"
        }
        try migrate.simpleQuery(catalog)
        postgres = PostgresPool(configuration: .init(url: databaseURL, size: 60, applicationName: "inbox-test"), logger: logger)
        let inboxRedis = try RedisConnection.Configuration(
            url: redisURL ?? TestInfrastructure.redisURL(), connectTimeout: .milliseconds(500),
            commandTimeout: .milliseconds(250))
        redis = RedisPool(configuration: inboxRedis, size: 8, logger: logger)
        gateRedis = RedisPool(configuration: try TestInfrastructure.redisConfiguration(), size: 4, logger: logger)
        let clock = TestClock()
        self.clock = clock
        var configuration = InboxApplication.Configuration()
        configuration.relayInterval = .milliseconds(100)
        // The machine running the tests is shared and noisy: a write-through
        // that misses the production 100 ms bound falls back to the outbox,
        // which is correct but would make the tests that expect it timing-dependent.
        configuration.writeThroughTimeout = .seconds(2)
        configuration.clock = { clock.now() }
        configure(&configuration)
        var environment = [InboxSettings.Flag.enabled: "true"]
        environment.merge(flags) { $1 }
        application = try InboxApplication(
            configuration: configuration, environment: EnvironmentReader(environment), postgres: postgres,
            redis: redis, logger: logger)
        var serverConfiguration = WireServerConfiguration(port: 0)
        serverConfiguration.host = "127.0.0.1"
        serverConfiguration.workerThreads = 64
        server = WireServer(
            configuration: serverConfiguration, router: application.router,
            credentials: try CredentialStore([
                .supplierPortal: Self.portalSecret, .operator: Self.operatorSecret, .checkout: Self.checkoutSecret,
            ]),
            logger: logger)
        try server.start()
        let address = "127.0.0.1:\(server.port)"
        func client(_ secret: String) -> WireClient {
            var configuration = WireClientConfiguration(addresses: [address], credential: secret)
            configuration.connectionsPerAddress = 4
            configuration.maxAttempts = 1
            return WireClient(configuration: configuration)
        }
        portal = client(Self.portalSecret)
        operatorClient = client(Self.operatorSecret)
        checkout = client(Self.checkoutSecret)
    }

    deinit {
        relayStopped.stop()
        portal.close()
        operatorClient.close()
        checkout.close()
        server.stop()
        postgres.close()
        redis.close()
        gateRedis.close()
        try? TestInfrastructure.dropDatabase(databaseURL)
    }

    // MARK: - Catalog ids

    func seller(_ index: Int) -> String { "\(prefix)-sel-\(index)" }
    var supplierA: String { "\(prefix)-sup-a" }
    var supplierB: String { "\(prefix)-sup-b" }
    func productA(_ index: Int) -> String { "\(prefix)-a-\(index)" }
    func productB(_ index: Int) -> String { "\(prefix)-b-\(index)" }

    // MARK: - Calls

    static let method = "/inbox.v1.InboxService/"

    @discardableResult
    func request(
        _ seller: String, _ product: String, key: String? = nil, note: String = ""
    ) throws(RPCError) -> InboxV1.RequestAuthorizationResponse {
        try portal.call(
            Self.method + "Request",
            InboxV1.RequestAuthorizationRequest(
                sellerId: seller, productId: product, idempotencyKey: key ?? TestInfrastructure.uniqueID("k"), note: note))
    }

    /// A new REQUESTED row; returns it.
    func requested(_ seller: String, _ product: String) throws -> InboxV1.AuthorizationRequest {
        try #require(try request(seller, product).request)
    }

    @discardableResult
    func approve(_ id: String, by supplier: String, reason: String = "") throws(RPCError) -> InboxV1.AuthorizationRequest {
        let response: InboxV1.ApproveAuthorizationResponse = try portal.call(
            Self.method + "Approve", InboxV1.ApproveAuthorizationRequest(id: id, supplierId: supplier, reason: reason))
        return response.request ?? InboxV1.AuthorizationRequest()
    }

    @discardableResult
    func reject(_ id: String, by supplier: String, reason: String = "not a fit") throws(RPCError) -> InboxV1.AuthorizationRequest {
        let response: InboxV1.RejectAuthorizationResponse = try portal.call(
            Self.method + "Reject", InboxV1.RejectAuthorizationRequest(id: id, supplierId: supplier, reason: reason))
        return response.request ?? InboxV1.AuthorizationRequest()
    }

    @discardableResult
    func cancel(_ id: String, by seller: String) throws(RPCError) -> InboxV1.AuthorizationRequest {
        let response: InboxV1.CancelAuthorizationResponse = try portal.call(
            Self.method + "Cancel", InboxV1.CancelAuthorizationRequest(id: id, sellerId: seller))
        return response.request ?? InboxV1.AuthorizationRequest()
    }

    @discardableResult
    func revoke(
        _ id: String, by supplier: String, reason: String = "policy breach", client: WireClient? = nil, operatorId: String = ""
    ) throws(RPCError) -> InboxV1.AuthorizationRequest {
        let response: InboxV1.RevokeAuthorizationResponse = try (client ?? portal).call(
            Self.method + "Revoke",
            InboxV1.RevokeAuthorizationRequest(id: id, supplierId: supplier, reason: reason, operatorId: operatorId))
        return response.request ?? InboxV1.AuthorizationRequest()
    }

    func get(_ id: String, seller: String = "", supplier: String = "") throws(RPCError) -> InboxV1.GetAuthorizationResponse {
        try portal.call(Self.method + "Get", InboxV1.GetAuthorizationRequest(id: id, sellerId: seller, supplierId: supplier))
    }

    func listInbox(
        _ supplier: String, statuses: [InboxV1.AuthorizationStatus] = [], pageSize: Int32 = 0, token: String = ""
    ) throws(RPCError) -> InboxV1.ListInboxResponse {
        try portal.call(
            Self.method + "ListInbox",
            InboxV1.ListInboxRequest(supplierId: supplier, statuses: statuses, pageSize: pageSize, pageToken: token))
    }

    /// The wire error `body` throws; records an issue when it succeeds.
    @discardableResult
    func expectError(
        _ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) -> RPCError? {
        do {
            try body()
            Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
            return nil
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: - SQL and Redis, as a gate would read them

    func scalar(_ sql: String, _ parameters: [PostgresValue?] = []) throws -> Int64 {
        try postgres.withConnection { connection in
            try connection.queryUnprepared(sql, parameters).first?.int64(0) ?? -1
        }
    }

    /// The gate's PostgreSQL read: (status, version) of the pair, nil when never requested.
    func stateRow(seller: String, product: String) throws -> (status: String, version: Int64)? {
        try postgres.withConnection { connection in
            try connection.queryUnprepared(
                "SELECT status, version FROM inbox.authorization_state WHERE seller_id = $1 AND product_id = $2",
                [.text(seller), .text(product)]
            ).first.map { (try $0.string(0), try $0.int64(1)) }
        }
    }

    /// The gate's cache read: GET the key and decode it as the gate does.
    func cachedEntry(seller: String, product: String) throws -> AuthorizationState? {
        let key = AuthorizationCacheKey.make(seller: seller, product: product)
        let reply = try gateRedis.withConnection(deadline: .after(seconds: 2)) { connection in
            try connection.command(["GET", key], deadline: .after(seconds: 2))
        }
        guard let value = reply.stringValue else { return nil }
        return AuthorizationCacheEntry(encoded: value)?.state
    }

    /// Milliseconds the pair's cache entry has left (-2 when absent).
    func cacheTTLMillis(seller: String, product: String) throws -> Int64 {
        let key = AuthorizationCacheKey.make(seller: seller, product: product)
        return try gateRedis.withConnection(deadline: .after(seconds: 2)) { connection in
            try connection.command(["PTTL", key], deadline: .after(seconds: 2)).integerValue ?? -2
        }
    }

    /// Pending outbox rows, after marking those the write-throughs applied
    /// (the relay's first step, which tests not running it do by hand).
    func pendingOutbox() throws -> Int64 {
        try application.relay.flushMarks()
        return try application.store.pendingOutboxCount(deadline: .after(seconds: 2))
    }

    /// Runs the relay's passes every `relay.interval` on a thread of its own
    /// until the fixture goes away. (Not `relay.run()` in a Task: synchronous
    /// tests running in parallel occupy the cooperative pool, and the relay
    /// would wait for a free thread; the pass is the same code.)
    func startRelay() {
        let relay = application.relay
        let stopped = relayStopped
        let interval = UInt32(relay.interval.components.attoseconds / 1_000_000_000_000)
        Thread {
            while !stopped.isStopped {
                _ = try? relay.applyOnce()
                usleep(interval)
            }
        }.start()
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Deadline.after(timeout)
        while !deadline.isExpired {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}

/// A settable "now" for the reject cooldown; follows the wall clock until set.
final class TestClock: Sendable {
    private let fixed = Mutex<Int64?>(nil)

    func now() -> Int64 {
        fixed.withLock { $0 } ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
    }

    func set(_ micros: Int64?) {
        fixed.withLock { $0 = micros }
    }
}

/// Tells a helper thread to end.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isStopped: Bool { flag.load(ordering: .relaxed) }

    func stop() {
        flag.store(true, ordering: .relaxed)
    }
}
