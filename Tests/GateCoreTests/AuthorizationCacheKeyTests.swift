import Testing

@testable import GateCore

@Suite("AuthorizationCacheKey")
struct AuthorizationCacheKeyTests {
    @Test func isTheContractKeyWithTheSellerAsHashTag() {
        #expect(AuthorizationCacheKey.make(seller: "s-1", product: "p-1") == "sa:v1:{s-1}:p-1")
        #expect(
            AuthorizationCacheKey.make(seller: "550e8400-e29b-41d4-a716-446655440000", product: "prod:with:colons")
                == "sa:v1:{550e8400-e29b-41d4-a716-446655440000}:prod:with:colons")
    }

    @Test func escapesClosingBracesAndPercentInTheSeller() {
        #expect(AuthorizationCacheKey.make(seller: "a}b", product: "p") == "sa:v1:{a%7Db}:p")
        #expect(AuthorizationCacheKey.make(seller: "50%", product: "p") == "sa:v1:{50%25}:p")
    }

    @Test func pairsThatWouldCollideUnescapedGetDistinctKeys() {
        // Unescaped, both would be "sa:v1:{a}:x}:y".
        let first = AuthorizationCacheKey.make(seller: "a", product: "x}:y")
        let second = AuthorizationCacheKey.make(seller: "a}:x", product: "y")
        #expect(first != second)
        // And an escape sequence typed by hand does not collide with an escaped brace.
        #expect(AuthorizationCacheKey.make(seller: "a%7D", product: "p") != AuthorizationCacheKey.make(seller: "a}", product: "p"))
    }
}
