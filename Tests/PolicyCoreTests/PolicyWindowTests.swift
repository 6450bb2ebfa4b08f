import PolicyCore
import Testing

@Suite("PolicyWindow")
struct PolicyWindowTests {
    @Test func startIsInclusiveAndEndExclusive() throws {
        let window = try PolicyWindow(start: 100, end: 200)
        #expect(!window.contains(99))
        #expect(window.contains(100))
        #expect(window.contains(199))
        #expect(!window.contains(200))
    }

    @Test func openEndsReachForever() throws {
        #expect(PolicyWindow.unbounded.contains(.min))
        #expect(PolicyWindow.unbounded.contains(.max))
        #expect(try PolicyWindow(start: nil, end: 10).contains(.min))
        #expect(try PolicyWindow(start: 10, end: nil).contains(.max))
    }

    @Test(arguments: [(Int64(200), Int64(200)), (200, 100)])
    func refusesAnEmptyOrBackwardWindowNamingValidUntil(start: Int64, end: Int64) {
        #expect {
            try PolicyWindow(start: start, end: end)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .invalidWindow && error?.field == "valid_until_unix_micros"
        }
    }

    @Test func windowsThatOnlyTouchDoNotOverlap() throws {
        let thisYear = try PolicyWindow(start: 0, end: 100)
        let nextYear = try PolicyWindow(start: 100, end: 200)
        #expect(!thisYear.overlaps(nextYear))
        #expect(!nextYear.overlaps(thisYear))
    }

    @Test func sharedInstantsOverlap() throws {
        let a = try PolicyWindow(start: 0, end: 101)
        let b = try PolicyWindow(start: 100, end: 200)
        #expect(a.overlaps(b))
        #expect(b.overlaps(a))
        let inner = try PolicyWindow(start: 120, end: 130)
        #expect(b.overlaps(inner))
        #expect(inner.overlaps(b))
    }

    @Test func openWindowsOverlapEverythingOnTheirSide() throws {
        let fromFifty = try PolicyWindow(start: 50, end: nil)
        let untilFifty = try PolicyWindow(start: nil, end: 50)
        #expect(PolicyWindow.unbounded.overlaps(fromFifty))
        #expect(fromFifty.overlaps(try PolicyWindow(start: 1_000, end: 1_001)))
        #expect(!fromFifty.overlaps(untilFifty))
        #expect(untilFifty.overlaps(try PolicyWindow(start: nil, end: 1)))
    }
}
