import GateCore
@testable import GateService
import Proto
import TestSupport
import Testing
import Wire

@Suite struct GateServiceCheckTests {
    /// The six authorization states and what the rules say about each now.
    static let states: [(status: String, reason: GateV1.Reason)] = [
        ("NOT_REQUESTED", .notRequested), ("REQUESTED", .pending), ("APPROVED", .approved),
        ("REJECTED", .rejected), ("REVOKED", .revoked), ("CANCELLED", .cancelled),
    ]

    @Test func decisionTableOverModesStatesAndStages() throws {
        let fixture = try GateFixture()
        // State products sit inside a 50% rollout and in the canary list; one
        // more product is outside both.
        var products: [String: String] = [:]
        for (status, _) in Self.states {
            let product = BucketedProducts.product("p-\(status.lowercased())-\(fixture.seller)", inside: true, of: 50)
            try fixture.addProduct(product)
            try fixture.put(product, in: status)
            products[status] = product
        }
        let outside = BucketedProducts.product("p-outside-\(fixture.seller)", inside: false, of: 50)
        try fixture.addProduct(outside)
        try fixture.approve(outside)
        let canary = Set(products.values)
        let modes: [RolloutMode] = [.off, .shadow, .canary(canary), .percentage(RolloutPercentage(50)!), .full]
        let client = fixture.client()
        defer { client.close() }

        for mode in modes {
            fixture.gate.update(rollout: RolloutConfig(mode: mode), cacheTTL: .default)
            let wireMode = GateV1.RolloutMode(mode)
            for stage in [GateV1.Stage.cart, .order, .settlement] {
                for (status, rulesReason) in Self.states {
                    let result = try fixture.check(products[status]!, stage: stage, client: client)
                    let approved = status == "APPROVED"
                    let context = "mode \(mode) stage \(stage) state \(status)"
                    #expect(result.mode == wireMode, "\(context)")
                    switch mode {
                    case .off:
                        #expect(result.allowed && result.reason == .featureOff && result.tier == GateV1.Tier.none, "\(context)")
                        #expect(!result.enforced && result.evaluatedReason == .unspecified, "\(context)")
                    case .shadow:
                        #expect(result.allowed, "\(context)")
                        #expect(result.reason == (approved ? .approved : .shadowWouldDeny), "\(context)")
                        #expect(result.evaluatedReason == rulesReason && !result.enforced, "\(context)")
                        #expect(result.tier == .redis || result.tier == .postgres, "\(context)")
                    case .canary, .percentage, .full:
                        #expect(result.allowed == approved, "\(context)")
                        #expect(result.reason == rulesReason && result.evaluatedReason == rulesReason, "\(context)")
                        #expect(result.enforced, "\(context)")
                        #expect(result.tier == .redis || result.tier == .postgres, "\(context)")
                        #expect((result.authorizationVersion == 0) == (status == "NOT_REQUESTED"), "\(context)")
                    }
                }
                let outsideResult = try fixture.check(outside, stage: stage, client: client)
                switch mode {
                case .canary, .percentage:
                    #expect(outsideResult.allowed && outsideResult.reason == .outsideRollout && outsideResult.tier == GateV1.Tier.none)
                case .full:
                    #expect(outsideResult.allowed && outsideResult.reason == .approved && outsideResult.enforced)
                case .off:
                    #expect(outsideResult.reason == .featureOff)
                case .shadow:
                    #expect(outsideResult.allowed && outsideResult.reason == .approved && !outsideResult.enforced)
                }
            }
        }
        let snapshot = fixture.gate.metrics.snapshot
        // Shadow: 5 denying states × 3 stages would-deny, and each was counted.
        #expect(snapshot.shadowWouldDenies == 15)
    }

    @Test func aMissIsReadFromPostgresAndCachedThenServedFromRedis() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        // Forget the write-through so the gate meets a cold key (as after a TTL).
        _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey]) }

        let first = try fixture.check(product)
        #expect(first.allowed && first.tier == .postgres && first.authorizationVersion == approval.state.version)
        #expect(try fixture.cachedEntry(product) == approval.state)
        let second = try fixture.check(product)
        #expect(second.allowed && second.tier == .redis && second.authorizationVersion == approval.state.version)
        let snapshot = fixture.gate.metrics.snapshot
        #expect(snapshot.cacheMisses == 1 && snapshot.cacheHits == 1 && snapshot.checks == 2)
    }

    @Test func denialsAreCachedWithTheShorterTTL() throws {
        let fixture = try GateFixture()
        let denied = TestInfrastructure.uniqueID("p-never")
        let allowed = TestInfrastructure.uniqueID("p-ok")
        try fixture.addProduct(allowed)
        let approval = try fixture.approve(allowed)
        _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: allowed).cacheKey]) }

        #expect(try fixture.check(denied).reason == .notRequested)
        #expect(try fixture.check(allowed).allowed)
        #expect(try fixture.cachedEntry(denied) == .notRequested)
        #expect(try fixture.cachedEntry(allowed) == approval.state)
        let denyTTL = try #require(try fixture.cachedTTL(denied))
        let allowTTL = try #require(try fixture.cachedTTL(allowed))
        #expect(denyTTL <= CacheTTL.default.denyMilliseconds && denyTTL > 0)
        #expect(allowTTL > CacheTTL.default.denyMilliseconds && allowTTL <= CacheTTL.default.allowMilliseconds)
    }

    @Test func checkBatchOfTwentyAnswersEveryItemInOrder() throws {
        let fixture = try GateFixture()
        var items: [GateV1.CheckItem] = []
        var expected: [(allowed: Bool, reason: GateV1.Reason)] = []
        for index in 0..<20 {
            let (status, reason) = Self.states[index % Self.states.count]
            let product = "p-\(index)-\(fixture.seller)"
            try fixture.addProduct(product)
            try fixture.put(product, in: status)
            if index % 3 == 0 {
                // A third of the cart is cold: the batch mixes Redis hits and one PostgreSQL read.
                _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey]) }
            }
            items.append(GateV1.CheckItem(productId: product, stage: index % 2 == 0 ? .cart : .order))
            expected.append((status == "APPROVED", reason))
        }
        let client = fixture.client()
        defer { client.close() }
        let response: GateV1.CheckBatchResponse = try client.call(
            "/gate.v1.GateService/CheckBatch", GateV1.CheckBatchRequest(sellerId: fixture.seller, items: items))
        #expect(response.results.count == 20)
        for (index, result) in response.results.enumerated() {
            #expect(result.allowed == expected[index].allowed && result.reason == expected[index].reason, "item \(index)")
            #expect(result.tier == (index % 3 == 0 ? .postgres : .redis), "item \(index)")
        }
    }

    @Test func batchesReadIdsWithQuotesCommasAndBackslashesExactly() throws {
        let fixture = try GateFixture()
        let odd = ["p,\"quoted\"-\(fixture.seller)", "p\\back{slash}-\(fixture.seller)", "p NULL {} -\(fixture.seller)"]
        for product in odd {
            try fixture.addProduct(product)
            try fixture.approve(product)
            _ = try fixture.directRedis.withConnection { try $0.command(["DEL", AuthorizationPair(sellerId: fixture.seller, productId: product).cacheKey]) }
        }
        let client = fixture.client()
        defer { client.close() }
        let items = (odd + ["p-never-\(fixture.seller)"]).map { GateV1.CheckItem(productId: $0, stage: .order) }
        let response: GateV1.CheckBatchResponse = try client.call(
            "/gate.v1.GateService/CheckBatch", GateV1.CheckBatchRequest(sellerId: fixture.seller, items: items))
        #expect(response.results.map(\.allowed) == [true, true, true, false])
        #expect(response.results.allSatisfy { $0.tier == .postgres })
    }

    @Test func malformedRequestsAreInvalidArgumentNamingTheField() throws {
        let fixture = try GateFixture()
        let client = fixture.client()
        defer { client.close() }
        func code(_ body: () throws -> Void) -> (StatusCode, String)? {
            do { try body() } catch let error as RPCError { return (error.code, error.message) } catch { return nil }
            return nil
        }
        let noStage = code { _ = try fixture.check("p-1", stage: .unspecified, client: client) }
        #expect(noStage?.0 == .invalidArgument && noStage?.1.hasPrefix("stage") == true)
        let orderTimeOnCart = code { _ = try fixture.check("p-1", stage: .cart, orderTime: 5, client: client) }
        #expect(orderTimeOnCart?.0 == .invalidArgument && orderTimeOnCart?.1.hasPrefix("order_time_unix_micros") == true)
        let batchItem = code {
            let _: GateV1.CheckBatchResponse = try client.call(
                "/gate.v1.GateService/CheckBatch",
                GateV1.CheckBatchRequest(sellerId: fixture.seller, items: [
                    GateV1.CheckItem(productId: "p-1", stage: .cart), GateV1.CheckItem(productId: "", stage: .cart),
                ]))
        }
        #expect(batchItem?.0 == .invalidArgument && batchItem?.1.hasPrefix("items[1].product_id") == true)
        let tooMany = code {
            let _: GateV1.CheckBatchResponse = try client.call(
                "/gate.v1.GateService/CheckBatch",
                GateV1.CheckBatchRequest(sellerId: fixture.seller, items: Array(repeating: GateV1.CheckItem(productId: "p", stage: .cart), count: 501)))
        }
        #expect(tooMany?.0 == .invalidArgument && tooMany?.1.hasPrefix("items") == true)
    }

    @Test func checkoutMayCallAndTheSupplierPortalMayNot() throws {
        let fixture = try GateFixture()
        #expect(try fixture.check("p-any").reason == .notRequested)
        let portal = fixture.client(.supplierPortal)
        defer { portal.close() }
        do {
            _ = try fixture.check("p-any", client: portal)
            Issue.record("the supplier portal was allowed to call Check")
        } catch let error as RPCError {
            #expect(error.code == .permissionDenied)
        }
    }
}
