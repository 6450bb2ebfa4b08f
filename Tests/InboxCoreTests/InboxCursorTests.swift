import InboxCore
import Testing

@Suite struct InboxCursorTests {
    let listing: InboxListing
    let key: InboxSortKey

    init() throws {
        listing = try InboxListing(owner: .supplier("sup-1"), statuses: [.requested], productId: nil)
        key = InboxSortKey(
            status: .requested,
            createdAtUnixMicros: 1_767_225_600_123_456,
            requestID: try RequestID(parsing: "0190f3a2-7b1c-7def-8abc-0123456789ab")
        )
    }

    @Test func tokenRoundTripsToTheSamePosition() throws {
        let token = InboxCursor(after: key, listing: listing).token
        let decoded = try InboxCursor.decode(token, for: listing)
        #expect(decoded?.after == key)
        #expect(decoded?.listingFingerprint == listing.fingerprint)
    }

    @Test func tokenIsCompactURLSafeText() {
        let token = InboxCursor(after: key, listing: listing).token
        #expect(token.count == 51)
        #expect(token.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) })
    }

    @Test func emptyTokenMeansTheFirstPage() throws {
        #expect(try InboxCursor.decode("", for: listing) == nil)
    }

    @Test func everySingleCharacterChangeIsRefused() {
        let token = Array(InboxCursor(after: key, listing: listing).token)
        for index in token.indices {
            var altered = token
            altered[index] = altered[index] == "A" ? "B" : "A"
            let error = #expect(throws: InboxError.self) { try InboxCursor.decode(String(altered), for: listing) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("page_token:") == true)
        }
    }

    @Test func truncatedTokenIsRefused() {
        let token = InboxCursor(after: key, listing: listing).token
        for length in [1, 2, 10, 50] {
            #expect(throws: InboxError.self) { try InboxCursor.decode(String(token.prefix(length)), for: listing) }
        }
    }

    @Test(arguments: ["not a token", "====", "AAAA=", "a+b/"])
    func garbageIsRefusedNamingPageToken(garbage: String) {
        let error = #expect(throws: InboxError.self) { try InboxCursor.decode(garbage, for: listing) }
        #expect(error?.message.hasPrefix("page_token:") == true)
    }

    @Test func tokenFromAnotherListingIsRefused() throws {
        let token = InboxCursor(after: key, listing: listing).token
        let otherSupplier = try InboxListing(owner: .supplier("sup-2"), statuses: [.requested], productId: nil)
        let otherFilter = try InboxListing(owner: .supplier("sup-1"), statuses: [], productId: nil)
        let sellerListing = try InboxListing(owner: .seller("sup-1"), statuses: [.requested], productId: nil)
        for other in [otherSupplier, otherFilter, sellerListing] {
            let error = #expect(throws: InboxError.self) { try InboxCursor.decode(token, for: other) }
            #expect(error?.message.contains("different listing") == true)
        }
    }

    @Test func statusFilterOrderDoesNotChangeTheListing() throws {
        let a = try InboxListing(owner: .seller("s-1"), statuses: [.approved, .requested, .approved], productId: "")
        let b = try InboxListing(owner: .seller("s-1"), statuses: [.requested, .approved], productId: nil)
        #expect(a == b)
        #expect(a.fingerprint == b.fingerprint)
        let token = InboxCursor(after: key, listing: a).token
        #expect(try InboxCursor.decode(token, for: b)?.after == key)
    }

    @Test func roundTripHoldsAtTheExtremesOfTheKey() throws {
        let extremes = [
            InboxSortKey(statusRank: 0, createdAtUnixMicros: 0, requestID: RequestID(high: 0, low: 0)),
            InboxSortKey(statusRank: 1, createdAtUnixMicros: .max, requestID: RequestID(high: .max, low: .max)),
        ]
        for extreme in extremes {
            let token = InboxCursor(after: extreme, listing: listing).token
            #expect(try InboxCursor.decode(token, for: listing)?.after == extreme)
        }
    }
}
