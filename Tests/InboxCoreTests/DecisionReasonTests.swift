import InboxCore
import Testing

@Suite struct DecisionReasonTests {
    @Test(arguments: [InboxAction.reject, .revoke])
    func rejectAndRevokeRequireAReason(action: InboxAction) {
        for blank in ["", "   ", "\n\t"] {
            let error = #expect(throws: InboxError.self) { try DecisionReason(validating: blank, for: action) }
            #expect(error?.message == "reason: required to \(action)")
        }
    }

    @Test func approveMayOmitTheReason() throws {
        #expect(try DecisionReason(validating: "", for: .approve).text == "")
    }

    @Test func reasonIsTrimmedAndMayHoldLineBreaks() throws {
        #expect(try DecisionReason(validating: "  pricing breach\nsee ticket 12 ", for: .revoke).text == "pricing breach\nsee ticket 12")
    }

    @Test func reasonAtTheLengthBoundary() throws {
        #expect(try DecisionReason(validating: String(repeating: "é", count: 500), for: .reject).text.count == 500)
        let error = #expect(throws: InboxError.self) {
            try DecisionReason(validating: String(repeating: "é", count: 501), for: .reject)
        }
        #expect(error?.message == "reason: longer than 500 characters")
    }

    @Test func controlCharactersAreRefused() {
        #expect(throws: InboxError.self) { try DecisionReason(validating: "bad\u{07}bell", for: .reject) }
    }

    @Test(arguments: [InboxAction.request, .cancel])
    func actionsWithoutReasonsRefuseOne(action: InboxAction) throws {
        #expect(throws: InboxError.self) { try DecisionReason(validating: "because", for: action) }
        #expect(try DecisionReason(validating: "", for: action).text.isEmpty)
    }
}
