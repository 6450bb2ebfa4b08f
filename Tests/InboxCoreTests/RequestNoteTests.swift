import InboxCore
import Testing

@Suite struct RequestNoteTests {
    @Test func noteIsOptionalAndTrimmed() throws {
        #expect(try RequestNote(validating: "").text == "")
        #expect(try RequestNote(validating: " we sell 200 units a month ").text == "we sell 200 units a month")
    }

    @Test func noteLongerThanAThousandCharactersIsRefused() throws {
        #expect(try RequestNote(validating: String(repeating: "n", count: 1_000)).text.count == 1_000)
        let error = #expect(throws: InboxError.self) { try RequestNote(validating: String(repeating: "n", count: 1_001)) }
        #expect(error?.message == "note: longer than 1000 characters")
    }
}
