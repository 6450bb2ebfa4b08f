import Foundation
import InboxService
import Proto
import Synchronization
import TestSupport
import Testing
import Wire

@Suite("Listing and pagination")
struct InboxListingTests {
    @Test("ListInbox: pending first, oldest first; filters by status and product")
    func order() throws {
        let inbox = try InboxFixture()
        let first = try inbox.requested(inbox.seller(0), inbox.productA(0))
        let second = try inbox.requested(inbox.seller(1), inbox.productA(0))
        let third = try inbox.requested(inbox.seller(0), inbox.productA(1))
        try inbox.approve(first.id, by: inbox.supplierA)
        let page = try inbox.listInbox(inbox.supplierA)
        #expect(page.requests.map(\.id) == [second.id, third.id, first.id])
        #expect(page.nextPageToken.isEmpty)
        let approvedOnly = try inbox.listInbox(inbox.supplierA, statuses: [.approved])
        #expect(approvedOnly.requests.map(\.id) == [first.id])
        let byProduct: InboxV1.ListInboxResponse = try inbox.portal.call(
            InboxFixture.method + "ListInbox",
            InboxV1.ListInboxRequest(supplierId: inbox.supplierA, productId: inbox.productA(1)))
        #expect(byProduct.requests.map(\.id) == [third.id])
        let mine: InboxV1.ListMineResponse = try inbox.portal.call(
            InboxFixture.method + "ListMine", InboxV1.ListMineRequest(sellerId: inbox.seller(0)))
        #expect(mine.requests.map(\.id) == [third.id, first.id])
        #expect(try inbox.listInbox(inbox.supplierB).requests.isEmpty)
    }

    @Test("paging while new requests arrive: no duplicates, no gaps among the rows that existed at the start")
    func paginationUnderInserts() throws {
        let inbox = try InboxFixture(flags: ["SELLER_PRODUCT_LIMIT": "100"], sellers: 4, products: 30)
        var initial: [String] = []
        for index in 0..<25 {
            let row = try inbox.requested(inbox.seller(0), inbox.productA(index))
            if index % 3 == 0 { try inbox.approve(row.id, by: inbox.supplierA) }
            initial.append(row.id)
        }
        let inserted = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)
        let writer = Thread {
            for next in 0..<30 {
                for seller in 1...3 where (try? inbox.request(inbox.seller(seller), inbox.productA(next))) != nil {
                    inserted.add(1, ordering: .relaxed)
                }
            }
            finished.signal()
        }
        writer.start()
        // Page only once inserts are under way, so they interleave with the pages.
        while inserted.load(ordering: .relaxed) == 0 { usleep(500) }
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try inbox.listInbox(inbox.supplierA, pageSize: 4, token: token)
            seen += page.requests.map(\.id)
            token = page.nextPageToken
            usleep(2_000)
        } while !token.isEmpty
        finished.wait()
        #expect(inserted.load(ordering: .relaxed) == 90)
        #expect(Set(seen).count == seen.count, "duplicates in \(seen)")
        #expect(Set(initial).isSubset(of: Set(seen)), "missing \(Set(initial).subtracting(seen))")
    }
}
