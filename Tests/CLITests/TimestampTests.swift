import Testing
@testable import O4OCtl

@Suite struct TimestampTests {
    @Test func utcInstantWithMicrosecondsParsesExactly() throws {
        #expect(try Timestamp.parseMicros("2025-03-01T09:30:00.123456Z", field: "t") == 1_740_821_400_123_456)
    }

    @Test func offsetsAreConvertedToUTC() throws {
        let utc = try Timestamp.parseMicros("2025-03-01T09:30:00Z", field: "t")
        #expect(try Timestamp.parseMicros("2025-03-01T18:30:00+09:00", field: "t") == utc)
        #expect(try Timestamp.parseMicros("2025-03-01T18:30:00+0900", field: "t") == utc)
        #expect(try Timestamp.parseMicros("2025-03-01T04:30:00-05", field: "t") == utc)
    }

    @Test func shortFractionsArePaddedAndNanosecondsTruncated() throws {
        #expect(try Timestamp.parseMicros("1970-01-01T00:00:00.5Z", field: "t") == 500_000)
        #expect(try Timestamp.parseMicros("1970-01-01T00:00:00.123456789Z", field: "t") == 123_456)
    }

    @Test func dateAloneMeansMidnightUTC() throws {
        #expect(try Timestamp.parseMicros("2024-02-29", field: "t") == 1_709_164_800_000_000)
    }

    @Test func rawMicrosAndNowAreAccepted() throws {
        #expect(try Timestamp.parseMicros("1740821400000000", field: "t") == 1_740_821_400_000_000)
        #expect(try Timestamp.parseMicros("now", field: "t", now: { 42 }) == 42)
    }

    @Test(arguments: [
        "2025-03-01T09:30:00", "2025-02-30", "2025-13-01", "2025-03-01T24:00:00Z", "yesterday", "", "2025-3-1",
        "2025-03-01T09:30:00Zjunk", "2023-02-29",
    ])
    func malformedOrZonelessTextIsRefusedNamingTheField(_ text: String) {
        #expect(throws: CLIError.self) { try Timestamp.parseMicros(text, field: "--order-time") }
        do {
            _ = try Timestamp.parseMicros(text, field: "--order-time")
        } catch {
            #expect(error.field == "--order-time")
        }
    }

    @Test func formattingIsUTCWithSixFractionDigits() {
        #expect(Timestamp.iso8601(micros: 1_740_821_400_123_456) == "2025-03-01T09:30:00.123456Z")
        #expect(Timestamp.iso8601(micros: 0) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp.iso8601(micros: -1) == "1969-12-31T23:59:59.999999Z")
    }

    @Test func formattingRoundTripsThroughParsing() throws {
        for micros: Int64 in [0, 1, 951_782_400_000_000, 4_102_444_799_999_999, 1_709_251_199_999_999, -86_400_000_000] {
            #expect(try Timestamp.parseMicros(Timestamp.iso8601(micros: micros), field: "t") == micros)
        }
    }
}
