import Foundation
import InboxService
import Proto
import Synchronization
import TestSupport
import Testing
import Wire

@Suite("Seller limit, one open request per pair, idempotency, cooldown")
struct InboxLimitTests {
    @Test("pending requests count toward SELLER_PRODUCT_LIMIT at request time")
    func limitAtRequest() throws {
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "3"])
        let seller = inbox.seller(0)
        let first = try inbox.requested(seller, inbox.productA(0))
        try inbox.approve(first.id, by: inbox.supplierA)
        _ = try inbox.requested(seller, inbox.productA(1))
        _ = try inbox.requested(seller, inbox.productB(0))
        let error = inbox.expectError(.resourceExhausted) { try inbox.request(seller, inbox.productA(2)) }
        #expect(error?.message.contains("SELLER_PRODUCT_LIMIT") == true)
        #expect(error?.message.contains("3 of 3") == true)
        // Another seller is not affected.
        _ = try inbox.requested(inbox.seller(1), inbox.productA(2))
    }

    @Test("50 concurrent approvals for a seller one below the limit: exactly one succeeds")
    func concurrentApprovals() throws {
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "100"], products: 60)
        let seller = inbox.seller(0)
        var pending: [String] = []
        for index in 0..<59 {
            let product = index < 30 ? inbox.productA(index) : inbox.productB(index - 30)
            let row = try inbox.requested(seller, product)
            if index < 9 {
                try inbox.approve(row.id, by: row.supplierId)
            } else {
                pending.append(row.id + "|" + row.supplierId)
            }
        }
        // The limit drops to 10 while 50 requests wait: 9 approved, one slot left.
        _ = try inbox.application.flags.set(
            name: "SELLER_PRODUCT_LIMIT", value: "10", reason: "test", actor: "test", caller: "operator",
            deadline: .after(seconds: 5))
        #expect(inbox.application.settings.current.rules.limit.limit == 10)
        let successes = Atomic<Int>(0)
        let exhausted = Atomic<Int>(0)
        let others = Mutex<[String]>([])
        let targets = pending
        TestThreads.run(count: targets.count) { index in
            let parts = targets[index].split(separator: "|").map(String.init)
            do {
                try inbox.approve(parts[0], by: parts[1])
                successes.add(1, ordering: .relaxed)
            } catch let error as RPCError where error.code == .resourceExhausted {
                exhausted.add(1, ordering: .relaxed)
            } catch {
                others.withLock { $0.append("\(error)") }
            }
        }
        #expect(successes.load(ordering: .relaxed) == 1)
        #expect(exhausted.load(ordering: .relaxed) == 49)
        #expect(others.withLock { $0 }.isEmpty, "\(others.withLock { $0 })")
        #expect(try inbox.scalar(
            "SELECT count(*) FROM inbox.authorization_requests WHERE seller_id = $1 AND status = 'APPROVED'",
            [.text(seller)]) == 10)
    }

    @Test("concurrent duplicate requests for one pair create one row")
    func concurrentDuplicates() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let successes = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        TestThreads.run(count: 20) { _ in
            do {
                try inbox.request(seller, product)
                successes.add(1, ordering: .relaxed)
            } catch let error as RPCError where error.code == .failedPrecondition {
                refused.add(1, ordering: .relaxed)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(successes.load(ordering: .relaxed) == 1)
        #expect(refused.load(ordering: .relaxed) == 19)
        #expect(try inbox.scalar(
            "SELECT count(*) FROM inbox.authorization_requests WHERE seller_id = $1 AND product_id = $2",
            [.text(seller), .text(product)]) == 1)
    }

    @Test("a retry with the same idempotency key returns the first result and writes nothing")
    func idempotentRetries() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let first = try inbox.request(seller, inbox.productA(0), key: "order-42.try")
        #expect(first.replayed == false)
        let counts = {
            try ["authorization_requests", "audit_events", "cache_outbox"].map {
                try inbox.scalar("SELECT count(*) FROM inbox.\($0)")
            }
        }
        let before = try counts()
        let again = try inbox.request(seller, inbox.productA(0), key: "order-42.try")
        #expect(again.replayed)
        #expect(again.request?.id == first.request?.id)
        #expect(try counts() == before)
        // Even after a decision the key replays the first row (now approved), not a new request.
        try inbox.approve(try #require(first.request?.id), by: inbox.supplierA)
        let afterDecision = try inbox.request(seller, inbox.productA(0), key: "order-42.try")
        #expect(afterDecision.replayed)
        #expect(afterDecision.request?.status == .approved)
        let error = inbox.expectError(.invalidArgument) { try inbox.request(seller, inbox.productA(1), key: "order-42.try") }
        #expect(error?.message.hasPrefix("idempotency_key:") == true)
        // Concurrent retries with one key: one row, every answer the same id.
        let ids = Mutex<Set<String>>([])
        TestThreads.run(count: 16) { _ in
            if let response = try? inbox.request(seller, inbox.productA(2), key: "burst-key") {
                ids.withLock { _ = $0.insert(response.request?.id ?? "") }
            }
        }
        #expect(ids.withLock { $0.count } == 1)
        #expect(try inbox.scalar(
            "SELECT count(*) FROM inbox.authorization_requests WHERE idempotency_key = 'burst-key'") == 1)
    }

    @Test("the reject cooldown blocks until exactly rejected_at + 30 days, then allows")
    func cooldownBoundary() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        let rejected = try inbox.reject(row.id, by: inbox.supplierA)
        let until = rejected.decidedAtUnixMicros + 30 * 86_400 * 1_000_000
        #expect(rejected.cooldownUntilUnixMicros == until)

        inbox.clock.set(until - 1)
        let error = inbox.expectError(.failedPrecondition) { try inbox.request(seller, product) }
        #expect(error?.message.hasSuffix("retry_after_unix_micros=\(until)") == true)
        #expect(error?.message.contains("SELLER_REJECT_COOLDOWN_DAYS") == true)
        inbox.clock.set(until)
        let again = try inbox.requested(seller, product)
        #expect(again.status == .requested)
        #expect(again.id != row.id)
    }

    @Test("the cooldown uses the latest rejection, read from PostgreSQL's clock when no clock is injected")
    func cooldownWithDatabaseTime() throws {
        let inbox = try InboxFixture(flags: ["SELLER_REJECT_COOLDOWN_DAYS": "1"]) { $0.clock = nil }
        let seller = inbox.seller(0)
        let product = inbox.productA(0)
        let row = try inbox.requested(seller, product)
        try inbox.reject(row.id, by: inbox.supplierA)
        inbox.expectError(.failedPrecondition) { try inbox.request(seller, product) }
        // Move the rejection just past one day ago: allowed again.
        _ = try inbox.scalar(
            "UPDATE inbox.authorization_requests SET decided_at = now() - interval '1 day 1 second' WHERE id = $1::uuid RETURNING 1",
            [.text(row.id)])
        _ = try inbox.requested(seller, product)
    }
}
