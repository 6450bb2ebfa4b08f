import Foundation
import GateCore
import InboxService
import Proto
import Storage
import TestSupport
import Testing
import Wire

@Suite("Write-through to the gate's cache and the outbox")
struct InboxCacheTests {
    @Test("a revoke followed at once by a gate-style lookup sees DENY in Redis and in PostgreSQL")
    func revokeThenLookup() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        let approved = try inbox.approve(row.id, by: inbox.supplierA)
        let cachedApproval = try #require(try inbox.cachedEntry(seller: seller, product: product))
        #expect(cachedApproval.isApproved)
        #expect(cachedApproval.version == approved.version)

        let revoked = try inbox.revoke(row.id, by: inbox.supplierA)
        let cached = try #require(try inbox.cachedEntry(seller: seller, product: product))
        #expect(cached.version == revoked.version)
        #expect(cached.isApproved == false)
        #expect(cached.status == .revoked(approvedAtMicros: revoked.decidedAtUnixMicros, revokedAtMicros: revoked.revokedAtUnixMicros))
        let state = try #require(try inbox.stateRow(seller: seller, product: product))
        #expect(state.status == "REVOKED")
        #expect(state.version == revoked.version)
        #expect(try inbox.pendingOutbox() == 0)
        // Deny entries live the shorter TTL.
        #expect(try inbox.cacheTTLMillis(seller: seller, product: product) <= 10_000)
    }

    @Test("a gate fill from an older read cannot overwrite the inbox's newer decision")
    func olderFillRefused() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        let approved = try inbox.approve(row.id, by: inbox.supplierA)
        let revoked = try inbox.revoke(row.id, by: inbox.supplierA)
        // A gate that read PostgreSQL before the revoke now tries to fill APPROVED.
        let stale = AuthorizationState(version: approved.version, status: .approved(sinceMicros: approved.decidedAtUnixMicros))
        let writer = AuthorizationCacheWriter(redis: inbox.gateRedis)
        try writer.write(seller: seller, product: product, state: stale, ttl: .default, deadline: .after(seconds: 2))
        let cached = try #require(try inbox.cachedEntry(seller: seller, product: product))
        #expect(cached.version == revoked.version)
        #expect(cached.isApproved == false)
    }

    @Test("Redis cut during Approve and Revoke: the calls succeed, rows stay pending, the relay applies them on restore")
    func redisOutage() throws {
        let redisPort = try #require(URLComponents(string: try TestInfrastructure.redisURL())?.port)
        let proxy = try TCPProxy(targetPort: redisPort)
        defer { proxy.stop() }
        let inbox = try InboxFixture(redisURL: proxy.url(replacingPortOf: try TestInfrastructure.redisURL()))
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        #expect(try inbox.cachedEntry(seller: seller, product: product)?.version == row.version)

        proxy.cut()
        let approved = try inbox.approve(row.id, by: inbox.supplierA)
        #expect(approved.status == .approved)
        #expect(try inbox.pendingOutbox() == 1)
        // The gate still sees the older entry: the inbox could not write.
        #expect(try inbox.cachedEntry(seller: seller, product: product)?.version == row.version)
        let revoked = try inbox.revoke(row.id, by: inbox.supplierA)
        #expect(revoked.status == .revoked)
        #expect(try inbox.pendingOutbox() == 2)
        // The relay cannot apply anything while Redis is away.
        #expect(try inbox.application.relay.applyOnce() == 0)
        #expect(try inbox.pendingOutbox() == 2)

        proxy.restore()
        inbox.startRelay()
        let caughtUp = try inbox.eventually {
            try inbox.pendingOutbox() == 0 && inbox.cachedEntry(seller: seller, product: product)?.version == revoked.version
        }
        #expect(caughtUp)
        let cached = try #require(try inbox.cachedEntry(seller: seller, product: product))
        #expect(cached.isApproved == false)
        #expect(cached.version == revoked.version)
    }

    @Test("staleness bound: with the inbox cut from Redis, a stale ALLOW lives at most until its TTL ends")
    func stalenessBoundedByTTL() throws {
        let redisPort = try #require(URLComponents(string: try TestInfrastructure.redisURL())?.port)
        let proxy = try TCPProxy(targetPort: redisPort)
        defer { proxy.stop() }
        let inbox = try InboxFixture(
            flags: ["SELLER_AUTH_CACHE_TTL_SECONDS": "2", "SELLER_AUTH_CACHE_DENY_TTL_SECONDS": "1"],
            redisURL: proxy.url(replacingPortOf: try TestInfrastructure.redisURL()))
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        let approved = try inbox.approve(row.id, by: inbox.supplierA)
        #expect(try inbox.cachedEntry(seller: seller, product: product)?.version == approved.version)

        proxy.cut()
        let revoked = try inbox.revoke(row.id, by: inbox.supplierA)
        let approvedAt = Deadline.now()
        // Stale, but bounded: the entry expires within the allow TTL (2 s) of its write.
        #expect(try inbox.cachedEntry(seller: seller, product: product)?.isApproved == true)
        #expect(try inbox.cacheTTLMillis(seller: seller, product: product) <= 2_000)
        let expired = try inbox.eventually(timeout: .seconds(3)) {
            try inbox.cachedEntry(seller: seller, product: product) == nil
        }
        #expect(expired)
        #expect(Deadline.now().uptimeNanoseconds - approvedAt.uptimeNanoseconds <= 2_500_000_000)
        // A gate that misses reads PostgreSQL, which already says REVOKED.
        #expect(try inbox.stateRow(seller: seller, product: product)?.status == "REVOKED")
        #expect(try inbox.pendingOutbox() == 1)

        proxy.restore()
        #expect(try inbox.application.relay.applyOnce() == 1)
        #expect(try inbox.cachedEntry(seller: seller, product: product)?.version == revoked.version)
    }

    @Test("the relay's service loop applies rows left pending and ends when its task is cancelled")
    func relayServiceLoop() async throws {
        let redisPort = try #require(URLComponents(string: try TestInfrastructure.redisURL())?.port)
        let proxy = try TCPProxy(targetPort: redisPort)
        defer { proxy.stop() }
        let inbox = try InboxFixture(redisURL: proxy.url(replacingPortOf: try TestInfrastructure.redisURL()))
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        proxy.cut()
        let approved = try inbox.approve(row.id, by: inbox.supplierA)
        #expect(try inbox.pendingOutbox() == 1)
        proxy.restore()
        let relay = inbox.application.relay
        let loop = Task.detached { try await relay.run() }
        // Generous: parallel synchronous tests may hold the cooperative pool for a while.
        var applied = false
        for _ in 0..<300 where !applied {
            try await Task.sleep(for: .milliseconds(100))
            applied = try inbox.cachedEntry(seller: seller, product: product)?.version == approved.version
        }
        loop.cancel()
        try await loop.value
        #expect(applied)
        #expect(try inbox.pendingOutbox() == 0)
    }
}
