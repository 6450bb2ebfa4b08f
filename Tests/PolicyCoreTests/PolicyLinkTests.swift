import PolicyCore
import Testing

@Suite("PolicyLink")
struct PolicyLinkTests {
    @Test func supplierLinksCarryASettlementCycle() throws {
        let link = try PolicyLink(scope: PolicyScope(kind: .supplier, id: "s-1"), policyID: "pol-1", settlementCycleDays: 30)
        #expect(link.settlementCycleDays == 30)
    }

    @Test func otherLinksRefuseASettlementCycle() throws {
        let scope = try PolicyScope(kind: .product, id: "p-1")
        #expect {
            try PolicyLink(scope: scope, policyID: "pol-1", settlementCycleDays: 30)
        } throws: { error in
            (error as? PolicyError)?.field == "settlement_cycle_days"
        }
    }

    @Test(arguments: [0, -1, 366])
    func refusesACycleOutsideOneYear(days: Int) throws {
        let scope = try PolicyScope(kind: .supplier, id: "s-1")
        #expect {
            try PolicyLink(scope: scope, policyID: "pol-1", settlementCycleDays: days)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .outOfRange && error?.field == "settlement_cycle_days"
        }
    }

    @Test func refusesEmptyIdsByName() {
        #expect {
            try PolicyScope(kind: .tier, id: "")
        } throws: { error in
            (error as? PolicyError)?.field == "scope_id"
        }
        #expect {
            try PolicyLink(scope: PolicyScope(kind: .tier, id: "GOLD"), policyID: "")
        } throws: { error in
            (error as? PolicyError)?.field == "policy_id"
        }
    }

    @Test func eachScopeKindLinksItsOwnPolicyKind() {
        #expect(ScopeKind.product.policyKind == .product)
        #expect(ScopeKind.supplier.policyKind == .supplier)
        #expect(ScopeKind.tier.policyKind == .tier)
    }
}
