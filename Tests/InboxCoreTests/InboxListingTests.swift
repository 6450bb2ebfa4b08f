import InboxCore
import Testing

@Suite struct InboxListingTests {
    @Test func emptyProductMeansEveryProduct() throws {
        #expect(try InboxListing(owner: .supplier("sup-1"), statuses: [], productId: "").productId == nil)
    }

    @Test func statusesAreDeduplicatedIntoCanonicalOrder() throws {
        let listing = try InboxListing(owner: .supplier("sup-1"), statuses: [.revoked, .requested, .revoked], productId: nil)
        #expect(listing.statuses == [.requested, .revoked])
    }

    @Test func ownerIdsAreValidatedNamingTheirField() {
        let supplier = #expect(throws: InboxError.self) { try InboxListing(owner: .supplier(""), statuses: [], productId: nil) }
        #expect(supplier?.message == "supplier_id: must not be empty")
        let seller = #expect(throws: InboxError.self) { try InboxListing(owner: .seller(String(repeating: "s", count: 129)), statuses: [], productId: nil) }
        #expect(seller?.message == "seller_id: longer than 128 characters")
        let product = #expect(throws: InboxError.self) { try InboxListing(owner: .seller("s-1"), statuses: [], productId: " p") }
        #expect(product?.message == "product_id: has leading or trailing whitespace")
    }

    @Test func fingerprintSeparatesFields() throws {
        // "sup-1" + product "x" must not collide with an owner spelled to absorb the product.
        let a = try InboxListing(owner: .supplier("sup-1"), statuses: [], productId: "x")
        let b = try InboxListing(owner: .supplier("sup-1x"), statuses: [], productId: nil)
        #expect(a.fingerprint != b.fingerprint)
    }

    @Test func fingerprintIsStableAcrossReleases() throws {
        // Tokens outlive processes: this value must never change for format version 1.
        let listing = try InboxListing(owner: .supplier("sup-1"), statuses: [.requested], productId: nil)
        #expect(listing.fingerprint == InboxListingTests.pinnedFingerprint)
    }

    /// FNV-1a 64 of "supplier\0sup-1\0REQUESTED\0\0", computed independently.
    static let pinnedFingerprint: UInt64 = 7_660_903_821_169_563_855
}
