import InboxCore
import InboxService
import Proto
import ServiceKit
import Storage
import TestSupport
import Testing
import Wire

@Suite("Inbox transitions through the RPCs")
struct InboxTransitionTests {
    @Test("request, approve and revoke: each step bumps the version and writes an audit event")
    func requestApproveRevoke() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let created = try inbox.requested(seller, inbox.productA(0))
        #expect(created.status == .requested)
        #expect(created.supplierId == inbox.supplierA)
        let approved = try inbox.approve(created.id, by: inbox.supplierA, reason: "welcome")
        #expect(approved.status == .approved)
        #expect(approved.version > created.version)
        #expect(approved.decidedBy == inbox.supplierA)
        let revoked = try inbox.revoke(created.id, by: inbox.supplierA, reason: "counterfeit reports")
        #expect(revoked.status == .revoked)
        #expect(revoked.version > approved.version)
        #expect(revoked.revokedAtUnixMicros >= revoked.decidedAtUnixMicros)

        let history = try inbox.get(created.id, seller: seller)
        #expect(history.events.map(\.toStatus) == [.requested, .approved, .revoked])
        #expect(history.events.map(\.fromStatus) == [.unspecified, .requested, .approved])
        #expect(history.events.map(\.actorRole) == [.seller, .supplier, .supplier])
        #expect(history.events.map(\.version) == [created.version, approved.version, revoked.version])
        #expect(history.events.last?.reason == "counterfeit reports")
        #expect(history.events.allSatisfy { $0.caller == "supplier-portal" })
    }

    @Test("reject records the reason and the cooldown end; cancel is the seller's")
    func rejectAndCancel() throws {
        let inbox = try InboxFixture()
        let first = try inbox.requested(inbox.seller(0), inbox.productA(0))
        let rejected = try inbox.reject(first.id, by: inbox.supplierA, reason: "region not served")
        #expect(rejected.status == .rejected)
        #expect(rejected.reason == "region not served")
        #expect(rejected.cooldownUntilUnixMicros == rejected.decidedAtUnixMicros + 30 * 86_400 * 1_000_000)

        let second = try inbox.requested(inbox.seller(0), inbox.productA(1))
        let cancelled = try inbox.cancel(second.id, by: inbox.seller(0))
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.decidedBy == inbox.seller(0))
        #expect(try inbox.get(second.id, supplier: inbox.supplierA).events.last?.actorRole == .seller)
    }

    @Test("every action from every state: legal ones succeed, illegal ones are FAILED_PRECONDITION naming the state")
    func transitionMatrix() throws {
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "100"], products: 30)
        let seller = inbox.seller(1)
        let states: [AuthorizationStatus] = [.requested, .approved, .rejected, .cancelled, .revoked]
        let actions: [InboxAction] = [.cancel, .approve, .reject, .revoke]
        var product = 0
        for state in states {
            for action in actions {
                let row = try inbox.requested(seller, inbox.productA(product))
                product += 1
                switch state {
                case .requested: break
                case .approved: try inbox.approve(row.id, by: inbox.supplierA)
                case .rejected: try inbox.reject(row.id, by: inbox.supplierA)
                case .cancelled: try inbox.cancel(row.id, by: seller)
                case .revoked:
                    try inbox.approve(row.id, by: inbox.supplierA)
                    try inbox.revoke(row.id, by: inbox.supplierA)
                }
                let act = {
                    switch action {
                    case .cancel: try inbox.cancel(row.id, by: seller)
                    case .approve: try inbox.approve(row.id, by: inbox.supplierA)
                    case .reject: try inbox.reject(row.id, by: inbox.supplierA)
                    case .revoke: try inbox.revoke(row.id, by: inbox.supplierA)
                    case .request: InboxV1.AuthorizationRequest()
                    }
                }
                let legal = AuthorizationTransition.all.contains { $0.action == action && $0.from == state }
                if legal {
                    let after = try act()
                    #expect(after.status != .requested, "\(action) from \(state)")
                } else {
                    let error = inbox.expectError(.failedPrecondition) { _ = try act() }
                    #expect(error?.message.contains(state.rawValue) == true, "\(action) from \(state): \(String(describing: error))")
                    let stored = try inbox.get(row.id, seller: seller).request
                    #expect(stored?.status == InboxV1.AuthorizationStatus(rawValue: Int32(states.firstIndex(of: state)! + 1)))
                }
            }
        }
    }

    @Test("bad input is INVALID_ARGUMENT naming the field; unknown ids are NOT_FOUND")
    func validation() throws {
        let inbox = try InboxFixture()
        let row = try inbox.requested(inbox.seller(0), inbox.productA(0))
        var error = inbox.expectError(.invalidArgument) { try inbox.reject(row.id, by: inbox.supplierA, reason: "  ") }
        #expect(error?.message.hasPrefix("reason:") == true)
        error = inbox.expectError(.invalidArgument) { try inbox.revoke(row.id, by: inbox.supplierA, reason: "") }
        #expect(error?.message.hasPrefix("reason:") == true)
        error = inbox.expectError(.invalidArgument) { try inbox.approve("not-a-uuid", by: inbox.supplierA) }
        #expect(error?.message.hasPrefix("id:") == true)
        error = inbox.expectError(.invalidArgument) { try inbox.request(inbox.seller(0), inbox.productA(1), key: "bad key!") }
        #expect(error?.message.hasPrefix("idempotency_key:") == true)
        error = inbox.expectError(.invalidArgument) { try inbox.request(inbox.seller(0), "", key: "k1") }
        #expect(error?.message.hasPrefix("product_id:") == true)
        inbox.expectError(.notFound) { try inbox.approve("7f1c2a3b-0000-4000-8000-000000000001", by: inbox.supplierA) }
        error = inbox.expectError(.notFound) { try inbox.request(inbox.seller(0), "\(inbox.prefix)-nope") }
        #expect(error?.message.hasPrefix("product_id:") == true)
        error = inbox.expectError(.notFound) { try inbox.request("\(inbox.prefix)-ghost", inbox.productA(2)) }
        #expect(error?.message.hasPrefix("seller_id:") == true)
        error = inbox.expectError(.invalidArgument) { _ = try inbox.listInbox(inbox.supplierA, statuses: [.unspecified]) }
        #expect(error?.message.hasPrefix("statuses:") == true)
        error = inbox.expectError(.invalidArgument) { _ = try inbox.listInbox(inbox.supplierA, token: "garbage") }
        #expect(error?.message.hasPrefix("page_token:") == true)
    }

    @Test("ENABLE_SELLER_AUTHORIZATION off: every inbox method answers UNIMPLEMENTED")
    func featureOff() throws {
        let inbox = try InboxFixture(flags: ["ENABLE_SELLER_AUTHORIZATION": "false"])
        let id = "7f1c2a3b-0000-4000-8000-000000000001"
        inbox.expectError(.unimplemented) { try inbox.request(inbox.seller(0), inbox.productA(0)) }
        inbox.expectError(.unimplemented) { try inbox.approve(id, by: inbox.supplierA) }
        inbox.expectError(.unimplemented) { try inbox.reject(id, by: inbox.supplierA) }
        inbox.expectError(.unimplemented) { try inbox.cancel(id, by: inbox.seller(0)) }
        inbox.expectError(.unimplemented) { try inbox.revoke(id, by: inbox.supplierA) }
        inbox.expectError(.unimplemented) { _ = try inbox.get(id, seller: inbox.seller(0)) }
        inbox.expectError(.unimplemented) { _ = try inbox.listInbox(inbox.supplierA) }
        inbox.expectError(.unimplemented) {
            let _: InboxV1.ListMineResponse = try inbox.portal.call(
                InboxFixture.method + "ListMine", InboxV1.ListMineRequest(sellerId: inbox.seller(0)))
        }
        inbox.expectError(.unimplemented) {
            let _: InboxV1.InboxSizeResponse = try inbox.portal.call(
                InboxFixture.method + "InboxSize", InboxV1.InboxSizeRequest(supplierId: inbox.supplierA))
        }
    }

    @Test("a negative SELLER_PRODUCT_LIMIT is refused at start")
    func negativeLimitRefused() throws {
        // The pool opens nothing until used: the flags are judged before any I/O.
        let pool = PostgresPool(
            configuration: .init(url: try TestInfrastructure.databaseURL()), logger: TestInfrastructure.logger("inbox-test"))
        defer { pool.close() }
        let error = #expect(throws: ConfigurationError.self) {
            _ = try InboxApplication(
                environment: EnvironmentReader(["SELLER_PRODUCT_LIMIT": "-1"]), postgres: pool, redis: nil,
                logger: TestInfrastructure.logger("inbox-test"))
        }
        #expect(error?.variable == "SELLER_PRODUCT_LIMIT")
    }
}
