import Proto
import Testing
import Wire

/// The operator's admin methods: validation naming fields, overlaps, versions, audit.
@Suite struct PolicyAdminTests {
    typealias F = PolicyServiceFixture

    @Test func invalidTermsAreRefusedNamingTheField() throws {
        let fixture = try PolicyServiceFixture()
        let minAboveMax = rpcError { try fixture.create(F.percentage("BAD-CAPS", .default, ppm: 100_000, currency: "USD", min: 500, max: 400)) }
        #expect(minAboveMax?.code == .invalidArgument)
        #expect(minAboveMax?.message.hasPrefix("min_commission") == true)
        let unknownCurrency = rpcError { try fixture.create(F.fixed("BAD-CURRENCY", .default, amount: 100, currency: "ABC")) }
        #expect(unknownCurrency?.code == .invalidArgument)
        #expect(unknownCurrency?.message.hasPrefix("currency") == true)
        let negativeRate = rpcError { try fixture.create(F.percentage("BAD-RATE", .default, ppm: -1)) }
        #expect(negativeRate?.code == .invalidArgument)
        #expect(negativeRate?.message.hasPrefix("rate_ppm") == true)
        let badWindow = rpcError { try fixture.create(F.percentage("BAD-WINDOW", .default, ppm: 1, from: F.day0, until: F.day0)) }
        #expect(badWindow?.message.hasPrefix("valid_until_unix_micros") == true)
        let noKind = rpcError { try fixture.create(F.percentage("NO-KIND", .unspecified, ppm: 1)) }
        #expect(noKind?.message.hasPrefix("kind") == true)
        let noStatus = rpcError { try fixture.create(F.percentage("NO-STATUS", .default, ppm: 1), status: .unspecified) }
        #expect(noStatus?.message.hasPrefix("status") == true)
        #expect(try fixture.count("SELECT count(*) FROM policy.policies") == 0)
    }

    @Test func twoOverlappingActiveDefaultPoliciesAreRefused() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000, from: F.day0, until: F.day0 + 365 * F.day))
        let overlap = rpcError { try fixture.create(F.percentage("DEFAULT-OVERLAP", .default, ppm: 120_000, from: F.day0 + F.day)) }
        #expect(overlap?.code == .failedPrecondition)
        #expect(overlap?.message.contains("DEFAULT-2025") == true)
        // Touching windows are fine, and an inactive overlapping one may be stored...
        try fixture.create(F.percentage("DEFAULT-2026", .default, ppm: 110_000, from: F.day0 + 365 * F.day))
        let dormant = try fixture.create(F.percentage("DEFAULT-DORMANT", .default, ppm: 90_000), status: .inactive)
        // ...but not activated while it overlaps.
        let activate = rpcError {
            let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "SetPolicyStatus", PolicyV1.SetPolicyStatusRequest(
                policyId: dormant.id, expectedVersion: 1, status: .active, operatorId: "ops-alice"
            ))
        }
        #expect(activate?.code == .failedPrecondition)
    }

    @Test func staleExpectedVersionIsAborted() throws {
        let fixture = try PolicyServiceFixture()
        let policy = try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let update = PolicyV1.UpdatePolicyRequest(
            policyId: policy.id, expectedVersion: 1, terms: F.percentage("DEFAULT-2025", .default, ppm: 110_000), operatorId: "ops-alice"
        )
        let updated: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", update)
        #expect(updated.policy?.version == 2)
        #expect(updated.policy?.terms?.ratePpm == 110_000)
        let stale = rpcError { let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", update) }
        #expect(stale?.code == .aborted)
        #expect(stale?.message.hasSuffix("current_version=2") == true)
        let kindChange = PolicyV1.UpdatePolicyRequest(
            policyId: policy.id, expectedVersion: 2, terms: F.percentage("DEFAULT-2025", .product, ppm: 1), operatorId: "ops-alice"
        )
        let kindError = rpcError { let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", kindChange) }
        #expect(kindError?.code == .failedPrecondition)
    }

    @Test func duplicateCodeAlreadyExists() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.create(F.percentage("PRODUCT-A", .product, ppm: 1))
        let duplicate = rpcError { try fixture.create(F.percentage("PRODUCT-A", .product, ppm: 2)) }
        #expect(duplicate?.code == .alreadyExists)
        #expect(duplicate?.message.hasPrefix("code") == true)
    }

    @Test func linksAreCheckedAgainstCatalogKindAndOverlap() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        let thisYear = try fixture.create(F.percentage("PRODUCT-2025", .product, ppm: 1, from: F.day0, until: F.day0 + 365 * F.day))
        let overlapping = try fixture.create(F.percentage("PRODUCT-OVERLAP", .product, ppm: 2, from: F.day0 + 10 * F.day))
        let nextYear = try fixture.create(F.percentage("PRODUCT-2026", .product, ppm: 3, from: F.day0 + 365 * F.day))
        let supplier = try fixture.create(F.percentage("SUPPLIER-X", .supplier, ppm: 4))
        #expect(try fixture.link(.product, "prod-x", to: thisYear)?.scopeId == "prod-x")
        let overlap = rpcError { try fixture.link(.product, "prod-x", to: overlapping) }
        #expect(overlap?.code == .failedPrecondition)
        #expect(overlap?.message.contains("PRODUCT-2025") == true)
        try fixture.link(.product, "prod-x", to: nextYear)
        #expect(rpcError { try fixture.link(.product, "prod-x", to: thisYear) }?.code == .alreadyExists)
        #expect(rpcError { try fixture.link(.product, "prod-missing", to: overlapping) }?.code == .notFound)
        #expect(rpcError { try fixture.link(.product, "prod-x", to: supplier) }?.code == .failedPrecondition)
        let cycleOnProduct = rpcError { try fixture.link(.product, "prod-x", to: overlapping, cycleDays: 30) }
        #expect(cycleOnProduct?.message.hasPrefix("settlement_cycle_days") == true)
        // Widening a linked policy's window into its neighbour's is refused too.
        let widen = rpcError {
            let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", PolicyV1.UpdatePolicyRequest(
                policyId: thisYear.id, expectedVersion: 1,
                terms: F.percentage("PRODUCT-2025", .product, ppm: 1, from: F.day0), operatorId: "ops-alice"
            ))
        }
        #expect(widen?.code == .failedPrecondition)
        #expect(widen?.message.contains("PRODUCT-2026") == true)
    }

    @Test func getPolicyShowsLinksAndHistoryOldestFirst() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        let policy = try fixture.create(F.percentage("SUPPLIER-X", .supplier, ppm: 150_000))
        try fixture.link(.supplier, "sup-x", to: policy, cycleDays: 14)
        let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "SetPolicyStatus", PolicyV1.SetPolicyStatusRequest(
            policyId: policy.id, expectedVersion: 1, status: .inactive, operatorId: "ops-bob", reason: "supplier paused"
        ))
        let unlinked: PolicyV1.UnlinkPolicyResponse = try fixture.call(fixture.operatorClient, "UnlinkPolicy", PolicyV1.UnlinkPolicyRequest(
            scopeKind: .supplier, scopeId: "sup-x", policyId: policy.id, operatorId: "ops-bob"
        ))
        #expect(unlinked.removed)
        try fixture.link(.supplier, "sup-x", to: policy, cycleDays: 14)
        let response: PolicyV1.GetPolicyResponse = try fixture.call(fixture.operatorClient, "GetPolicy", PolicyV1.GetPolicyRequest(code: "SUPPLIER-X"))
        #expect(response.policy?.version == 2)
        #expect(response.policy?.status == .inactive)
        #expect(response.policy?.createdBy == "ops-alice")
        #expect(response.policy?.updatedBy == "ops-bob")
        #expect(response.links.map(\.scopeId) == ["sup-x"])
        #expect(response.links.first?.settlementCycleDays == 14)
        #expect(response.history.map(\.action) == [.create, .link, .deactivate, .unlink, .link])
        #expect(response.history[2].reason == "supplier paused")
        #expect(response.history[2].caller == "operator")
        #expect(response.history[2].beforeJson.contains("\"active\""))
        #expect(response.history[2].afterJson.contains("\"inactive\""))
        #expect(response.history[3].afterJson.isEmpty)
        let missing = rpcError {
            let _: PolicyV1.GetPolicyResponse = try fixture.call(fixture.operatorClient, "GetPolicy", PolicyV1.GetPolicyRequest(policyId: "00000000-0000-0000-0000-000000000000"))
        }
        #expect(missing?.code == .notFound)
        let badID = rpcError {
            let _: PolicyV1.GetPolicyResponse = try fixture.call(fixture.operatorClient, "GetPolicy", PolicyV1.GetPolicyRequest(policyId: "nope"))
        }
        #expect(badID?.code == .invalidArgument)
    }

    @Test func onlyTheOperatorMayAdminister() throws {
        let fixture = try PolicyServiceFixture()
        let request = PolicyV1.CreatePolicyRequest(terms: F.percentage("DEFAULT-2025", .default, ppm: 1), status: .active, operatorId: "x")
        for client in [fixture.settlement, fixture.checkout, fixture.supplierPortal] {
            let error = rpcError { let _: PolicyV1.PolicyResponse = try fixture.call(client, "CreatePolicy", request) }
            #expect(error?.code == .permissionDenied)
        }
        let noOperator = rpcError {
            let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "CreatePolicy", PolicyV1.CreatePolicyRequest(
                terms: F.percentage("DEFAULT-2025", .default, ppm: 1), status: .active
            ))
        }
        #expect(noOperator?.message.hasPrefix("operator_id") == true)
    }
}
