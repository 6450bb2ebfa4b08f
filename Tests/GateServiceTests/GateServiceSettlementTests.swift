import GateCore
@testable import GateService
import Proto
import TestSupport
import Testing
import Wire

@Suite struct GateServiceSettlementTests {
    @Test func anOrderPlacedWhileApprovedStaysPayableAfterARevoke() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        guard case .approved(let approvedAt) = approval.state.status else { throw FixtureError("not approved") }
        let revoke = try fixture.transition(approval.requestId, from: "APPROVED", to: "REVOKED")
        guard case .revoked(_, let revokedAt) = revoke.state.status else { throw FixtureError("not revoked") }

        let during = try fixture.check(product, stage: .settlement, orderTime: approvedAt)
        #expect(during.allowed && during.reason == .approvedAtOrderTime && during.tier == .redis)
        let after = try fixture.check(product, stage: .settlement, orderTime: revokedAt)
        #expect(!after.allowed && after.reason == .revoked)
        let now = try fixture.check(product, stage: .settlement)
        #expect(!now.allowed && now.reason == .revoked)
        let cart = try fixture.check(product, stage: .cart)
        #expect(!cart.allowed && cart.reason == .revoked)
    }

    @Test func anOlderApprovalEpisodeIsFoundInTheHistory() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        guard case .approved(let approvedAt) = approval.state.status else { throw FixtureError("not approved") }
        let orderTime = approvedAt + 1
        try fixture.transition(approval.requestId, from: "APPROVED", to: "REVOKED")
        // The seller asks again: the latest row is pending, the approval lives in the history.
        try fixture.request(product)

        let paid = try fixture.check(product, stage: .settlement, orderTime: orderTime)
        #expect(paid.allowed && paid.reason == .approvedAtOrderTime && paid.tier == .postgres)
        let beforeAnyApproval = try fixture.check(product, stage: .settlement, orderTime: approvedAt - 1_000_000)
        #expect(!beforeAnyApproval.allowed && beforeAnyApproval.reason == .pending)
        let cart = try fixture.check(product, stage: .cart)
        #expect(!cart.allowed && cart.reason == .pending)
    }

    @Test func anOrderPlacedBeforeTheApprovalIsNotAuthorized() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("p")
        try fixture.addProduct(product)
        let approval = try fixture.approve(product)
        guard case .approved(let approvedAt) = approval.state.status else { throw FixtureError("not approved") }
        let early = try fixture.check(product, stage: .settlement, orderTime: approvedAt - 1)
        #expect(!early.allowed && early.reason == .notAuthorizedAtOrderTime && early.tier == .postgres)
        let onTime = try fixture.check(product, stage: .settlement, orderTime: approvedAt)
        #expect(onTime.allowed && onTime.reason == .approved && onTime.tier == .redis)
    }

    @Test func latestStateDecidesOnlyWhenNoOlderEpisodeCouldMatter() {
        let approved = AuthorizationState(version: 3, status: .approved(sinceMicros: 100))
        let revoked = AuthorizationState(version: 4, status: .revoked(approvedAtMicros: 100, revokedAtMicros: 200))
        #expect(AuthorizationGate.latestStateDecides(.notRequested, orderTimeMicros: 5))
        #expect(AuthorizationGate.latestStateDecides(approved, orderTimeMicros: 100))
        #expect(!AuthorizationGate.latestStateDecides(approved, orderTimeMicros: 99))
        #expect(AuthorizationGate.latestStateDecides(revoked, orderTimeMicros: 150))
        #expect(AuthorizationGate.latestStateDecides(revoked, orderTimeMicros: 250))
        #expect(!AuthorizationGate.latestStateDecides(revoked, orderTimeMicros: 50))
        #expect(!AuthorizationGate.latestStateDecides(AuthorizationState(version: 5, status: .pending), orderTimeMicros: 50))
    }
}
