@testable import PolicyService
import PolicyCore
import Proto
import Testing

/// The hand-written ResolveBatch response encoder against the generated one:
/// same bytes for every shape of result.
@Suite struct ResolutionEncoderTests {
    private static let orderTime: Int64 = 1_762_473_600_000_000

    private static func policies() throws -> [Policy] {
        let usd = try Currency(code: "USD")
        let kwd = try Currency(code: "KWD")
        return [
            try Policy(id: "0b7e2c52-8d0f-4d5e-9a51-2f0c6c7c1a01", code: "DEFAULT-2025", kind: .default,
                       commission: .percentage(CommissionRate(ppm: 100_000)), currency: nil, status: .active, version: 1),
            try Policy(id: "supplier-capped", code: "SUPPLIER-TEST-2025", kind: .supplier,
                       commission: .percentage(CommissionRate(ppm: 150_000)), currency: usd,
                       minCommission: Money(minorUnits: 0, currency: usd), maxCommission: Money(minorUnits: 100_000, currency: usd),
                       status: .active, window: PolicyWindow(start: 0, end: .max), version: 7),
            try Policy(id: "fixed-kwd", code: "FIXED-KWD", kind: .product,
                       commission: .fixed(Money(minorUnits: 1_250, currency: kwd)), currency: kwd,
                       status: .active, window: PolicyWindow(start: orderTime - 1, end: nil), version: 2),
        ]
    }

    /// Results covering every optional field: with and without supplier and
    /// tier, each policy shape, safe mode, a zero commission, per-item errors.
    private static func cases() throws -> [(orderItemID: String, outcome: Result<(Resolution, OrderItem), ItemFailure>)] {
        let policies = try policies()
        let usd = try Currency(code: "USD")
        let kwd = try Currency(code: "KWD")
        func item(_ id: String, supplier: String?, tier: String?, amount: Int64, currency: Currency) -> OrderItem {
            OrderItem(orderItemID: id, productID: "product-\(id)", supplierID: supplier, sellerTier: tier,
                      lineAmount: Money(minorUnits: amount, currency: currency), orderedAt: orderTime)
        }
        func resolved(_ id: String, _ level: ResolutionLevel, _ commission: Int64, _ currency: Currency, _ policy: Policy?,
                      supplier: String? = nil, tier: String? = nil) -> (String, Result<(Resolution, OrderItem), ItemFailure>) {
            let resolution = Resolution(orderItemID: id, level: level, commission: Money(minorUnits: commission, currency: currency),
                                        appliedPolicy: policy)
            return (id, .success((resolution, item(id, supplier: supplier, tier: tier, amount: 10_000, currency: currency))))
        }
        return [
            resolved("oi-1", .default, 1_000, usd, policies[0]),
            resolved("oi-2", .supplier, 1_500, usd, policies[1], supplier: "sup-1"),
            resolved("oi-3", .product, 1_250, kwd, policies[2], supplier: "sup-2", tier: "GOLD"),
            resolved("oi-4", .safeMode, 0, usd, nil, supplier: "sup-3"),
            resolved("oi-5", .default, 0, usd, policies[0], tier: "SILVER"),
            ("oi-6", .failure(ItemFailure(code: .notFound, message: "items[5].product_id: unknown product \"x\"", reason: .invalidInput))),
            resolved(String(repeating: "long-order-item-id-", count: 10), .supplier, 9_999_999_999, usd, policies[1], supplier: "sup-1"),
            ("", .failure(ItemFailure(code: .invalidArgument, message: "items[7].order_item_id: required", reason: .invalidInput))),
            resolved("oi-9", .supplier, 1_500, usd, policies[1], supplier: "sup-1"),
        ]
    }

    @Test func encodesExactlyWhatTheGeneratedEncoderDoes() throws {
        var encoder = ResolutionEncoder(expectedResults: 1)
        var expected: [PolicyV1.ItemResult] = []
        for (orderItemID, outcome) in try Self.cases() {
            switch outcome {
            case .success(let (resolution, item)):
                encoder.appendResult(orderItemID: orderItemID, resolution: resolution, item: item)
                expected.append(PolicyV1.ItemResult(orderItemId: orderItemID, resolution: PolicyV1.Resolution(resolution, item: item)))
            case .failure(let failure):
                let error = PolicyV1.ItemError(orderItemId: orderItemID, statusCode: failure.code.rawValue, statusMessage: failure.message)
                encoder.appendError(error)
                expected.append(PolicyV1.ItemResult(orderItemId: orderItemID, error: error))
            }
        }
        let generated = PolicyV1.ResolveBatchResponse(results: expected)
        #expect(encoder.bytes == generated.serializedBytes())
        #expect(try PreEncoded<PolicyV1.ResolveBatchResponse>(trusted: encoder.bytes).decoded() == generated)
    }

    @Test func anEmptyResponseIsEmptyBytes() {
        #expect(ResolutionEncoder(expectedResults: 0).bytes == PolicyV1.ResolveBatchResponse().serializedBytes())
    }

    @Test func preEncodedRefusesBytesThatAreNotTheMessage() {
        let garbage: [UInt8] = [0x0A, 0x05, 0x01]
        #expect(throws: ProtoDecodingError.self) {
            _ = try garbage.withUnsafeBytes { raw throws(ProtoDecodingError) in
                try PreEncoded<PolicyV1.ResolveBatchResponse>(serializedBytes: raw)
            }
        }
    }

    @Test func negativeNumbersTakeTenBytesLikeProtobufC() {
        var writer = ProtoWriter()
        writer.int64(3, -1)
        let generated = PolicyV1.Resolution(commissionAmount: -1).serializedBytes()
        #expect(writer.bytes == generated)
        #expect(writer.bytes.count == 11)
    }
}
