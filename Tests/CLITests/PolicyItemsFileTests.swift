import Foundation
import Proto
import Testing
@testable import O4OCtl

@Suite struct PolicyItemsFileTests {
    @Test func anObjectCarriesBatchIDAndItemsWithISOTimes() throws {
        let file = try PolicyItemsFile.decode(Data("""
            {"batch_id": "settle-1", "items": [{"order_item_id": "oi-1", "product_id": "p-1", "seller_id": "sel-1",
              "line_amount": 129900, "currency": "KRW", "order_time": "2025-03-01T09:30:00Z"}]}
            """.utf8))
        #expect(file.batchId == "settle-1")
        #expect(file.items == [PolicyV1.OrderItem(
            orderItemId: "oi-1", productId: "p-1", sellerId: "sel-1", lineAmount: 129_900, currency: "KRW",
            orderTimeUnixMicros: 1_740_821_400_000_000
        )])
    }

    @Test func aBareArrayIsAcceptedWithMicros() throws {
        let file = try PolicyItemsFile.decode(Data("""
             [{"order_item_id": "a", "product_id": "p", "line_amount": 1, "currency": "USD", "order_time_unix_micros": 5}]
            """.utf8))
        #expect(file.batchId == nil)
        #expect(file.items.first?.orderTimeUnixMicros == 5)
    }

    @Test func fractionalMoneyIsRefusedNamingTheItem() {
        do {
            _ = try PolicyItemsFile.decode(Data(#"[{"order_item_id": "a"}, {"line_amount": 12.5}]"#.utf8))
            Issue.record("12.5 minor units must be refused")
        } catch {
            #expect(error.field == "items[1].line_amount")
        }
    }

    @Test func aBadOrderTimeNamesTheItem() {
        do {
            _ = try PolicyItemsFile.decode(Data(#"{"items": [{"order_time": "March 1st"}]}"#.utf8))
            Issue.record("a free-text time must be refused")
        } catch {
            #expect(error.field == "items[0].order_time")
        }
    }

    @Test func bothTimeSpellingsAtOnceAreRefused() {
        #expect(throws: CLIError.self) {
            try PolicyItemsFile.decode(Data(#"[{"order_time": "2025-01-01", "order_time_unix_micros": 1}]"#.utf8))
        }
    }

    @Test func recordTakesTheBatchFromTheFileUnlessTheOptionSaysOtherwise() throws {
        let file = PolicyItemsFile(batchId: "from-file", items: [PolicyV1.OrderItem(orderItemId: "a")])
        #expect(try PolicyCommand.Record.parse(["--file", "x"]).makeRequest(file: file).batchId == "from-file")
        #expect(try PolicyCommand.Record.parse(["--file", "x", "--batch-id", "b2", "--recalculate"]).makeRequest(file: file).recalculate)
        let anonymous = PolicyItemsFile(batchId: nil, items: file.items)
        #expect(throws: CLIError.self) { try PolicyCommand.Record.parse(["--file", "x"]).makeRequest(file: anonymous) }
    }
}
