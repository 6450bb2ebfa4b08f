import Foundation
import GateCore
@testable import GateService
import Proto
import TestSupport
import Testing
import Wire

@Suite struct GateServiceFailureTests {
    @Test func redisCutMidRunIsServedFromPostgresAndRedisReturnsAfterTheBreakerHalfOpens() throws {
        var options = GateFixture.Options()
        options.redisThroughProxy = true
        let fixture = try GateFixture(options)
        let proxy = try #require(fixture.redisProxy)
        let approved = TestInfrastructure.uniqueID("p-ok")
        let never = TestInfrastructure.uniqueID("p-never")
        try fixture.addProduct(approved)
        try fixture.approve(approved)
        let client = fixture.client()
        defer { client.close() }
        #expect(try fixture.check(approved, client: client).tier == .redis)

        proxy.cut()
        for _ in 0..<20 {
            let allowed = try fixture.check(approved, client: client)
            #expect(allowed.allowed && allowed.reason == .approved && allowed.tier == .postgres)
            let denied = try fixture.check(never, client: client)
            #expect(!denied.allowed && denied.reason == .notRequested && denied.tier == .postgres)
        }
        let during = fixture.gate.metrics.snapshot
        #expect(during.fallbacks[.redisUnavailable, default: 0] >= 1)
        #expect(during.fallbacks[.redisBreakerOpen, default: 0] >= 1)
        #expect(fixture.gate.isRedisBreakerOpen)

        proxy.restore()
        let deadline = Date().addingTimeInterval(5)
        var tier = GateV1.Tier.unspecified
        while Date() < deadline {
            let result = try fixture.check(approved, client: client)
            #expect(result.allowed)
            tier = result.tier
            if tier == .redis { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(tier == .redis, "Redis never served again after it came back")
        #expect(!fixture.gate.isRedisBreakerOpen)
    }

    @Test func postgresCutServesCachedAnswersAndDeniesMissesUnavailable() throws {
        var options = GateFixture.Options()
        options.postgresThroughProxy = true
        let fixture = try GateFixture(options)
        let proxy = try #require(fixture.postgresProxy)
        let cached = TestInfrastructure.uniqueID("p-cached")
        let cold = TestInfrastructure.uniqueID("p-cold")
        try fixture.addProduct(cached)
        try fixture.addProduct(cold)
        try fixture.approve(cached)
        try fixture.approve(cold)
        _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: cold).cacheKey]) }
        let client = fixture.client()
        defer { client.close() }

        proxy.cut()
        let hit = try fixture.check(cached, client: client)
        #expect(hit.allowed && hit.reason == .approved && hit.tier == .redis)
        let miss = try fixture.check(cold, client: client)
        #expect(!miss.allowed && miss.reason == .unavailable && miss.evaluatedReason == .unavailable)
        #expect(miss.enforced && miss.tier == GateV1.Tier.none)
        #expect(fixture.gate.metrics.snapshot.fallbacks[.postgresUnavailable, default: 0] >= 1)

        // Shadow observes the failure but never blocks the checkout.
        fixture.gate.update(rollout: RolloutConfig(mode: .shadow), cacheTTL: .default)
        let shadow = try fixture.check(cold, client: client)
        #expect(shadow.allowed && shadow.reason == .shadowWouldDeny && shadow.evaluatedReason == .unavailable)
        fixture.gate.update(rollout: RolloutConfig(mode: .full), cacheTTL: .default)

        proxy.restore()
        let deadline = Date().addingTimeInterval(5)
        var recovered = false
        while Date() < deadline && !recovered {
            recovered = try fixture.check(cold, client: client).allowed
            if !recovered { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(recovered, "PostgreSQL answers did not come back after the cut ended")
    }

    @Test func bothStoresDownFailsClosedButLeavesUnlookedProductsAlone() throws {
        var options = GateFixture.Options()
        options.postgresThroughProxy = true
        options.redisThroughProxy = true
        let percentage = RolloutPercentage(50)!
        options.settings.rollout = RolloutConfig(mode: .percentage(percentage))
        let fixture = try GateFixture(options)
        let inside = BucketedProducts.product("p-in-\(fixture.seller)", inside: true, of: 50)
        let outside = BucketedProducts.product("p-out-\(fixture.seller)", inside: false, of: 50)
        fixture.postgresProxy?.cut()
        fixture.redisProxy?.cut()
        let client = fixture.client()
        defer { client.close() }
        let enforced = try fixture.check(inside, client: client)
        #expect(!enforced.allowed && enforced.reason == .unavailable)
        let bypassed = try fixture.check(outside, client: client)
        #expect(bypassed.allowed && bypassed.reason == .outsideRollout)
    }
}
