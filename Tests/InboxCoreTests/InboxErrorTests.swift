import InboxCore
import Testing

@Suite struct InboxErrorTests {
    @Test func codesCarryTheGRPCNumbersTheWireUses() {
        #expect(InboxError.Code.invalidArgument.rawValue == 3)
        #expect(InboxError.Code.notFound.rawValue == 5)
        #expect(InboxError.Code.permissionDenied.rawValue == 7)
        #expect(InboxError.Code.resourceExhausted.rawValue == 8)
        #expect(InboxError.Code.failedPrecondition.rawValue == 9)
    }

    @Test func invalidArgumentNamesTheFieldFirst() {
        let error = InboxError.invalidArgument(field: "seller_id", "must not be empty")
        #expect(error.message == "seller_id: must not be empty")
        #expect(error.description == "INVALID_ARGUMENT: seller_id: must not be empty")
        #expect(error.retryAfterUnixMicros == nil)
    }
}
