@testable import Storage
import Testing

@Suite struct PostgresValueTests {
    @Test(arguments: [
        ("1970-01-01 00:00:00+00", Int64(0)),
        ("2026-11-23 12:34:56.123456+00", Int64(1_795_437_296_123_456)),
        ("2026-11-23 14:04:56.5+01:30", Int64(1_795_437_296_500_000)),
        ("1969-12-31 23:59:59.999999+00", Int64(-1)),
        ("2000-02-29 00:00:00-08", Int64(951_811_200_000_000)),
        ("2026-11-23 12:34:56", Int64(1_795_437_296_000_000)),
    ])
    func timestampTextParsesToUnixMicros(text: String, micros: Int64) {
        #expect(PostgresTimestamp(isoText: text)?.unixMicros == micros)
    }

    @Test(arguments: ["", "2026-13-01 00:00:00+00", "2026-11-23", "infinity", "2026-11-23 12:34:56.1234567+00", "2026-11-23 12:34:56+0x"])
    func malformedTimestampTextIsRejected(text: String) {
        #expect(PostgresTimestamp(isoText: text) == nil)
    }

    @Test(arguments: [Int64(0), -1, 1_795_437_296_123_456, 951_811_200_000_000, -62_135_596_800_000_000])
    func timestampFormattingRoundTrips(micros: Int64) {
        let text = PostgresTimestamp(unixMicros: micros).isoText
        #expect(PostgresTimestamp(isoText: text)?.unixMicros == micros)
    }

    @Test func byteaHexRoundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff]
        #expect(PostgresValue.bytes(bytes).textRepresentation == "\\x00017f80ff")
        #expect([UInt8](postgresText: "\\x00017F80ff") == bytes)
        #expect([UInt8](postgresText: "\\x0") == nil)
        #expect([UInt8](postgresText: "00") == nil)
    }

    @Test func booleansUsePostgresLetters() {
        #expect(Bool(postgresText: "t") == true)
        #expect(Bool(postgresText: "f") == false)
        #expect(Bool(postgresText: "true") == nil)
        #expect(PostgresValue.bool(true).textRepresentation == "t")
    }

    @Test func literalsBuildTheMatchingCases() {
        let values: [PostgresValue?] = ["seller-1", 42, true, nil]
        #expect(values == [.text("seller-1"), .int64(42), .bool(true), nil])
    }
}
