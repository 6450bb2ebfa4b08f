import Testing
@testable import Wire

@Suite struct CredentialStoreTests {
    let store = try! CredentialStore([
        .checkout: "checkout-secret-0123456789",
        .operator: "operator-secret-0123456789",
    ])

    @Test func identifiesTheCallerBySecret() {
        #expect(store.authenticate("checkout-secret-0123456789") == .checkout)
        #expect(store.authenticate("operator-secret-0123456789") == .operator)
    }

    @Test func refusesUnknownAndPrefixSecrets() {
        #expect(store.authenticate("checkout-secret-012345678") == nil)
        #expect(store.authenticate("checkout-secret-01234567890") == nil)
        #expect(store.authenticate("") == nil)
    }

    @Test func constantTimeEqualityIsPlainEquality() {
        #expect(CredentialStore.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!CredentialStore.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!CredentialStore.constantTimeEquals([1, 2, 3], [1, 2, 3, 0]))
        #expect(!CredentialStore.constantTimeEquals([], [0]))
    }

    @Test func parsesTheCredentialsFile() throws {
        let parsed = try CredentialStore(fileContents: """
            # local credentials
            checkout:aaaaaaaaaaaaaaaaaaaa

            settlement:bbbbbbbbbbbbbbbbbbbb
            """)
        #expect(parsed.authenticate("bbbbbbbbbbbbbbbbbbbb") == .settlement)
        #expect(Set(parsed.callers) == [.checkout, .settlement])
    }

    @Test func refusesShortSecretsAndDuplicateCallers() {
        #expect(throws: CredentialError.self) { try CredentialStore([.checkout: "short"]) }
        #expect(throws: CredentialError.self) {
            try CredentialStore(fileContents: "checkout:aaaaaaaaaaaaaaaaaaaa\ncheckout:bbbbbbbbbbbbbbbbbbbb")
        }
        #expect(throws: CredentialError.self) { try CredentialStore(fileContents: "no-colon-here") }
    }
}
