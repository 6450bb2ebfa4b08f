@testable import PolicyService
import PolicyCore
import Proto
import Testing
import Wire

/// Turning request items into PolicyCore items, with per-item failures named by index.
@Suite struct PreparedBatchTests {
    private func item(_ id: String, product: String = "p", amount: Int64 = 100, currency: String = "USD",
                      supplier: String = "", seller: String = "", tier: String = "") -> PolicyV1.OrderItem {
        PolicyV1.OrderItem(orderItemId: id, productId: product, supplierId: supplier, sellerId: seller, sellerTier: tier,
                           lineAmount: amount, currency: currency, orderTimeUnixMicros: 1_762_473_600_000_000)
    }

    @Test func invalidItemsFailAloneWithTheirIndexAndField() {
        let batch = PreparedBatch([item("a"), item("b", amount: 0), item("", product: "p"), item("d", currency: "usd")], naming: .batch)
        #expect(batch.items[0] != nil)
        #expect(batch.failures[1]?.message.hasPrefix("items[1].line_amount") == true)
        #expect(batch.failures[2]?.message.hasPrefix("items[2].order_item_id") == true)
        #expect(batch.failures[3]?.message.hasPrefix("items[3].currency") == true)
        #expect(batch.failures[1]?.code == .invalidArgument)
        #expect(batch.firstFailure?.message.hasPrefix("items[1]") == true)
    }

    @Test func singleItemIsNamedItem() {
        let batch = PreparedBatch([item("a", amount: -1)], naming: .single)
        #expect(batch.failures[0]?.message.hasPrefix("item.line_amount") == true)
    }

    @Test func catalogCompletesSupplierAndTierAndRefusesUnknownIDs() {
        var batch = PreparedBatch([
            item("a", product: "p1"), item("b", product: "p1", supplier: "s-given"), item("c", product: "p-missing"),
            item("d", product: "p1", supplier: "s-missing"), item("e", product: "p1", seller: "sel"),
            item("f", product: "p1", seller: "sel-missing"), item("g", product: "p1", seller: "sel", tier: "GIVEN"),
        ], naming: .batch)
        let questions = batch.catalogQuestions
        #expect(questions.products == ["p1", "p-missing"])
        #expect(questions.givenSuppliers == ["s-given", "s-missing"])
        #expect(questions.sellers == ["sel", "sel-missing"])
        batch.complete(with: CatalogLookup(productSuppliers: ["p1": "s-catalog"], knownSuppliers: ["s-given"], sellerTiers: ["sel": "GOLD"]))
        #expect(batch.items[0]?.supplierID == "s-catalog")
        #expect(batch.items[1]?.supplierID == "s-given")
        #expect(batch.failures[2]?.code == .notFound)
        #expect(batch.failures[2]?.message.hasPrefix("items[2].product_id") == true)
        #expect(batch.failures[3]?.message.hasPrefix("items[3].supplier_id") == true)
        #expect(batch.items[4]?.sellerTier == "GOLD")
        #expect(batch.failures[5]?.message.hasPrefix("items[5].seller_id") == true)
        #expect(batch.items[6]?.sellerTier == "GIVEN")
    }

    @Test func shapeRefusesEmptyOversizedAndDuplicateBatches() {
        #expect(throws: RPCError.self) { try PreparedBatch.checkShape([]) }
        #expect(throws: RPCError.self) { try PreparedBatch.checkShape((0...PreparedBatch.maximumItems).map { item("i\($0)") }) }
        do {
            try PreparedBatch.checkShape([item("x"), item("y"), item("x")])
            Issue.record("a duplicate order_item_id was accepted")
        } catch {
            #expect(error.message.hasPrefix("items[2].order_item_id"))
            #expect(error.message.contains("items[0]"))
        }
    }
}
