import Testing

@testable import GateCore

@Suite("AuthorizationCacheEntry")
struct AuthorizationCacheEntryTests {
    static let wellFormed: [(state: AuthorizationState, encoded: String)] = [
        (.notRequested, "0|NOT_REQUESTED||"),
        (AuthorizationState(version: 7, status: .pending), "7|REQUESTED||"),
        (AuthorizationState(version: 8, status: .approved(sinceMicros: 1_763_900_000_000_000)), "8|APPROVED|1763900000000000|"),
        (AuthorizationState(version: 3, status: .rejected), "3|REJECTED||"),
        (AuthorizationState(version: 4, status: .cancelled), "4|CANCELLED||"),
        (
            AuthorizationState(version: 9, status: .revoked(approvedAtMicros: 1_763_900_000_000_000, revokedAtMicros: 1_763_990_000_000_000)),
            "9|REVOKED|1763900000000000|1763990000000000"
        ),
        (AuthorizationState(version: .max, status: .approved(sinceMicros: 0)), "9223372036854775807|APPROVED|0|"),
        (AuthorizationState(version: 5, status: .revoked(approvedAtMicros: 10, revokedAtMicros: 10)), "5|REVOKED|10|10"),
    ]

    @Test("encodes to the documented format and decodes back", arguments: wellFormed)
    func roundTrips(state: AuthorizationState, encoded: String) {
        let entry = AuthorizationCacheEntry(state: state)
        #expect(entry.encoded == encoded)
        #expect(AuthorizationCacheEntry(encoded: encoded)?.state == state)
        #expect(AuthorizationCacheEntry(encodedBytes: Array(encoded.utf8))?.state == state)
    }

    static let corrupt: [String] = [
        "",
        "|||",
        "garbage",
        "8|APPROVED|1763900000000000",  // three fields
        "8|APPROVED|1763900000000000||",  // five fields
        "08|APPROVED|1|",  // leading zero
        "+8|APPROVED|1|",  // sign
        "-8|APPROVED|1|",
        " 8|APPROVED|1|",  // blank
        "8|approved|1|",  // case
        "8|GRANTED|1|",  // unknown status
        "8|APPROVED||",  // approval without its time
        "8|APPROVED|1|2",  // approval with a revocation time
        "8|APPROVED|01|",
        "8|APPROVED|-1|",
        "9|REVOKED|1|",  // revocation without its time
        "9|REVOKED|5|4",  // revoked before approved
        "7|REQUESTED|1|",  // time on a status without times
        "3|REJECTED||1",
        "0|APPROVED|1|",  // version 0 is never requested
        "5|NOT_REQUESTED||",  // ... and never requested is version 0
        "9223372036854775808|REQUESTED||",  // beyond Int64
        "8|APPROVED|99999999999999999999|",
        "1|REQUESTED||" + String(repeating: " ", count: 100),  // overlong
    ]

    @Test("corrupt values decode as nil (a cache miss)", arguments: corrupt)
    func refusesCorruptValues(value: String) {
        #expect(AuthorizationCacheEntry(encoded: value) == nil)
    }

    @Test func refusesBytesThatAreNotUTF8() {
        #expect(AuthorizationCacheEntry(encodedBytes: [0x38, 0x7C, 0xFF, 0x7C, 0x7C]) == nil)
    }

    @Test func theVersionPrefixIsWhatTheScriptReads() {
        // The compare-and-set script requires ARGV[2] to start with "<version>|".
        let entry = AuthorizationCacheEntry(state: AuthorizationState(version: 42, status: .pending))
        #expect(entry.encoded.hasPrefix("42|"))
    }
}
