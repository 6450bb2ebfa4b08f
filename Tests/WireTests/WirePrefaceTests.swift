import Testing
@testable import Wire

@Suite struct WirePrefaceTests {
    @Test func acceptsTheExactPreface() {
        #expect(WirePreface.check(WirePreface.bytes) == .accepted)
    }

    @Test func waitsForMoreBytesWhileThePrefixMatches() {
        #expect(WirePreface.check(WirePreface.bytes.prefix(3)) == .incomplete)
    }

    @Test func recognisesHTTPAtOnce() {
        #expect(WirePreface.check(Array("GET / HTTP/1.1\r\n".utf8)) == .rejected(looksLikeHTTP: true))
        #expect(WirePreface.check(Array("POST /x".utf8)) == .rejected(looksLikeHTTP: true))
        #expect(WirePreface.check(Array("PRI * HTTP/2.0".utf8)) == .rejected(looksLikeHTTP: true))
    }

    @Test func rejectsGarbageFromTheFirstWrongByte() {
        #expect(WirePreface.check([0x16, 0x03, 0x01]) == .rejected(looksLikeHTTP: false))
    }

    @Test func namesAnUnsupportedVersion() {
        var bytes = WirePreface.bytes
        bytes[4] = 9
        #expect(WirePreface.check(bytes) == .unsupportedVersion(9))
    }
}
