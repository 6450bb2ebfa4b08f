import Testing

@testable import GateCore

@Suite("GateCheck")
struct GateCheckTests {
    private func failure(
        seller: String = "s-1", product: String = "p-1", stage: GateStage? = .cart, orderTime: Int64 = 0, prefix: String = ""
    ) -> GateRequestError? {
        do {
            _ = try GateCheck.validated(
                sellerId: seller, productId: product, stage: stage, orderTimeMicros: orderTime, fieldPrefix: prefix)
            return nil
        } catch {
            return error
        }
    }

    @Test func aWellFormedItemIsAccepted() throws {
        let check = try GateCheck.validated(sellerId: "s-1", productId: "p-1", stage: .settlement, orderTimeMicros: 42)
        #expect(check.orderTimeMicros == 42)
        #expect(check.cacheKey == "sa:v1:{s-1}:p-1")
        let now = try GateCheck.validated(sellerId: "s-1", productId: "p-1", stage: .cart, orderTimeMicros: 0)
        #expect(now.orderTimeMicros == nil)
    }

    @Test func emptyIdsNameTheirField() {
        #expect(failure(seller: "")?.field == "seller_id")
        #expect(failure(product: "")?.description == "product_id: required")
    }

    @Test func overlongAndControlCharacterIdsAreRefused() {
        #expect(failure(product: String(repeating: "p", count: 129))?.field == "product_id")
        #expect(failure(product: String(repeating: "제", count: 128)) == nil)
        #expect(failure(seller: "s\n1")?.field == "seller_id")
    }

    @Test func aMissingStageIsRefused() {
        #expect(failure(stage: nil)?.field == "stage")
    }

    @Test func anOrderTimeBelongsToSettlementOnly() {
        #expect(failure(stage: .cart, orderTime: 5)?.field == "order_time_unix_micros")
        #expect(failure(stage: .order, orderTime: 5)?.field == "order_time_unix_micros")
        #expect(failure(stage: .settlement, orderTime: -5)?.field == "order_time_unix_micros")
        #expect(failure(stage: .settlement, orderTime: 5) == nil)
    }

    @Test func batchItemErrorsCarryTheirPath() {
        let error = failure(stage: nil, prefix: "items[3].")
        #expect(error?.description == "items[3].stage: required: CART, ORDER or SETTLEMENT")
        #expect(error?.code == .invalidArgument)
    }

    @Test func batchesHoldOneToFiveHundredItems() throws {
        try GateCheck.validateBatchSize(1)
        try GateCheck.validateBatchSize(500)
        #expect(throws: GateRequestError.invalidArgument(field: "items", "at most 500 items, got 501")) {
            try GateCheck.validateBatchSize(501)
        }
        #expect(throws: GateRequestError.self) { try GateCheck.validateBatchSize(0) }
    }
}
