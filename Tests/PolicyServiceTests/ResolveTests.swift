import Proto
import Testing
import Wire

/// Resolution through the wire: the seed's six scenarios and the rules around them.
@Suite struct ResolveTests {
    typealias F = PolicyServiceFixture

    /// The seed's set-up: a DEFAULT 10 %, a supplier policy 15 %, a product override 22.5 %.
    private func seedFixture(environment: [String: String] = [:]) throws -> PolicyServiceFixture {
        let fixture = try PolicyServiceFixture(environment: environment)
        try fixture.catalog(supplier: "sup-test", products: ["prod-override", "prod-plain"], sellers: [("sel-gold", "GOLD")])
        try fixture.catalog(supplier: "sup-other", products: ["prod-other"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let supplier = try fixture.create(F.percentage("SUPPLIER-TEST-2025", .supplier, ppm: 150_000))
        try fixture.link(.supplier, "sup-test", to: supplier, cycleDays: 30)
        let product = try fixture.create(F.percentage("PRODUCT-OVERRIDE", .product, ppm: 225_000))
        try fixture.link(.product, "prod-override", to: product)
        return fixture
    }

    @Test func productPolicyOverridesSupplierPolicy() throws {
        let fixture = try seedFixture()
        let resolution = try fixture.resolve(F.item("oi-1", product: "prod-override", amount: 10_000))
        #expect(resolution.level == .product)
        #expect(resolution.commissionAmount == 2_250)
        #expect(resolution.appliedPolicy?.code == "PRODUCT-OVERRIDE")
        #expect(resolution.appliedPolicy?.ratePpm == 225_000)
        #expect(resolution.supplierId == "sup-test")
    }

    @Test func supplierPolicyAppliesWithoutProductPolicy() throws {
        let fixture = try seedFixture()
        let resolution = try fixture.resolve(F.item("oi-1", product: "prod-plain", amount: 10_000))
        #expect(resolution.level == .supplier)
        #expect(resolution.commissionAmount == 1_500)
        #expect(resolution.appliedPolicy?.code == "SUPPLIER-TEST-2025")
        #expect(resolution.failureReason == .unspecified)
    }

    @Test func defaultPolicyAppliesWhenNothingIsLinked() throws {
        let fixture = try seedFixture()
        let resolution = try fixture.resolve(F.item("oi-1", product: "prod-other", amount: 10_000))
        #expect(resolution.level == .default)
        #expect(resolution.commissionAmount == 1_000)
        #expect(resolution.appliedPolicy?.code == "DEFAULT-2025")
    }

    @Test func expiredSupplierPolicyFallsBackToDefault() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let expired = try fixture.create(F.percentage("SUPPLIER-EXPIRED", .supplier, ppm: 150_000,
                                                      from: F.day0 - 30 * F.day, until: F.day0 - F.day))
        try fixture.link(.supplier, "sup-x", to: expired)
        let resolution = try fixture.resolve(F.item("oi-1", product: "prod-x", amount: 10_000))
        #expect(resolution.level == .default)
        #expect(resolution.commissionAmount == 1_000)
    }

    @Test func noPolicyAtAllIsSafeModeWithZeroCommission() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        let resolution = try fixture.resolve(F.item("oi-1", product: "prod-x", amount: 10_000))
        #expect(resolution.level == .safeMode)
        #expect(resolution.commissionAmount == 0)
        #expect(resolution.appliedPolicy == nil)
        #expect(resolution.failureReason == .noPolicyFound)
    }

    @Test func minimumAndMaximumCapsClampTheCommission() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-CAPPED", .default, ppm: 100_000, currency: "USD", min: 500, max: 2_000))
        let small = try fixture.resolve(F.item("oi-small", product: "prod-x", amount: 1_000))
        let middle = try fixture.resolve(F.item("oi-middle", product: "prod-x", amount: 10_000))
        let large = try fixture.resolve(F.item("oi-large", product: "prod-x", amount: 100_000))
        let tiny = try fixture.resolve(F.item("oi-tiny", product: "prod-x", amount: 300))
        #expect(small.commissionAmount == 500)
        #expect(middle.commissionAmount == 1_000)
        #expect(large.commissionAmount == 2_000)
        // A minimum above the line takes the line, never more.
        #expect(tiny.commissionAmount == 300)
        #expect(large.appliedPolicy?.maxCommission?.value == 2_000)
    }

    @Test func windowStartIsInclusiveAndEndExclusive() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-OPEN", .default, ppm: 100_000, until: F.day0))
        try fixture.create(F.percentage("DEFAULT-NEXT", .default, ppm: 200_000, from: F.day0))
        let before = try fixture.resolve(F.item("oi-1", product: "prod-x", amount: 10_000, at: F.day0 - 1))
        let atStart = try fixture.resolve(F.item("oi-2", product: "prod-x", amount: 10_000, at: F.day0))
        #expect(before.appliedPolicy?.code == "DEFAULT-OPEN")
        #expect(atStart.appliedPolicy?.code == "DEFAULT-NEXT")
        #expect(atStart.commissionAmount == 2_000)
    }

    @Test func inactiveLinkedPolicyIsSkipped() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let inactive = try fixture.create(F.percentage("PRODUCT-OFF", .product, ppm: 300_000), status: .inactive)
        try fixture.link(.product, "prod-x", to: inactive)
        #expect(try fixture.resolve(F.item("oi-1", product: "prod-x")).level == .default)
    }

    @Test func tierPolicyAppliesOnlyWithTheTierFlag() throws {
        for enabled in [false, true] {
            let fixture = try PolicyServiceFixture(environment: ["ENABLE_TIER_POLICY": enabled ? "true" : "false"])
            try fixture.catalog(supplier: "sup-x", products: ["prod-x"], sellers: [("sel-gold", "GOLD")])
            try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
            let tier = try fixture.create(F.percentage("TIER-GOLD", .tier, ppm: 120_000))
            try fixture.link(.tier, "GOLD", to: tier)
            let fromCatalog = try fixture.resolve(F.item("oi-1", product: "prod-x", seller: "sel-gold"))
            let given = try fixture.resolve(F.item("oi-2", product: "prod-x", tier: "GOLD"))
            #expect(fromCatalog.level == (enabled ? .tier : .default))
            #expect(given.level == (enabled ? .tier : .default))
            #expect(fromCatalog.sellerTier == "GOLD")
            #expect(fromCatalog.commissionAmount == (enabled ? 1_200 : 1_000))
        }
    }

    @Test func supplierFlagOffAppliesOnlyTheDefaultPolicy() throws {
        let fixture = try seedFixture(environment: ["ENABLE_SUPPLIER_POLICY": "false"])
        let product = try fixture.resolve(F.item("oi-1", product: "prod-override"))
        let supplier = try fixture.resolve(F.item("oi-2", product: "prod-plain"))
        #expect(product.level == .default)
        #expect(supplier.level == .default)
        #expect(product.commissionAmount == 1_000)
    }

    @Test func supplierFlagChangeTakesEffectWithoutRestart() throws {
        let fixture = try seedFixture()
        let item = F.item("oi-1", product: "prod-plain")
        #expect(try fixture.resolve(item).level == .supplier)
        _ = try fixture.flags.set(
            name: "ENABLE_SUPPLIER_POLICY", value: "false", reason: "rollback level 1", actor: "ops-alice",
            caller: "operator", deadline: .after(seconds: 5)
        )
        #expect(try fixture.resolve(item).level == .default)
    }

    @Test func fixedPolicyChargesItsAmountWhateverTheLine() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-fixed", "prod-pct"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let fixed = try fixture.create(F.fixed("PRODUCT-FIXED", .product, amount: 700, currency: "USD"))
        try fixture.link(.product, "prod-fixed", to: fixed)
        #expect(try fixture.resolve(F.item("oi-1", product: "prod-fixed", amount: 10_000)).commissionAmount == 700)
        #expect(try fixture.resolve(F.item("oi-2", product: "prod-fixed", amount: 90_000)).commissionAmount == 700)
        #expect(try fixture.resolve(F.item("oi-3", product: "prod-fixed", amount: 500)).commissionAmount == 500)
        #expect(try fixture.resolve(F.item("oi-4", product: "prod-pct", amount: 90_000)).commissionAmount == 9_000)
        // A fixed USD policy cannot price a KRW line: a per-item error naming the field.
        let error = rpcError { try fixture.resolve(F.item("oi-5", product: "prod-fixed", amount: 90_000, currency: "KRW")) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("item.fixed_amount") == true)
    }

    @Test func roundingTiesGoHalfUpOncePerLine() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        // 12.5 % of 1 cent is 0.125 → 0; of 4 cents 0.5 → 1; of 12 cents 1.5 → 2.
        try fixture.create(F.percentage("DEFAULT-ODD", .default, ppm: 125_000))
        #expect(try fixture.resolve(F.item("oi-1", product: "prod-x", amount: 1)).commissionAmount == 0)
        #expect(try fixture.resolve(F.item("oi-2", product: "prod-x", amount: 4)).commissionAmount == 1)
        #expect(try fixture.resolve(F.item("oi-3", product: "prod-x", amount: 12)).commissionAmount == 2)
        #expect(try fixture.resolve(F.item("oi-4", product: "prod-x", amount: 3)).commissionAmount == 0)
    }

    @Test func zeroAndThreeDecimalCurrenciesRoundToTheirMinorUnit() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 125_000))
        // 12.5 % of 1,005 KRW = 125.625 → 126 won.
        let krw = try fixture.resolve(F.item("oi-krw", product: "prod-x", amount: 1_005, currency: "KRW"))
        #expect(krw.commissionAmount == 126)
        #expect(krw.currency == "KRW")
        // 12.5 % of 1.004 KWD (1,004 fils) = 125.5 fils → 126 fils.
        let kwd = try fixture.resolve(F.item("oi-kwd", product: "prod-x", amount: 1_004, currency: "KWD"))
        #expect(kwd.commissionAmount == 126)
        #expect(kwd.currency == "KWD")
    }

    @Test func zeroNegativeAndAbsurdAmountsAreRefusedPerItem() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let results = try fixture.resolveBatch([
            F.item("oi-zero", product: "prod-x", amount: 0),
            F.item("oi-negative", product: "prod-x", amount: -5),
            F.item("oi-absurd", product: "prod-x", amount: 1_000_000_000_000_001),
            F.item("oi-good", product: "prod-x", amount: 1_000),
            F.item("oi-currency", product: "prod-x", amount: 1_000, currency: "XYZ"),
            F.item("oi-no-time", product: "prod-x", amount: 1_000, at: 0),
        ])
        #expect(results.count == 6)
        #expect(results[0].error?.statusCode == StatusCode.invalidArgument.rawValue)
        #expect(results[0].error?.statusMessage.hasPrefix("items[0].line_amount") == true)
        #expect(results[1].error?.statusMessage.hasPrefix("items[1].line_amount") == true)
        #expect(results[2].error?.statusMessage.hasPrefix("items[2].line_amount") == true)
        #expect(results[3].resolution?.commissionAmount == 100)
        #expect(results[3].error == nil)
        #expect(results[4].error?.statusMessage.hasPrefix("items[4].currency") == true)
        #expect(results[5].error?.statusMessage.hasPrefix("items[5].order_time_unix_micros") == true)
        #expect(results.map(\.orderItemId) == ["oi-zero", "oi-negative", "oi-absurd", "oi-good", "oi-currency", "oi-no-time"])
    }

    @Test func unknownProductSupplierOrSellerIsNotFoundPerItem() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let results = try fixture.resolveBatch([
            F.item("oi-1", product: "prod-missing"),
            F.item("oi-2", product: "prod-x", supplier: "sup-missing"),
            F.item("oi-3", product: "prod-x", seller: "sel-missing"),
            F.item("oi-4", product: "prod-x", supplier: "sup-x"),
        ])
        #expect(results[0].error?.statusCode == StatusCode.notFound.rawValue)
        #expect(results[0].error?.statusMessage.hasPrefix("items[0].product_id") == true)
        #expect(results[1].error?.statusMessage.hasPrefix("items[1].supplier_id") == true)
        #expect(results[2].error?.statusMessage.hasPrefix("items[2].seller_id") == true)
        #expect(results[3].resolution?.level == .default)
        let single = rpcError { try fixture.resolve(F.item("oi-5", product: "prod-missing")) }
        #expect(single?.code == .notFound)
        #expect(single?.message.hasPrefix("item.product_id") == true)
    }

    @Test func batchWithMixedCurrenciesPricesEachLineInItsOwn() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x", "prod-usd"])
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let usdOnly = try fixture.create(F.percentage("PRODUCT-USD-CAPPED", .product, ppm: 100_000, currency: "USD", max: 50))
        try fixture.link(.product, "prod-usd", to: usdOnly)
        let results = try fixture.resolveBatch([
            F.item("oi-usd", product: "prod-x", amount: 12_345, currency: "USD"),
            F.item("oi-krw", product: "prod-x", amount: 12_345, currency: "KRW"),
            F.item("oi-kwd", product: "prod-x", amount: 12_345, currency: "KWD"),
            F.item("oi-capped", product: "prod-usd", amount: 12_345, currency: "USD"),
            F.item("oi-capped-eur", product: "prod-usd", amount: 12_345, currency: "EUR"),
        ])
        #expect(results[0].resolution?.commissionAmount == 1_235)
        #expect(results[0].resolution?.currency == "USD")
        #expect(results[1].resolution?.currency == "KRW")
        #expect(results[2].resolution?.currency == "KWD")
        #expect(results[3].resolution?.commissionAmount == 50)
        #expect(results[4].error?.statusCode == StatusCode.invalidArgument.rawValue)
        #expect(results[4].error?.statusMessage.hasPrefix("items[4].max_commission") == true)
    }

    @Test func batchResultsDoNotDependOnItemOrder() throws {
        let fixture = try seedFixture(environment: ["ENABLE_TIER_POLICY": "true"])
        var items: [PolicyV1.OrderItem] = []
        let products = ["prod-override", "prod-plain", "prod-other", "prod-missing"]
        for index in 0..<200 {
            items.append(F.item("oi-\(index)", product: products[index % products.count], amount: Int64(1 + index * 37),
                                at: F.day0 + Int64(index), seller: index % 3 == 0 ? "sel-gold" : ""))
        }
        let forward = try fixture.resolveBatch(items)
        let backward = try fixture.resolveBatch(items.reversed())
        let shuffled = try fixture.resolveBatch(items.shuffled())
        func byID(_ results: [PolicyV1.ItemResult]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: results.map { result in
                let resolution = result.resolution.map { "\($0.level) \($0.commissionAmount) \($0.appliedPolicy?.code ?? "-")" }
                return (result.orderItemId, resolution ?? "error \(result.error?.statusCode ?? 0)")
            })
        }
        #expect(forward.map(\.orderItemId) == items.map(\.orderItemId))
        #expect(byID(forward) == byID(backward))
        #expect(byID(forward) == byID(shuffled))
        #expect(byID(forward)["oi-0"] == "product 0 PRODUCT-OVERRIDE")
    }

    @Test func opaqueIdsWithArraySyntaxCharactersSurviveTheBulkPreload() throws {
        let fixture = try PolicyServiceFixture()
        let awkward = ["a,b", "{brace}", "quote\"d", "back\\slash", "sp ace", "NULL", "ünï"]
        try fixture.catalog(supplier: "sup,{\"x\"}", products: awkward)
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let product = try fixture.create(F.percentage("PRODUCT-AWKWARD", .product, ppm: 300_000))
        for id in awkward { try fixture.link(.product, id, to: product) }
        let results = try fixture.resolveBatch(awkward.enumerated().map { F.item("oi-\($0.offset)", product: $0.element) })
        #expect(results.allSatisfy { $0.resolution?.level == .product })
        #expect(results.allSatisfy { $0.resolution?.supplierId == "sup,{\"x\"}" })
    }

    @Test func batchShapeIsCheckedAsAWhole() throws {
        let fixture = try PolicyServiceFixture()
        let tooMany = (0...10_000).map { F.item("oi-\($0)", product: "p") }
        let tooManyError = rpcError { try fixture.resolveBatch(tooMany) }
        #expect(tooManyError?.code == .invalidArgument)
        #expect(tooManyError?.message.hasPrefix("items:") == true)
        let duplicate = rpcError { try fixture.resolveBatch([F.item("same", product: "p"), F.item("same", product: "q")]) }
        #expect(duplicate?.code == .invalidArgument)
        #expect(duplicate?.message.hasPrefix("items[1].order_item_id") == true)
        #expect(rpcError { try fixture.resolveBatch([]) }?.code == .invalidArgument)
    }

    @Test func malformedBatchBytesAreInvalidArgumentAndUnusualOnesResolveAsProtobufCReadsThem() throws {
        let fixture = try seedFixture()
        let method = "/policy.v1.PolicyService/ResolveBatch"
        let plain = PolicyV1.ResolveBatchRequest(items: [F.item("oi-1", product: "prod-override"), F.item("oi-2", product: "prod-plain")])
            .serializedBytes()
        let malformed: [[UInt8]] = [
            Array(plain.dropLast()),  // the last item shorter than its length prefix
            plain + [0x0A, 0x05, 0x0A],  // an item whose length runs past the end
            plain + [0x0B],  // a group (wire type 3)
            [UInt8](repeating: 0xFF, count: 11),  // a key that never ends
        ]
        for bytes in malformed {
            let error = rpcError { try fixture.settlement.unary(method, payload: bytes) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "request is not a valid policy.v1.ResolveBatchRequest message")
        }
        // An unknown field (20, varint): the generated decoder leaves it to protobuf-c, which skips it.
        let unusual = try fixture.settlement.unary(method, payload: plain + [0xA0, 0x01, 0x07])
        let results = try PolicyV1.ResolveBatchResponse(serializedBytes: unusual).results
        #expect(results.map(\.orderItemId) == ["oi-1", "oi-2"])
        #expect(results.map { $0.resolution?.level } == [.product, .supplier])
    }

    @Test func tenThousandItemBatchResolvesEveryItem() throws {
        let fixture = try PolicyServiceFixture()
        let products = (0..<2_000).map { "prod-\($0)" }
        try fixture.catalog(supplier: "sup-big")
        try fixture.sql("INSERT INTO catalog.products (id, supplier_id, name) SELECT 'prod-' || g, 'sup-big', 'p' FROM generate_series(0, 1999) AS g")
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let supplier = try fixture.create(F.percentage("SUPPLIER-BIG", .supplier, ppm: 150_000))
        try fixture.link(.supplier, "sup-big", to: supplier)
        let items = (0..<10_000).map { F.item("oi-\($0)", product: products[$0 % products.count], amount: 1_000) }
        let results = try fixture.resolveBatch(items)
        #expect(results.count == 10_000)
        #expect(results.allSatisfy { $0.resolution?.level == .supplier && $0.resolution?.commissionAmount == 150 })
    }

    @Test func callersOtherThanCheckoutSettlementAndOperatorCannotResolve() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        let item = F.item("oi-1", product: "prod-x")
        #expect(rpcError { try fixture.resolve(item, client: fixture.supplierPortal) }?.code == .permissionDenied)
        #expect(try fixture.resolve(item, client: fixture.checkout).level == .safeMode)
        #expect(try fixture.resolve(item, client: fixture.operatorClient).level == .safeMode)
    }

    @Test func resolutionTimeoutBoundsTheCall() throws {
        let fixture = try PolicyServiceFixture(environment: ["POLICY_RESOLUTION_TIMEOUT_MS": "200"])
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        // Another session holds a lock the preload must wait for.
        let blocker = try PostgresConnectionHolder(url: fixture.databaseURL)
        try blocker.lockPolicyLinks()
        defer { blocker.release() }
        let error = rpcError { try fixture.resolve(F.item("oi-1", product: "prod-x")) }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.message.hasPrefix("POLICY_RESOLUTION_TIMEOUT_MS") == true)
    }
}
