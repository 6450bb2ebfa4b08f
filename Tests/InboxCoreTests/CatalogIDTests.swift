import InboxCore
import Testing

@Suite struct CatalogIDTests {
    @Test func acceptsOpaqueIdsUpToTheCatalogBound() throws {
        #expect(try CatalogID.validate("p-1", field: "product_id") == "p-1")
        #expect(try CatalogID.validate(String(repeating: "p", count: 128), field: "product_id").count == 128)
    }

    @Test func refusesWhatTheCatalogWouldRefuseNamingTheField() {
        let long = #expect(throws: InboxError.self) { try CatalogID.validate(String(repeating: "p", count: 129), field: "product_id") }
        #expect(long?.message == "product_id: longer than 128 characters")
        let control = #expect(throws: InboxError.self) { try CatalogID.validate("p\u{0}1", field: "seller_id") }
        #expect(control?.message == "seller_id: contains control characters")
    }
}
