import Foundation
import GateCore
@testable import GateService
import InboxService
import Proto
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

/// The gate's local copy of Redis entries (``LocalAuthorizationCache``)
/// against the real Redis: it answers repeated checks, drops what InboxService
/// revokes before the revoke is acknowledged, and stops answering as soon as
/// it is cut off from the invalidations.
@Suite struct GateLocalCacheTests {
    static func options(redisThroughProxy: Bool = false) -> GateFixture.Options {
        var options = GateFixture.Options()
        options.redisThroughProxy = redisThroughProxy
        options.settings.localCache = GateSettings.LocalCache(capacity: 10_000)
        return options
    }

    /// Waits until the fixture's local copy answers (its listener registered).
    static func waitUntilCoherent(_ fixture: GateFixture, timeout: TimeInterval = 5) throws {
        let cache = try #require(fixture.gate.localCache)
        let deadline = Date().addingTimeInterval(timeout)
        while !cache.isCoherent(now: Deadline.now().uptimeNanoseconds) {
            guard Date() < deadline else { throw FixtureError("the local copy did not become coherent in \(timeout) s") }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// Revokes the pair's state row in PostgreSQL only (the test then writes
    /// it through itself) and returns the state read back.
    static func revokeInPostgresOnly(_ fixture: GateFixture, _ requestId: String, product: String) throws -> AuthorizationState {
        try fixture.admin { connection in
            try connection.query(
                """
                UPDATE inbox.authorization_state SET status = 'REVOKED', revoked_at = statement_timestamp(),
                       version = nextval('inbox.authorization_version_seq')
                 WHERE request_id = $1::uuid
                """, [.text(requestId)])
        }
        return try #require(try PostgresAuthorizationStore(pool: fixture.postgres).states(
            of: [AuthorizationPair(sellerId: fixture.seller, productId: product)], deadline: .after(seconds: 2)).first)
    }

    @Test func aRepeatedCheckIsAnsweredLocallyAndARevokeIsSeenByTheNextCheck() throws {
        let fixture = try GateFixture(Self.options())
        try Self.waitUntilCoherent(fixture)
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        let client = fixture.client()
        defer { client.close() }

        let first = try fixture.check(product, client: client)
        #expect(first.allowed && first.tier == .redis)
        let second = try fixture.check(product, client: client)
        #expect(second.allowed && second.reason == .approved && second.tier == .local)
        #expect(second.authorizationVersion == approval.state.version)
        #expect(fixture.gate.metrics.snapshot.localHits >= 1)

        // The write-through returns only after every live lease acknowledged the invalidation.
        let revoked = try fixture.transition(approval.requestId, from: "APPROVED", to: "REVOKED")
        let after = try fixture.check(product, client: client)
        #expect(!after.allowed && after.reason == .revoked && after.tier == .redis)
        #expect(after.authorizationVersion == revoked.state.version)
        #expect(fixture.gate.metrics.snapshot.localInvalidations >= 1)
        // The denial is then kept locally too.
        let again = try fixture.check(product, client: client)
        #expect(!again.allowed && again.reason == .revoked && again.tier == .local)
    }

    @Test func aRevokeThroughInboxServiceIsNotAcknowledgedBeforeTheGatesDroppedTheirCopies() throws {
        // Two gates (two processes' worth of listeners) hold the ALLOW locally.
        let fixture = try GateFixture(Self.options())
        let otherGate = AuthorizationGate(
            settings: Self.options().settings, store: PostgresAuthorizationStore(pool: fixture.postgres),
            cache: RedisAuthorizationCache(pool: fixture.directRedis),
            localCache: LocalAuthorizationCache(capacity: 100), logger: TestInfrastructure.logger("other-gate"))
        let otherListener = LocalCacheListener(
            cache: try #require(otherGate.localCache), configuration: try TestInfrastructure.redisConfiguration(),
            metrics: otherGate.metrics, logger: TestInfrastructure.logger("other-gate"))
        otherListener.start()
        defer { otherListener.stop() }
        try Self.waitUntilCoherent(fixture)
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        let check = try GateCheck.validated(sellerId: fixture.seller, productId: product, stage: .cart, orderTimeMicros: 0)
        let logger = TestInfrastructure.logger("local")
        let deadline = Date().addingTimeInterval(5)
        var tiers: [AuthorizationGate.Tier] = []
        while Date() < deadline {
            tiers = try [fixture.gate, otherGate].map { try #require($0.check([check], deadline: .after(seconds: 2), logger: logger).first).tier }
            if tiers == [.local, .local] { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(tiers == [.local, .local])

        let writer = AuthorizationCacheWriter(redis: fixture.directRedis, confirmationTimeout: .seconds(2))
        let revoked = try Self.revokeInPostgresOnly(fixture, approval.requestId, product: product)
        #expect(!revoked.isApproved)
        #expect(writer.writeThrough(
            seller: fixture.seller, product: product, state: revoked, ttl: .default, deadline: .after(seconds: 3)) == .applied)
        for gate in [fixture.gate, otherGate] {
            let answer = try #require(try gate.check([check], deadline: .after(seconds: 2), logger: logger).first)
            #expect(!answer.decision.allowed && answer.tier != .local, "a gate answered \(answer) right after the acknowledged revoke")
        }
    }

    @Test func aGateCutOffFromTheInvalidationsStopsAnsweringLocallyAndComesBack() throws {
        let fixture = try GateFixture(Self.options(redisThroughProxy: true))
        let proxy = try #require(fixture.redisProxy)
        try Self.waitUntilCoherent(fixture)
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        try fixture.approve(product)
        let client = fixture.client()
        defer { client.close() }
        _ = try fixture.check(product, client: client)
        #expect(try fixture.check(product, client: client).tier == .local)
        let lapsesBefore = fixture.gate.metrics.snapshot.localLapses

        proxy.cut()
        // The subscription's end is seen at once; a silent cut within one lease.
        let cache = try #require(fixture.gate.localCache)
        let cutAt = Date()
        while cache.isCoherent(now: Deadline.now().uptimeNanoseconds) && Date() < cutAt.addingTimeInterval(2) {
            Thread.sleep(forTimeInterval: 0.005)
        }
        #expect(!cache.isCoherent(now: Deadline.now().uptimeNanoseconds))
        #expect(Date().timeIntervalSince(cutAt) < Double(CacheCoherence.LeaseTiming.default.milliseconds) / 1000)
        let during = try fixture.check(product, client: client)
        #expect(during.allowed && during.tier == .postgres)
        #expect(fixture.gate.metrics.snapshot.localLapses > lapsesBefore)

        proxy.restore()
        try Self.waitUntilCoherent(fixture, timeout: 10)
        let deadline = Date().addingTimeInterval(10)
        var tier = GateV1.Tier.unspecified
        while Date() < deadline && tier != .local {
            tier = try fixture.check(product, client: client).tier
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(tier == .local)
    }

    @Test func aRevokeWaitsOutAGateThatHoldsALeaseButNeverAcknowledges() throws {
        let fixture = try GateFixture()
        let products = (0..<2).map { _ in TestInfrastructure.uniqueID("p") }
        let approvals = try products.map { product in
            try fixture.addProduct(product)
            return try fixture.approve(product)
        }
        // A gate that registered, then hung: its acknowledgement stays behind.
        let silent = TestInfrastructure.uniqueID("silent-gate")
        func register(leaseMilliseconds: Int) throws {
            try fixture.directRedis.withConnection { connection in
                try connection.evaluate(
                    RedisScript(CacheCoherence.registerScript), arguments: [silent, String(leaseMilliseconds)],
                    deadline: .after(seconds: 2)
                ).throwingServerError()
                try connection.command(["HSET", CacheCoherence.acknowledgementsKey, silent, "0"]).throwingServerError()
            }
        }
        defer {
            _ = try? fixture.directRedis.withConnection { connection in
                try connection.evaluate(RedisScript(CacheCoherence.resignScript), arguments: [silent], deadline: .after(seconds: 2))
            }
        }

        // Its lease runs 300 ms more: the revoke is acknowledged once the lease has ended, not before.
        try register(leaseMilliseconds: 300)
        let started = Date()
        try fixture.transition(approvals[0].requestId, from: "APPROVED", to: "REVOKED")
        #expect(Date().timeIntervalSince(started) >= 0.1)
        let leases = try fixture.directRedis.withConnection { try $0.command(["HEXISTS", CacheCoherence.leasesKey, silent]) }
        #expect(leases == .integer(0), "the pending check removes an ended lease")

        // A bound shorter than its lease: the revoke is reported unconfirmed.
        try register(leaseMilliseconds: 5_000)
        let state = try Self.revokeInPostgresOnly(fixture, approvals[1].requestId, product: products[1])
        let writer = AuthorizationCacheWriter(redis: fixture.directRedis, confirmationTimeout: .milliseconds(50))
        let outcome = writer.writeThrough(
            seller: fixture.seller, product: products[1], state: state, ttl: .default, deadline: .after(seconds: 2))
        #expect(outcome == .unconfirmed)
        #expect(try fixture.cachedEntry(products[1]) == state)
        // Redis already holds the revocation (the relay or a gate fill wrote it
        // first): the write-through writes nothing but still waits.
        #expect(try writer.write(seller: fixture.seller, product: products[1], state: state, ttl: .default, deadline: .after(seconds: 2)).written == false)
        #expect(writer.writeThrough(
            seller: fixture.seller, product: products[1], state: state, ttl: .default, deadline: .after(seconds: 2)) == .unconfirmed)
    }

    @Test func aLocalCopyNeverOutlivesTheRedisEntryItCopied() throws {
        let fixture = try GateFixture(Self.options())
        try Self.waitUntilCoherent(fixture)
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        try fixture.approve(product)
        let key = AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey
        try fixture.directRedis.withConnection { try $0.command(["PEXPIRE", key, "400"]).throwingServerError() }
        let client = fixture.client()
        defer { client.close() }
        _ = try fixture.check(product, client: client)
        #expect(try fixture.check(product, client: client).tier == .local)
        Thread.sleep(forTimeInterval: 0.5)
        // The entry expired in Redis (no invalidation is published for that):
        // the copy expired with it, so PostgreSQL answers and fills again.
        #expect(try fixture.check(product, client: client).tier == .postgres)
    }
}

@Suite struct GateLocalCacheSettingsTests {
    @Test func theLocalCopyIsOnByDefaultWithTwentyThousandEntriesAndA500MillisecondLease() throws {
        let settings = try GateSettings.fromEnvironment(EnvironmentReader([:]))
        let local = try #require(settings.localCache)
        #expect(local.capacity == 20_000)
        #expect(local.timing == .default)
    }

    @Test func theLocalCopyCanBeTurnedOffAndSized() throws {
        #expect(try GateSettings.fromEnvironment(EnvironmentReader(["SELLER_AUTH_LOCAL_CACHE": "false"])).localCache == nil)
        let sized = try GateSettings.fromEnvironment(EnvironmentReader([
            "SELLER_AUTH_LOCAL_CACHE_ENTRIES": "5000", "SELLER_AUTH_LOCAL_CACHE_LEASE_MS": "1000",
        ]))
        #expect(sized.localCache?.capacity == 5000)
        #expect(sized.localCache?.timing.milliseconds == 1000 && sized.localCache?.timing.renewEveryMilliseconds == 200)
    }

    @Test(arguments: [
        ("SELLER_AUTH_LOCAL_CACHE", "maybe"), ("SELLER_AUTH_LOCAL_CACHE_ENTRIES", "0"),
        ("SELLER_AUTH_LOCAL_CACHE_LEASE_MS", "10"), ("SELLER_AUTH_LOCAL_CACHE_LEASE_MS", "soon"),
    ])
    func aBadValueStopsTheStartNamingTheVariable(_ name: String, _ value: String) {
        #expect {
            _ = try GateSettings.fromEnvironment(EnvironmentReader([name: value]))
        } throws: { error in
            (error as? ConfigurationError)?.variable == name
        }
    }
}

/// The coherence scripts against Redis, in a database of their own (the
/// other suites' gates hold leases in database 0 meanwhile).
@Suite(.serialized) struct CacheCoherenceScriptTests {
    static func connect() throws -> RedisConnection {
        var configuration = try TestInfrastructure.redisConfiguration()
        configuration.database = 9
        let connection = try RedisConnection(configuration: configuration, deadline: .after(seconds: 2))
        try connection.command(["DEL", CacheCoherence.sequenceKey, CacheCoherence.leasesKey, CacheCoherence.acknowledgementsKey])
            .throwingServerError()
        return connection
    }

    static func run(_ connection: RedisConnection, _ source: String, _ arguments: [String]) throws -> Int64? {
        try connection.evaluate(RedisScript(source), arguments: arguments, deadline: .after(seconds: 2)).throwingServerError().integerValue
    }

    static func pending(_ connection: RedisConnection, _ sequence: Int64) throws -> Int64? {
        try run(connection, CacheCoherence.pendingScript, [String(sequence)])
    }

    @Test func registeringAcknowledgesWhatWasPublishedAndAGateBehindIsPending() throws {
        let redis = try Self.connect()
        try redis.command(["SET", CacheCoherence.sequenceKey, "41"]).throwingServerError()
        #expect(try Self.run(redis, CacheCoherence.registerScript, ["g1", "500"]) == 41)
        #expect(try Self.pending(redis, 41) == 0)
        #expect(try Self.pending(redis, 42) == 1)
        #expect(try Self.run(redis, CacheCoherence.renewScript, ["g1", "500", "42"]) == 0, "an acknowledgement above the sequence")
        try redis.command(["SET", CacheCoherence.sequenceKey, "42"]).throwingServerError()
        #expect(try Self.run(redis, CacheCoherence.renewScript, ["g1", "500", "42"]) == 1)
        #expect(try Self.pending(redis, 42) == 0)
    }

    @Test func anAcknowledgementAboveARestartedSequenceCountsAsMissing() throws {
        let redis = try Self.connect()
        try redis.command(["SET", CacheCoherence.sequenceKey, "1000"]).throwingServerError()
        #expect(try Self.run(redis, CacheCoherence.registerScript, ["g1", "500"]) == 1000)
        // The key is lost and restarts: the next write publishes 1.
        try redis.command(["DEL", CacheCoherence.sequenceKey]).throwingServerError()
        try redis.command(["INCR", CacheCoherence.sequenceKey]).throwingServerError()
        #expect(try Self.pending(redis, 1) == 1)
        // The gate's next renewal is refused; it registers again, acknowledging 1.
        #expect(try Self.run(redis, CacheCoherence.renewScript, ["g1", "500", "1000"]) == 0)
        #expect(try Self.run(redis, CacheCoherence.registerScript, ["g1", "500"]) == 1)
        #expect(try Self.pending(redis, 1) == 0)
    }

    @Test func anEndedLeaseCountsForItsGraceThenIsRemoved() throws {
        let redis = try Self.connect()
        #expect(try Self.run(redis, CacheCoherence.registerScript, ["g1", "1"]) == 0)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try Self.run(redis, CacheCoherence.renewScript, ["g1", "500", "0"]) == 0, "an ended lease is not revived")
        #expect(try Self.pending(redis, 1) == 1, "within the grace the lease still counts")
        Thread.sleep(forTimeInterval: Double(CacheCoherence.leaseGraceMilliseconds) / 1000 + 0.05)
        #expect(try Self.pending(redis, 1) == 0)
        #expect(try redis.command(["HLEN", CacheCoherence.leasesKey]) == .integer(0))
        #expect(try redis.command(["HLEN", CacheCoherence.acknowledgementsKey]) == .integer(0))
    }

    @Test func theCompareAndSetReportsTheSequenceAlsoWhenItKeepsTheEntry() throws {
        // In database 0: a publish reaches every subscribed gate whatever the
        // database, and a sequence below theirs would make them lapse.
        let redis = try RedisConnection(configuration: try TestInfrastructure.redisConfiguration(), deadline: .after(seconds: 2))
        let key = AuthorizationCacheKey.make(seller: TestInfrastructure.uniqueID("s"), product: "p")
        let state = AuthorizationState(version: 7, status: .rejected)
        let arguments = [String(state.version), AuthorizationCacheEntry(state: state).encoded, "60000"]
        let script = RedisScript(AuthorizationCacheScript.compareAndSet)
        let first = try #require(try redis.evaluate(script, keys: [key], arguments: arguments, deadline: .after(seconds: 2)).arrayValue)
        #expect(first.first == .integer(1))
        let published = try #require(first.last?.integerValue)
        let again = try #require(try redis.evaluate(script, keys: [key], arguments: arguments, deadline: .after(seconds: 2)).arrayValue)
        #expect(again.first == .integer(0))
        #expect(try #require(again.last?.integerValue) >= published)
        try redis.command(["DEL", key])
    }
}

/// The listener against Redis on a channel and database of its own, so that
/// what it is fed never reaches the other suites' gates.
@Suite struct LocalCacheListenerTests {
    @Test func aSequenceThatGoesBackEmptiesTheCopyAndTheListenerRegistersAgain() throws {
        var configuration = try TestInfrastructure.redisConfiguration()
        configuration.database = 10
        let channel = TestInfrastructure.uniqueID("invalidations-test")
        // The sequence stands at 100 in this database: renewals succeed, so
        // only the messages' own order can make the listener lapse.
        let setup = try RedisConnection(configuration: configuration, deadline: .after(seconds: 2))
        try setup.command(["SET", CacheCoherence.sequenceKey, "100"]).throwingServerError()
        let cache = LocalAuthorizationCache(capacity: 100)
        let metrics = GateMetrics()
        let listener = LocalCacheListener(
            cache: cache, configuration: configuration, timing: .default, gateID: TestInfrastructure.uniqueID("g"),
            channel: channel, metrics: metrics, logger: TestInfrastructure.logger("listener"))
        listener.start()
        defer { listener.stop() }
        func waitUntil(_ what: String, _ condition: () -> Bool) throws {
            let deadline = Date().addingTimeInterval(5)
            while !condition() {
                guard Date() < deadline else { throw FixtureError("timed out waiting until \(what)") }
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        try waitUntil("coherent") { cache.isCoherent(now: Deadline.now().uptimeNanoseconds) }
        let state = AuthorizationState(version: 3, status: .approved(sinceMicros: 1))
        func fill(_ key: String) throws {
            let ticket = try #require(cache.lookUp([key], now: Deadline.now().uptimeNanoseconds).ticket)
            #expect(cache.store([.init(key: key, state: state, ttlMilliseconds: 60_000)], ticket: ticket, now: Deadline.now().uptimeNanoseconds) == 1)
        }
        let publisher = try RedisConnection(configuration: configuration, deadline: .after(seconds: 2))
        try fill("k1")
        try fill("k2")
        // In order: k1 is dropped, k2 stays.
        try publisher.command(["PUBLISH", channel, "5 k1"]).throwingServerError()
        try waitUntil("k1 dropped") { cache.lookUp(["k1"], now: Deadline.now().uptimeNanoseconds).states == [nil] }
        #expect(cache.lookUp(["k2"], now: Deadline.now().uptimeNanoseconds).states == [state])
        Thread.sleep(forTimeInterval: 0.3)  // a few renewals
        #expect(metrics.snapshot.localLapses == 0)
        #expect(cache.lookUp(["k2"], now: Deadline.now().uptimeNanoseconds).states == [state])
        // Back to 3: the sequence restarted, so everything goes, k2 included.
        try publisher.command(["PUBLISH", channel, "3 k3"]).throwingServerError()
        try waitUntil("a lapse") { metrics.snapshot.localLapses == 1 }
        try waitUntil("coherent again") { cache.isCoherent(now: Deadline.now().uptimeNanoseconds) }
        #expect(cache.lookUp(["k2"], now: Deadline.now().uptimeNanoseconds).states == [nil])
    }
}
