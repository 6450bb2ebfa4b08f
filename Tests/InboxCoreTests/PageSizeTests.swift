import InboxCore
import Testing

@Suite struct PageSizeTests {
    @Test func zeroMeansTheDefault() throws {
        #expect(try PageSize(requested: 0).value == PageSize.defaultSize)
    }

    @Test func sizesAboveTheMaximumAreLowered() throws {
        #expect(try PageSize(requested: 200).value == 200)
        #expect(try PageSize(requested: 201).value == 200)
        #expect(try PageSize(requested: .max).value == 200)
    }

    @Test func negativeSizeIsRefusedNamingTheField() {
        let error = #expect(throws: InboxError.self) { try PageSize(requested: -1) }
        #expect(error?.message.hasPrefix("page_size:") == true)
    }
}
