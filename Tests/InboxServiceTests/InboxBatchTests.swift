import Foundation
import InboxCore
@testable import InboxService
import Proto
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

@Suite("Group commit of decisions: one statement for concurrent calls, each with its own answer")
struct InboxBatchTests {
    // MARK: - TransitionBatcher (no database)

    @Test("calls arriving while a batch runs share the next one; each gets its own outcome")
    func callsQueueBehindARunningBatch() throws {
        let firstStarted = DispatchSemaphore(value: 0)
        let releaseFirst = DispatchSemaphore(value: 0)
        let batches = Mutex<[[Int]]>([])
        let batcher = TransitionBatcher<Int, Int>(maxInFlight: 1, maxBatch: 32) { items, _ in
            batches.withLock { $0.append(items) }
            if items == [0] {
                firstStarted.signal()
                releaseFirst.wait()
            }
            // Odd items are refused, even ones written with their square.
            return items.map { $0 % 2 == 0 ? .written($0 * $0) : .notWritten }
        }
        let outcomes = Mutex<[Int: String]>([:])
        @Sendable func record(_ item: Int, _ outcome: TransitionBatcher<Int, Int>.Outcome) {
            let text =
                switch outcome {
                case .written(let row): "written \(row)"
                case .notWritten: "not written"
                case .failed: "failed"
                case .batchFailed: "batch failed"
                }
            outcomes.withLock { $0[item] = text }
        }
        let leadDone = DispatchSemaphore(value: 0)
        Thread {
            record(0, batcher.submit(0, deadline: .after(seconds: 5)))
            leadDone.signal()
        }.start()
        #expect(firstStarted.wait(timeout: .now() + .seconds(5)) == .success)
        let followers = 8
        let done = DispatchSemaphore(value: 0)
        for item in 1...followers {
            Thread {
                record(item, batcher.submit(item, deadline: .after(seconds: 5)))
                done.signal()
            }.start()
        }
        // Let every follower queue behind the running batch before it ends.
        Thread.sleep(forTimeInterval: 0.3)
        releaseFirst.signal()
        for _ in 1...followers { #expect(done.wait(timeout: .now() + .seconds(5)) == .success) }
        #expect(leadDone.wait(timeout: .now() + .seconds(5)) == .success)

        let ran = batches.withLock { $0 }
        #expect(ran.first == [0])
        #expect(ran.count == 2, "the eight queued calls ran as one batch: \(ran)")
        #expect(Set(ran.dropFirst().flatMap { $0 }) == Set(1...followers))
        for item in 0...followers {
            #expect(outcomes.withLock { $0[item] } == (item % 2 == 0 ? "written \(item * item)" : "not written"))
        }
    }

    @Test("two batches in flight end at once: every call is answered once and both slots come back")
    func twoBatchesInFlightReturnTheirSlots() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let runs = Mutex<[[Int]]>([])
        let batcher = TransitionBatcher<Int, Int>(maxInFlight: 2, maxBatch: 3) { items, _ in
            runs.withLock { $0.append(items) }
            if items == [0] || items == [1] {
                started.signal()
                release.wait()
            }
            return items.map { .written($0) }
        }
        let answers = Mutex<[Int: Int]>([:])
        let done = DispatchSemaphore(value: 0)
        @Sendable func submit(_ item: Int) {
            Thread {
                if case .written(let row) = batcher.submit(item, deadline: .after(seconds: 5)) {
                    answers.withLock { $0[item, default: 0] += row == item ? 1 : 100 }
                }
                done.signal()
            }.start()
        }
        submit(0)
        #expect(started.wait(timeout: .now() + .seconds(5)) == .success)
        submit(1)
        #expect(started.wait(timeout: .now() + .seconds(5)) == .success)
        for item in 2..<10 { submit(item) }
        Thread.sleep(forTimeInterval: 0.3)
        release.signal()
        release.signal()
        for _ in 0..<10 { #expect(done.wait(timeout: .now() + .seconds(5)) == .success) }
        #expect(answers.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, 1) }))
        #expect(runs.withLock { $0 }.allSatisfy { $0.count <= 3 })
        #expect(batcher.batchesInFlight == 0)
        // A lone call afterwards leads at once.
        #expect(batcher.submit(42, deadline: .after(seconds: 5)).isWritten)
    }

    @Test("a batch that throws sends each of its calls back to run alone; a lone call gets the error itself")
    func aFailedBatchAnswersForNoItem() throws {
        struct Broken: Error {}
        let firstStarted = DispatchSemaphore(value: 0)
        let releaseFirst = DispatchSemaphore(value: 0)
        let batcher = TransitionBatcher<Int, Int>(maxInFlight: 1, maxBatch: 32) { items, _ in
            if items == [0] {
                firstStarted.signal()
                releaseFirst.wait()
            }
            throw Broken()
        }
        let leadOutcome = Mutex<String?>(nil)
        let leadDone = DispatchSemaphore(value: 0)
        let lead = Thread {
            let text =
                switch batcher.submit(0, deadline: .after(seconds: 5)) {
                case .failed(let error): error is Broken ? "failed with its error" : "failed otherwise"
                default: "other"
                }
            leadOutcome.withLock { $0 = text }
            leadDone.signal()
        }
        lead.start()
        #expect(firstStarted.wait(timeout: .now() + .seconds(5)) == .success)
        let followerOutcomes = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        for item in 1...3 {
            Thread {
                let text =
                    switch batcher.submit(item, deadline: .after(seconds: 5)) {
                    case .batchFailed: "batch failed"
                    default: "other"
                    }
                followerOutcomes.withLock { $0.append(text) }
                done.signal()
            }.start()
        }
        Thread.sleep(forTimeInterval: 0.3)
        releaseFirst.signal()
        for _ in 1...3 { #expect(done.wait(timeout: .now() + .seconds(5)) == .success) }
        #expect(leadDone.wait(timeout: .now() + .seconds(5)) == .success)
        #expect(leadOutcome.withLock { $0 } == "failed with its error")
        #expect(followerOutcomes.withLock { $0 } == ["batch failed", "batch failed", "batch failed"])
    }

    @Test("array literals keep quotes, backslashes, commas, braces, blanks and the word NULL literal")
    func arrayLiteralsRoundTrip() throws {
        let inbox = try InboxFixture()
        let elements: [String?] = [
            "plain", "", "with, comma", "{braces}", "\"quoted\"", "back\\slash", "NULL", nil, "  spaced  ",
            "tab\tand\nnewline", "ünïcødé ✓", "\\\"",
        ]
        let back = try inbox.postgres.withConnection { connection in
            try connection.queryUnprepared(
                "SELECT e FROM unnest($1::text[]) WITH ORDINALITY AS u(e, n) ORDER BY n",
                [PostgresArrayLiteral.text(elements)]
            ).map { try $0.decodeIfPresent(String.self, 0) }
        }
        #expect(back == elements)
    }

    // MARK: - The batched statement

    @Test("one batched statement writes the decisions whose guards hold, each with its audit event and outbox row")
    func batchedStatementWritesEachItemOrNone() throws {
        let inbox = try InboxFixture()
        let seller = inbox.seller(0)
        let toApprove = try inbox.requested(seller, inbox.productA(0))
        let toRevoke = try inbox.requested(seller, inbox.productA(1))
        try inbox.approve(toRevoke.id, by: inbox.supplierA)
        let toCancel = try inbox.requested(seller, inbox.productA(2))
        let alreadyRejected = try inbox.requested(seller, inbox.productA(3))
        try inbox.reject(alreadyRejected.id, by: inbox.supplierA)
        let otherSupplierTries = try inbox.requested(seller, inbox.productA(4))

        let rules = InboxRules(limit: try SellerLimitPolicy(limit: 10), cooldown: try RejectCooldown(days: 30))
        let supplierA = try Actor(caller: .supplierPortal, role: .supplier, id: inbox.supplierA)
        let supplierB = try Actor(caller: .supplierPortal, role: .supplier, id: inbox.supplierB)
        let sellerActor = try Actor(caller: .supplierPortal, role: .seller, id: seller)
        let oddReason = "breach: \"quoted\", {braced}, back\\slash, NULL"
        func decision(_ action: InboxAction, _ id: String, _ actor: Actor, _ reason: String?) throws -> GuardedDecision {
            let transition = try #require(AuthorizationTransition.decision(action))
            return GuardedDecision(
                TransitionCommand(
                    action: action, id: try RequestID(parsing: id), actor: actor,
                    reason: try reason.map { try DecisionReason(validating: $0, for: action) }),
                from: try #require(transition.from), to: transition.to, rules: rules)
        }
        let items = [
            try decision(.approve, toApprove.id, supplierA, nil),
            try decision(.reject, otherSupplierTries.id, supplierB, "not mine"),  // outside B's scope
            try decision(.reject, toApprove.id, supplierA, "too late"),  // the approval above wins the row
            try decision(.revoke, toRevoke.id, supplierA, oddReason),
            try decision(.cancel, toCancel.id, sellerActor, nil),
            try decision(.approve, alreadyRejected.id, supplierA, nil),  // terminal
        ]
        let outcomes = try inbox.postgres.withConnection { connection in
            try PostgresAuthorizationStore.runGuardedDecisions(items, on: connection, deadline: .after(seconds: 10))
        }
        let written = outcomes.map { outcome -> String? in
            if case .written(let row) = outcome { return try? row.string("status") }
            return nil
        }
        #expect(written == ["APPROVED", nil, nil, "REVOKED", "CANCELLED", nil])

        // Every written row carries its own outbox id; reasons survive the array literal.
        var outboxIDs = Set<Int64>()
        for case .written(let row) in outcomes { outboxIDs.insert(try row.int64("outbox_id")) }
        #expect(outboxIDs.count == 3)
        let revoked = try inbox.get(toRevoke.id, supplier: inbox.supplierA)
        #expect(revoked.request?.reason == oddReason)
        #expect(revoked.events.last?.reason == oddReason)

        // One audit event per transition, each with an outbox row of its version; the pair
        // state the gate reads follows every written item; the refused ones are untouched.
        let ids = [toApprove.id, toRevoke.id, toCancel.id, alreadyRejected.id, otherSupplierTries.id]
        #expect(try inbox.get(toApprove.id, supplier: inbox.supplierA).events.map(\.toStatus) == [.requested, .approved])
        #expect(try inbox.get(toCancel.id, seller: seller).events.map(\.toStatus) == [.requested, .cancelled])
        #expect(try inbox.get(otherSupplierTries.id, supplier: inbox.supplierA).request?.status == .requested)
        #expect(try inbox.get(alreadyRejected.id, supplier: inbox.supplierA).request?.status == .rejected)
        let unmatched = try inbox.scalar(
            """
            SELECT count(*) FROM inbox.audit_events a JOIN inbox.authorization_requests r ON r.id = a.request_id
             WHERE r.id = ANY ($1::uuid[]) AND a.from_status IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM inbox.cache_outbox o
                                WHERE o.seller_id = r.seller_id AND o.product_id = r.product_id AND o.version = a.version)
            """, [PostgresArrayLiteral.text(ids)])
        #expect(unmatched == 0)
        for (product, status) in [(inbox.productA(0), "APPROVED"), (inbox.productA(1), "REVOKED"), (inbox.productA(2), "CANCELLED")] {
            #expect(try inbox.stateRow(seller: seller, product: product)?.status == status)
        }
    }

    @Test("concurrent decisions through the service, refusals mixed in, each answer its own")
    func concurrentDecisionsEachGetTheirOwnAnswer() throws {
        let inbox = try InboxFixture(sellers: 4, products: 30) { $0.decisionBatchMax = 32 }
        let requests = try (0..<24).map { index in
            let seller = inbox.seller(index % 4)
            return (id: try inbox.requested(seller, inbox.productA(index)).id, seller: seller)
        }
        let unexpected = Mutex<[String]>([])
        // Worker k: even k approves as supplier A (allowed); k % 4 == 1 rejects as supplier B
        // (PERMISSION_DENIED); k % 4 == 3 cancels as the seller (allowed).
        TestThreads.run(count: requests.count) { worker in
            let (id, seller) = requests[worker]
            do throws(RPCError) {
                switch worker % 4 {
                case 0, 2:
                    let approved = try inbox.approve(id, by: inbox.supplierA)
                    if approved.status != .approved { unexpected.withLock { $0.append("\(worker): \(approved.status)") } }
                case 1:
                    _ = try inbox.reject(id, by: inbox.supplierB)
                    unexpected.withLock { $0.append("\(worker): supplier B's reject succeeded") }
                default:
                    let cancelled = try inbox.cancel(id, by: seller)
                    if cancelled.status != .cancelled { unexpected.withLock { $0.append("\(worker): \(cancelled.status)") } }
                }
            } catch {
                if !(worker % 4 == 1 && error.code == .permissionDenied) {
                    unexpected.withLock { $0.append("\(worker): \(error.code) \(error.message)") }
                }
            }
        }
        #expect(unexpected.withLock { $0 } == [])
        let statuses = try requests.map { try inbox.get($0.id, supplier: inbox.supplierA).request?.status }
        for (worker, status) in statuses.enumerated() {
            let expected: InboxV1.AuthorizationStatus =
                switch worker % 4 {
                case 0, 2: .approved
                case 1: .requested
                default: .cancelled
                }
            #expect(status == expected, "request \(worker)")
        }
        // Histories complete: one creating event plus one per written decision.
        let events = try inbox.scalar("SELECT count(*) FROM inbox.audit_events")
        #expect(events == 24 + 18)
        let outbox = try inbox.scalar("SELECT count(*) FROM inbox.cache_outbox")
        #expect(outbox == 24 + 18)
    }
}

extension TransitionBatcher.Outcome {
    fileprivate var isWritten: Bool {
        if case .written = self { return true }
        return false
    }
}
