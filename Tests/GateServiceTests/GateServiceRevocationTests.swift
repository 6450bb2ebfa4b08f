import Foundation
import GateCore
@testable import GateService
import Logging
import Proto
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

@Suite struct GateServiceRevocationTests {
    @Test func aCheckRightAfterAnAcknowledgedRevokeIsDenied() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        let client = fixture.client()
        defer { client.close() }
        #expect(try fixture.check(product, client: client).allowed)

        let revoked = try fixture.transition(approval.requestId, from: "APPROVED", to: "REVOKED")
        let result = try fixture.check(product, client: client)
        #expect(!result.allowed && result.reason == .revoked && result.tier == .redis)
        #expect(result.authorizationVersion == revoked.state.version)
    }

    /// With and without the gate's local copy (then every revoke also waits
    /// for the copy's acknowledgement, and checks race its invalidations).
    @Test(arguments: [false, true])
    func staleFillsRacingRevokesNeverLeaveAnAllowBehind(localCopy: Bool) throws {
        let fixture = try GateFixture(localCopy ? GateLocalCacheTests.options() : GateFixture.Options())
        if localCopy { try GateLocalCacheTests.waitUntilCoherent(fixture) }
        let pairCount = 120
        let products = (0..<pairCount).map { "p-race-\($0)-\(fixture.seller)" }
        let approvals = try products.map { product in
            try fixture.addProduct(product)
            return try fixture.approve(product)
        }
        // Cold keys: every checker's first look at a pair misses, reads
        // PostgreSQL and fills, racing the revoke of that pair.
        for product in products {
            _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey]) }
        }

        struct Observation { var pair: Int; var startedNanos: UInt64; var allowed: Bool }
        let acknowledged = Mutex<[Int: UInt64]>([:])
        let observations = Mutex<[Observation]>([])
        let revokesDone = Atomic<Bool>(false)
        let gate = fixture.gate
        let seller = fixture.seller
        let logger = TestInfrastructure.logger("race")
        let cache = RedisAuthorizationCache(pool: fixture.directRedis)

        TestThreads.run(count: 9) { worker in
            if worker == 0 {
                // The inbox: revoke each pair (PostgreSQL, then the write-through), then
                // replay the stale approval as a late gate fill would: it must be refused.
                for index in 0..<pairCount {
                    do {
                        _ = try fixture.transition(approvals[index].requestId, from: "APPROVED", to: "REVOKED")
                        acknowledged.withLock { $0[index] = Deadline.now().uptimeNanoseconds }
                        let stale = AuthorizationCacheFill(
                            key: AuthorizationPair(sellerId: seller, productId: products[index]).cacheKey,
                            state: approvals[index].state, ttlMilliseconds: 60_000)
                        let written = try cache.fill([stale], deadline: .after(seconds: 2))
                        #expect(written == [false], "a stale fill replaced the revocation of pair \(index)")
                    } catch {
                        Issue.record("revoke of pair \(index) failed: \(error)")
                    }
                }
                revokesDone.store(true, ordering: .sequentiallyConsistent)
                return
            }
            var local: [Observation] = []
            var round = 0
            while !revokesDone.load(ordering: .sequentiallyConsistent) || round < 2 {
                for offset in 0..<pairCount {
                    let index = (offset * 7 + worker * 13) % pairCount
                    guard let check = try? GateCheck.validated(sellerId: seller, productId: products[index], stage: .cart, orderTimeMicros: 0) else { continue }
                    let started = Deadline.now().uptimeNanoseconds
                    if let answer = try? gate.check([check], deadline: .after(seconds: 2), logger: logger).first {
                        local.append(Observation(pair: index, startedNanos: started, allowed: answer.decision.allowed))
                    }
                }
                round += 1
            }
            observations.withLock { $0 += local }
        }

        let acks = acknowledged.withLock { $0 }
        let all = observations.withLock { $0 }
        if localCopy {
            #expect(fixture.gate.metrics.snapshot.localHits > 0, "the checks never raced the local copy")
        }
        #expect(acks.count == pairCount)
        let afterAck = all.filter { observation in acks[observation.pair].map { observation.startedNanos > $0 } ?? false }
        #expect(!afterAck.isEmpty)
        let staleAllows = afterAck.filter(\.allowed)
        #expect(staleAllows.isEmpty, "\(staleAllows.count) checks started after an acknowledged revoke answered ALLOW")
        for (index, product) in products.enumerated() {
            let entry = try fixture.cachedEntry(product)
            #expect(entry?.isApproved != true, "Redis holds a stale ALLOW for pair \(index): \(String(describing: entry))")
        }
    }

    @Test func concurrentMissesOfOneColdKeyShareOnePostgresRead() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p-cold")
        try fixture.addProduct(product)
        try fixture.approve(product)
        _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey]) }
        let store = CountingStore(PostgresAuthorizationStore(pool: fixture.postgres), delay: 0.05)
        let gate = AuthorizationGate(
            settings: GateSettings(rollout: RolloutConfig(mode: .full)), store: store,
            cache: RedisAuthorizationCache(pool: fixture.redis), logger: TestInfrastructure.logger("stampede"))
        let allowed = Atomic<Int>(0)
        TestThreads.run(count: 24) { _ in
            guard let check = try? GateCheck.validated(sellerId: fixture.seller, productId: product, stage: .cart, orderTimeMicros: 0) else { return }
            if let answer = try? gate.check([check], deadline: .after(seconds: 5), logger: TestInfrastructure.logger("stampede")).first,
                answer.decision.allowed {
                allowed.add(1, ordering: .relaxed)
            }
        }
        #expect(allowed.load(ordering: .relaxed) == 24)
        // Redis hands out 8 connections, so up to a few callers can miss before
        // the first fill lands; without single-flight all 24 would read.
        #expect(store.reads.load(ordering: .relaxed) <= 3)
    }
}

/// Counts PostgreSQL reads and slows them down, to widen the stampede window.
final class CountingStore: AuthorizationStore {
    let reads = Atomic<Int>(0)
    private let base: PostgresAuthorizationStore
    private let delay: Double

    init(_ base: PostgresAuthorizationStore, delay: Double) {
        self.base = base
        self.delay = delay
    }

    func states(of pairs: [AuthorizationPair], deadline: Deadline) throws -> [AuthorizationState] {
        reads.add(1, ordering: .relaxed)
        Thread.sleep(forTimeInterval: delay)
        return try base.states(of: pairs, deadline: deadline)
    }

    func wasAuthorized(_ pair: AuthorizationPair, atMicros orderTimeMicros: Int64, deadline: Deadline) throws -> Bool {
        try base.wasAuthorized(pair, atMicros: orderTimeMicros, deadline: deadline)
    }
}

@Suite struct RedisAuthorizationCacheTests {
    @Test func theHashTagIsTheTextInsideTheFirstBraces() {
        #expect(RedisAuthorizationCache.hashTag(of: "sa:v1:{seller-1}:p-9") == "seller-1")
        #expect(RedisAuthorizationCache.hashTag(of: "sa:v1:{}:p-9") == "sa:v1:{}:p-9")
        #expect(RedisAuthorizationCache.hashTag(of: "no-tag") == "no-tag")
    }

    @Test func theHashTagFollowsRedisRulesAroundMultiByteTextAndStrayBraces() {
        // Redis hashes bytes: the tag is what lies between the first "{" and the next "}".
        #expect(RedisAuthorizationCache.hashTag(of: "sa:v1:{séllér-☃}:p-9") == "séllér-☃")
        #expect(RedisAuthorizationCache.hashTag(of: "sa:v1:{a}b}:p") == "a")
        #expect(RedisAuthorizationCache.hashTag(of: "é{x") == "é{x")
        #expect(RedisAuthorizationCache.hashTag(of: "{") == "{")
        #expect(RedisAuthorizationCache.hashTag(of: "ü}{ß}") == "ß")
        #expect(RedisAuthorizationCache.hashTag(of: AuthorizationCacheKey.make(seller: "s}%", product: "p")) == "s%7D%25")
    }

    @Test func keysOfSeveralSellersAreReadInOneRoundTripInTheirOrder() throws {
        let fixture = try GateFixture()
        let cache = RedisAuthorizationCache(pool: fixture.directRedis)
        let sellers = (0..<3).map { _ in TestInfrastructure.uniqueID("s") }
        // Interleave sellers so each MGET group is scattered through the request.
        let keys = (0..<9).map {
            AuthorizationCacheKey.make(seller: sellers[$0 % 3], product: TestInfrastructure.uniqueID("p\($0)"))
        }
        let written = keys.enumerated().filter { $0.offset % 2 == 0 }.map { offset, key in
            AuthorizationCacheFill(
                key: key, state: AuthorizationState(version: Int64(offset + 1), status: .rejected), ttlMilliseconds: 60_000)
        }
        #expect(try cache.fill(written, deadline: .after(micros: 2_000_000)).allSatisfy { $0 })
        let read = try cache.entries(forKeys: keys, deadline: .after(micros: 2_000_000))
        #expect(read.count == keys.count)
        for (index, state) in read.enumerated() {
            #expect(state == (index % 2 == 0 ? AuthorizationState(version: Int64(index + 1), status: .rejected) : nil), "key \(index)")
        }
    }
}
