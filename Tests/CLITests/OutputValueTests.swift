import Proto
import Testing
@testable import O4OCtl

@Suite struct OutputValueTests {
    private let request = InboxV1.AuthorizationRequest(
        id: "r-1", sellerId: "sel-1", productId: "p-1", supplierId: "sup-1", status: .approved, version: 7,
        createdAtUnixMicros: 1_740_821_400_123_456, decidedAtUnixMicros: 0
    )

    @Test func keysAreProtoFieldNamesInDeclarationOrder() {
        guard case .object(let fields) = OutputValue(reflecting: request) else {
            Issue.record("a message must render as an object")
            return
        }
        #expect(Array(fields.map(\.key).prefix(6)) == ["id", "seller_id", "product_id", "supplier_id", "status", "version"])
    }

    @Test func enumsRenderByProtoNameWithoutPrefix() {
        #expect(OutputValue(reflecting: request)["status"] == .string("APPROVED"))
        #expect(OutputValue.enumName(GateV1.Reason.notAuthorizedAtOrderTime) == "NOT_AUTHORIZED_AT_ORDER_TIME")
    }

    @Test func jsonCarriesMicrosAndISOForTimesAndNullForNone() {
        let json = OutputValue(reflecting: request).json
        #expect(json.contains("\"created_at_unix_micros\": 1740821400123456,\n"))
        #expect(json.contains("\"created_at\": \"2025-03-01T09:30:00.123456Z\""))
        #expect(json.contains("\"decided_at_unix_micros\": 0,\n"))
        #expect(json.contains("\"decided_at\": null"))
    }

    @Test func wrappedBoundsAreValuesWhenPresentAndNullWhenAbsent() {
        let terms = PolicyV1.PolicyTerms(
            code: "P", minCommission: PolicyV1.Int64Value(value: 0), validFromUnixMicros: PolicyV1.Int64Value(value: 0)
        )
        let json = OutputValue(reflecting: terms).json
        #expect(json.contains("\"min_commission\": 0,"))
        #expect(json.contains("\"max_commission\": null,"))
        // A present bound at 0 is the epoch, not "none".
        #expect(json.contains("\"valid_from\": \"1970-01-01T00:00:00.000000Z\""))
        #expect(json.contains("\"valid_until_unix_micros\": null,"))
    }

    @Test func jsonEscapesStrings() {
        #expect(OutputValue.quoted("a\"b\\c\nd\u{01}") == #""a\"b\\c\nd\u0001""#)
    }

    @Test func textAlignsKeysAndShowsTimesOnce() {
        let text = OutputValue(reflecting: GateV1.CheckResult(allowed: true, reason: .approved, tier: .redis)).text
        #expect(text.hasPrefix("allowed:               true\nreason:                APPROVED\n"))
        let requestText = OutputValue(reflecting: request).text
        #expect(requestText.contains("created_at:      2025-03-01T09:30:00.123456Z"))
        #expect(!requestText.contains("unix_micros"))
        #expect(requestText.contains("decided_at:      -"))
    }

    @Test func nestedListsBecomeDashedItems() {
        let response = InboxV1.ListInboxResponse(requests: [request, request], nextPageToken: "")
        let lines = OutputValue(reflecting: response).text.split(separator: "\n")
        #expect(lines.first == "requests:")
        #expect(lines.filter { $0.hasPrefix("  - id:") }.count == 2)
    }
}

@Suite struct RatePercentTests {
    @Test(arguments: [(Int64(125_000), "12.5"), (1, "0.0001"), (1_000_000, "100"), (0, "0"), (85_050, "8.505")])
    func partsPerMillionShowAsExactPercent(_ ppm: Int64, _ text: String) {
        #expect(OutputValue.percent(ppm: ppm) == text)
    }

    @Test func textShowsRatesInBothUnits() {
        let text = OutputValue(reflecting: PolicyV1.PolicyTerms(code: "P", ratePpm: 125_000)).text
        #expect(text.contains("rate_ppm:        125000 (12.5 %)"))
    }
}
