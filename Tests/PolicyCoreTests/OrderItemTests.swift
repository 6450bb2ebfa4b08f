import PolicyCore
import Testing

@Suite("OrderItem")
struct OrderItemTests {
    @Test func aCompleteItemIsValid() throws {
        try Fixture.item().validate()
    }

    @Test func supplierAndTierAreOptional() throws {
        try Fixture.item(supplier: nil, tier: nil).validate()
    }

    @Test func refusesMissingIdsByName() throws {
        #expect {
            try Fixture.item("").validate()
        } throws: { error in
            (error as? PolicyError)?.field == "order_item_id"
        }
        #expect {
            try Fixture.item(product: "").validate()
        } throws: { error in
            (error as? PolicyError)?.field == "product_id"
        }
        #expect {
            try Fixture.item(String(repeating: "x", count: 129)).validate()
        } throws: { error in
            (error as? PolicyError)?.code == .outOfRange
        }
    }

    @Test(arguments: [Int64(0), -100, 1_000_000_000_000_001])
    func refusesZeroNegativeAndAbsurdAmounts(amount: Int64) throws {
        #expect {
            try Fixture.item(amount: amount).validate()
        } throws: { error in
            (error as? PolicyError)?.field == "line_amount"
        }
    }

    @Test func refusesAMissingOrderTime() throws {
        #expect {
            try Fixture.item(at: 0).validate()
        } throws: { error in
            (error as? PolicyError)?.field == "order_time_unix_micros"
        }
    }
}
