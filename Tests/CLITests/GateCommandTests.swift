import Proto
import Testing
@testable import O4OCtl

@Suite struct GateCommandTests {
    @Test func checkMapsOptionsToTheRequest() throws {
        let command = try GateCommand.Check.parse([
            "--seller", "sel-1", "--product", "p-1", "--stage", "settlement", "--order-time", "2025-03-01T09:30:00Z",
        ])
        #expect(try command.makeRequest() == GateV1.CheckRequest(
            sellerId: "sel-1", productId: "p-1", stage: .settlement, orderTimeUnixMicros: 1_740_821_400_000_000
        ))
    }

    @Test func anOrderTimeOutsideSettlementIsAUsageError() {
        #expect(throws: (any Error).self) {
            try GateCommand.Check.parse(["--seller", "s", "--product", "p", "--stage", "cart", "--order-time", "now"])
        }
    }

    @Test func settlementChecksPresentTheSettlementCredential() {
        #expect(GateCommand.defaultCaller(for: .settlement) == .settlement)
        #expect(GateCommand.defaultCaller(for: .cart) == .checkout)
    }

    @Test func productsListBecomesItemsOfTheBatchSeller() throws {
        let command = try GateCommand.CheckBatch.parse(["--seller", "sel-1", "--products", "p-1, p-2,,p-3", "--stage", "cart"])
        let request = try command.makeRequest(fileText: nil)
        #expect(request.sellerId == "sel-1")
        #expect(request.items.map(\.productId) == ["p-1", "p-2", "p-3"])
        #expect(request.items.allSatisfy { $0.stage == .cart && $0.sellerId.isEmpty })
    }

    @Test func fileLinesMayNameSellerStageAndOrderTime() throws {
        let items = try GateCommand.CheckBatch.parseItems("""
            # cart of 2025-03-01
            p-1
            sel-2 p-2
            sel-3,p-3,settlement,2025-03-01T09:30:00Z

            """, defaultStage: .order, defaultOrderTime: 0)
        #expect(items == [
            GateV1.CheckItem(productId: "p-1", stage: .order),
            GateV1.CheckItem(sellerId: "sel-2", productId: "p-2", stage: .order),
            GateV1.CheckItem(sellerId: "sel-3", productId: "p-3", stage: .settlement, orderTimeUnixMicros: 1_740_821_400_000_000),
        ])
    }

    @Test func fileErrorsNameTheLine() {
        do {
            _ = try GateCommand.CheckBatch.parseItems("p-1\nsel p-2 checkout", defaultStage: .cart, defaultOrderTime: 0)
            Issue.record("an unknown stage must be refused")
        } catch {
            #expect(error.field == "--file line 2")
        }
        #expect(throws: CLIError.self) { try GateCommand.CheckBatch.parseItems("p-1", defaultStage: nil, defaultOrderTime: 0) }
    }

    @Test func productsAndFileAreExclusive() {
        #expect(throws: (any Error).self) { try GateCommand.CheckBatch.parse(["--products", "p", "--file", "f", "--stage", "cart"]) }
        #expect(throws: (any Error).self) { try GateCommand.CheckBatch.parse(["--stage", "cart"]) }
    }
}
