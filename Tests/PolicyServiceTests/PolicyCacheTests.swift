@testable import PolicyService
import PolicyCore
import Proto
import Testing
import Wire

/// Policies are cached between calls and revalidated against
/// `policy.change_counter` by every call: an edit, through the admin RPCs or
/// straight in SQL, is seen by the very next call.
@Suite struct PolicyCacheTests {
    typealias F = PolicyServiceFixture

    /// A DEFAULT 10 % and a 15 % supplier policy linked to `sup-a`; one call
    /// has run, so the cache is warm.
    private func warmFixture() throws -> (PolicyServiceFixture, supplierPolicy: PolicyV1.Policy) {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-a", products: ["prod-a"])
        try fixture.catalog(supplier: "sup-b", products: ["prod-b"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let supplier = try fixture.create(F.percentage("SUPPLIER-A", .supplier, ppm: 150_000))
        try fixture.link(.supplier, "sup-a", to: supplier)
        #expect(try fixture.resolve(F.item("warm-up", product: "prod-a")).commissionAmount == 1_500)
        return (fixture, supplier)
    }

    private func counter(_ fixture: PolicyServiceFixture) throws -> Int64 {
        try fixture.count("SELECT value FROM policy.change_counter")
    }

    @Test func anAdminEditIsSeenByTheNextCall() throws {
        let (fixture, supplier) = try warmFixture()
        let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", PolicyV1.UpdatePolicyRequest(
            policyId: supplier.id, expectedVersion: supplier.version,
            terms: F.percentage("SUPPLIER-A", .supplier, ppm: 200_000), operatorId: "ops-alice"
        ))
        let single = try fixture.resolve(F.item("oi-1", product: "prod-a"))
        #expect(single.commissionAmount == 2_000)
        #expect(single.appliedPolicy?.version == supplier.version + 1)
        let batch = try fixture.resolveBatch([F.item("oi-2", product: "prod-a"), F.item("oi-3", product: "prod-b")])
        #expect(batch.map { $0.resolution?.commissionAmount } == [2_000, 1_000])
    }

    @Test func deactivatingAndLinkingAreSeenByTheNextCall() throws {
        let (fixture, supplier) = try warmFixture()
        let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "SetPolicyStatus", PolicyV1.SetPolicyStatusRequest(
            policyId: supplier.id, expectedVersion: supplier.version, status: .inactive, operatorId: "ops-alice"
        ))
        #expect(try fixture.resolve(F.item("oi-1", product: "prod-a")).level == .default)
        let other = try fixture.create(F.percentage("SUPPLIER-B", .supplier, ppm: 50_000))
        try fixture.link(.supplier, "sup-b", to: other)
        let resolution = try fixture.resolve(F.item("oi-2", product: "prod-b"))
        #expect(resolution.level == .supplier)
        #expect(resolution.commissionAmount == 500)
    }

    @Test func anEditMadeStraightInSQLIsSeenByTheNextCall() throws {
        let (fixture, supplier) = try warmFixture()
        try fixture.sql("UPDATE policy.policies SET rate_ppm = 300000, version = version + 1 WHERE id = $1::uuid", [.text(supplier.id)])
        #expect(try fixture.resolve(F.item("oi-1", product: "prod-a")).commissionAmount == 3_000)
        try fixture.sql("DELETE FROM policy.policy_links WHERE scope_kind = 'SUPPLIER' AND scope_id = 'sup-a'")
        #expect(try fixture.resolve(F.item("oi-2", product: "prod-a")).level == .default)
    }

    @Test func everyWriteToPoliciesOrLinksMovesTheCounterAndReadsDoNot() throws {
        let (fixture, supplier) = try warmFixture()
        let start = try counter(fixture)
        _ = try fixture.resolveBatch([F.item("oi-1", product: "prod-a")])
        #expect(try counter(fixture) == start)
        try fixture.link(.supplier, "sup-b", to: supplier)
        let afterLink = try counter(fixture)
        #expect(afterLink > start)
        try fixture.sql("UPDATE policy.policies SET updated_by = 'someone' WHERE id = $1::uuid", [.text(supplier.id)])
        #expect(try counter(fixture) > afterLink)
    }

    @Test func aRefusedAdminWriteLeavesTheCounterAlone() throws {
        let (fixture, _) = try warmFixture()
        let start = try counter(fixture)
        let duplicate = rpcError { try fixture.create(F.percentage("SUPPLIER-A", .supplier, ppm: 1)) }
        #expect(duplicate?.code == .alreadyExists)
        #expect(try counter(fixture) == start)
    }

    @Test func theCacheAnswersOnlyForTheCounterItWasLoadedUnder() throws {
        let cache = PolicyCache()
        #expect(cache.policies(at: 1) == nil)
        let policy = try Policy(id: "def", code: "DEF", kind: .default, commission: .percentage(CommissionRate(ppm: 1)),
                                currency: nil, status: .active, version: 1)
        cache.store(PolicyCache.Entry(changeCounter: 5, policies: try PolicySet(policies: [policy], links: [PolicyLink]())))
        #expect(cache.policies(at: 5)?.policyCount == 1)
        #expect(cache.policies(at: 4) == nil)
        #expect(cache.policies(at: 6) == nil)
        // A slower call that loaded under an older counter does not replace a newer set.
        cache.store(PolicyCache.Entry(changeCounter: 3, policies: .empty))
        #expect(cache.policies(at: 5)?.policyCount == 1)
        cache.store(PolicyCache.Entry(changeCounter: 7, policies: .empty))
        #expect(cache.policies(at: 7)?.policyCount == 0)
        #expect(cache.policies(at: 5) == nil)
    }
}
