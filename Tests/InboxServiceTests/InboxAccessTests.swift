import InboxService
import Proto
import TestSupport
import Testing
import Wire

@Suite("Who may act on a request")
struct InboxAccessTests {
    @Test("another supplier, another seller, an operator approving, or the checkout: PERMISSION_DENIED")
    func crossPartyAttempts() throws {
        let inbox = try InboxFixture()
        let row = try inbox.requested(inbox.seller(0), inbox.productA(0))
        var error = inbox.expectError(.permissionDenied) { try inbox.approve(row.id, by: inbox.supplierB) }
        #expect(error?.message.contains("does not own product") == true)
        inbox.expectError(.permissionDenied) { try inbox.reject(row.id, by: inbox.supplierB) }
        inbox.expectError(.permissionDenied) { try inbox.cancel(row.id, by: inbox.seller(1)) }
        inbox.expectError(.permissionDenied) { _ = try inbox.get(row.id, seller: inbox.seller(1)) }
        inbox.expectError(.permissionDenied) { _ = try inbox.get(row.id, supplier: inbox.supplierB) }
        error = inbox.expectError(.permissionDenied) {
            let _: InboxV1.ApproveAuthorizationResponse = try inbox.operatorClient.call(
                InboxFixture.method + "Approve",
                InboxV1.ApproveAuthorizationRequest(id: row.id, supplierId: inbox.supplierA))
        }
        #expect(error?.message.contains("operator") == true)
        inbox.expectError(.permissionDenied) {
            let _: InboxV1.ApproveAuthorizationResponse = try inbox.checkout.call(
                InboxFixture.method + "Approve",
                InboxV1.ApproveAuthorizationRequest(id: row.id, supplierId: inbox.supplierA))
        }
        // Nothing changed.
        #expect(try inbox.get(row.id, seller: inbox.seller(0)).request?.status == .requested)
        #expect(try inbox.scalar("SELECT count(*) FROM inbox.audit_events") == 1)

        try inbox.approve(row.id, by: inbox.supplierA)
        inbox.expectError(.permissionDenied) { try inbox.revoke(row.id, by: inbox.supplierB) }
    }

    @Test("an operator may revoke (audited as operator) and read any request")
    func operatorRevokes() throws {
        let inbox = try InboxFixture()
        let row = try inbox.requested(inbox.seller(0), inbox.productA(0))
        try inbox.approve(row.id, by: inbox.supplierA)
        let revoked = try inbox.revoke(
            row.id, by: "", reason: "fraud investigation", client: inbox.operatorClient, operatorId: "ops-kim")
        #expect(revoked.status == .revoked)
        #expect(revoked.decidedBy == "ops-kim")
        let history: InboxV1.GetAuthorizationResponse = try inbox.operatorClient.call(
            InboxFixture.method + "Get", InboxV1.GetAuthorizationRequest(id: row.id))
        #expect(history.events.last?.actorRole == .operator)
        #expect(history.events.last?.caller == "operator")
    }

    @Test("InboxSize counts the supplier's pending requests; the gauges see every supplier")
    func inboxSize() throws {
        let inbox = try InboxFixture()
        for index in 0..<3 { _ = try inbox.requested(inbox.seller(0), inbox.productA(index)) }
        _ = try inbox.requested(inbox.seller(1), inbox.productB(0))
        let size: InboxV1.InboxSizeResponse = try inbox.portal.call(
            InboxFixture.method + "InboxSize", InboxV1.InboxSizeRequest(supplierId: inbox.supplierA))
        #expect(size.pending == 3)
        let gauges = try inbox.application.gauges.refreshOnce()
        #expect(gauges.total == 4)
        #expect(gauges.largest == 3)
    }
}
