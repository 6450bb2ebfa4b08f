import Testing
@testable import O4OCtl

@Suite struct OutputTableTests {
    @Test func columnsAlignAndEmptyCellsShowADash() {
        var table = OutputTable("id", "status")
        table.append(["r-1", "APPROVED"])
        table.append(["request-22", ""])
        #expect(table.text == """
            ID          STATUS
            r-1         APPROVED
            request-22  -
            """)
    }
}
