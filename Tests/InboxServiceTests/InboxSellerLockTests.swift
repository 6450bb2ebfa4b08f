import Foundation
import InboxService
import Proto
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

@Suite("The seller lock: who takes it, and the limit under concurrent writes")
struct InboxSellerLockTests {
    /// Holds `seller`'s lock row in a transaction of its own until `release` is called.
    final class SellerLockHolder: @unchecked Sendable {
        // @unchecked: the connection is used by the test's thread only, one call at a time.
        private let connection: PostgresConnection

        init(_ inbox: InboxFixture, seller: String) throws {
            connection = try PostgresConnection.connect(url: inbox.databaseURL, timeout: .seconds(5), applicationName: "lock-holder")
            try connection.simpleQuery("BEGIN")
            let locked = try connection.queryUnprepared(
                "SELECT seller_id FROM inbox.seller_locks WHERE seller_id = $1 FOR UPDATE", [.text(seller)])
            #expect(locked.count == 1)
        }

        func release() throws {
            try connection.simpleQuery("ROLLBACK")
        }
    }

    @Test("an approval within the limit does not wait for the seller lock; one over a lowered limit does")
    func approvalsTakeTheLockOnlyOverALoweredLimit() throws {
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "3"])
        let seller = inbox.seller(0)
        let rows = try (0..<3).map { try inbox.requested(seller, inbox.productA($0)) }

        // Holding 3 of 3: approving cannot overshoot, so it does not wait for the lock.
        let holder = try SellerLockHolder(inbox, seller: seller)
        let approved = try inbox.approve(rows[0].id, by: inbox.supplierA)
        #expect(approved.status == .approved)

        // The limit drops to 2 while the seller holds 3: the next approval must count under the lock.
        _ = try inbox.application.flags.set(
            name: "SELLER_PRODUCT_LIMIT", value: "2", reason: "test", actor: "test", caller: "operator",
            deadline: .after(seconds: 5))
        let outcome = Mutex<Result<InboxV1.AuthorizationRequest, RPCError>?>(nil)
        let target = rows[1].id
        let supplier = inbox.supplierA
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let result: Result<InboxV1.AuthorizationRequest, RPCError>
            do throws(RPCError) {
                result = .success(try inbox.approve(target, by: supplier))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + .milliseconds(500)) == .timedOut, "the approval did not wait for the lock")
        try holder.release()
        #expect(done.wait(timeout: .now() + .seconds(5)) == .success)
        let recorded = outcome.withLock { $0 }
        let approvedUnderLock = try #require(recorded).get()
        #expect(approvedUnderLock.status == .approved)

        // Two approved of 2: the third is refused, naming the limit.
        let error = inbox.expectError(.resourceExhausted) { try inbox.approve(rows[2].id, by: inbox.supplierA) }
        #expect(error?.message.contains("already holds 2 approved products of 2") == true)
    }

    @Test("requests, approvals, revokes and cancels racing on one seller never hold more than the limit")
    func concurrentWritesKeepTheLimit() throws {
        let limit = 4
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "\(limit)"], products: 60)
        let seller = inbox.seller(0)
        let unexpected = Mutex<[String]>([])
        let approvals = Atomic<Int>(0)
        let workers = 12
        TestThreads.run(count: workers) { worker in
            for step in 0..<10 {
                let index = worker * 10 + step
                let product = index < 60 ? inbox.productA(index) : inbox.productB(index - 60)
                let supplier = index < 60 ? inbox.supplierA : inbox.supplierB
                do {
                    guard let row = try inbox.request(seller, product).request else { continue }
                    switch step % 3 {
                    case 0:
                        try inbox.approve(row.id, by: supplier)
                        approvals.add(1, ordering: .relaxed)
                        try inbox.revoke(row.id, by: supplier)
                    case 1:
                        try inbox.approve(row.id, by: supplier)
                        approvals.add(1, ordering: .relaxed)
                    default:
                        try inbox.cancel(row.id, by: seller)
                    }
                } catch let error as RPCError where error.code == .resourceExhausted {
                    // The limit refused a request: expected under this contention.
                } catch {
                    unexpected.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 })")
        #expect(approvals.load(ordering: .relaxed) > 0)
        let held = try inbox.scalar(
            "SELECT count(*) FROM inbox.authorization_requests WHERE seller_id = $1 AND status IN ('REQUESTED', 'APPROVED')",
            [.text(seller)])
        #expect(held <= Int64(limit))
        // Every row carries the audit events its status implies, and the pair states match.
        #expect(try inbox.scalar(
            """
            SELECT count(*) FROM inbox.authorization_requests r
             WHERE r.seller_id = $1
               AND (SELECT count(*) FROM inbox.audit_events a WHERE a.request_id = r.id)
                   <> CASE r.status WHEN 'REQUESTED' THEN 1 WHEN 'REVOKED' THEN 3 ELSE 2 END
            """, [.text(seller)]) == 0)
        #expect(try inbox.scalar(
            """
            SELECT count(*) FROM inbox.authorization_state s
              JOIN inbox.authorization_requests r ON r.id = s.request_id
             WHERE s.seller_id = $1 AND (s.status <> r.status OR s.version <> r.version)
            """, [.text(seller)]) == 0)
    }

    @Test("inbox.require fails the statement, and with it the transaction, naming the invariant")
    func requireFailsTheStatement() throws {
        let inbox = try InboxFixture()
        #expect(try inbox.scalar("SELECT inbox.require(true, 'holds')::int") == 1)
        let error = #expect(throws: PostgresError.self) { try inbox.scalar("SELECT inbox.require(false, 'a test')::int") }
        #expect(error?.code == "XX000")
        #expect(error?.message.contains("inbox invariant broken: a test") == true)
    }
}
