import InboxCore
import Testing

@Suite struct RequestIDTests {
    @Test func parsesAndPrintsTheCanonicalLowercaseForm() throws {
        let id = try RequestID(parsing: "0190F3A2-7B1C-7DEF-8ABC-0123456789AB")
        #expect(id.description == "0190f3a2-7b1c-7def-8abc-0123456789ab")
        #expect(id.high == 0x0190_f3a2_7b1c_7def)
        #expect(id.low == 0x8abc_0123_4567_89ab)
        #expect(RequestID(bytes: id.bytes) == id)
    }

    @Test(arguments: ["", "not-a-uuid", "0190f3a27b1c7def8abc0123456789ab", "0190f3a2-7b1c-7def-8abc-0123456789ag", "0190f3a2_7b1c-7def-8abc-0123456789ab"])
    func malformedIdsAreRefusedNamingTheField(text: String) {
        let error = #expect(throws: InboxError.self) { try RequestID(parsing: text, field: "id") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("id: must be a UUID") == true)
    }

    @Test func orderIsByteOrderLikePostgreSQL() throws {
        let a = try RequestID(parsing: "00000000-0000-0000-ffff-ffffffffffff")
        let b = try RequestID(parsing: "00000000-0000-0001-0000-000000000000")
        #expect(a < b)
    }

    @Test func bytesOfTheWrongLengthAreNoID() {
        #expect(RequestID(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }
}
