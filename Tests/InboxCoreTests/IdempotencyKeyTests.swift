import InboxCore
import Testing

@Suite struct IdempotencyKeyTests {
    @Test(arguments: ["k", "0190f3a2-7b1c-7def-8abc-0123456789ab", "01J9ZC3V7Q2K8T6M4N5P0R1S2T", "portal:42.retry_1", String(repeating: "x", count: 128)])
    func acceptsUUIDsULIDsAndPortalSchemes(raw: String) throws {
        #expect(try IdempotencyKey(validating: raw).rawValue == raw)
    }

    @Test func emptyKeyIsRequired() {
        let error = #expect(throws: InboxError.self) { try IdempotencyKey(validating: "") }
        #expect(error?.message.hasPrefix("idempotency_key: required") == true)
    }

    @Test func keyLongerThan128IsRefused() {
        let error = #expect(throws: InboxError.self) { try IdempotencyKey(validating: String(repeating: "x", count: 129)) }
        #expect(error?.message == "idempotency_key: longer than 128 characters")
    }

    @Test(arguments: ["has space", "tab\t", "slash/", "ключ", "semi;colon"])
    func charactersOutsideTheSetAreRefusedWithTheirOffset(raw: String) {
        let error = #expect(throws: InboxError.self) { try IdempotencyKey(validating: raw) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("outside [A-Za-z0-9._:-]") == true)
    }
}
