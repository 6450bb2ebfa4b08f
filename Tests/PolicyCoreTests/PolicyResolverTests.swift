import PolicyCore
import Testing

/// The seed's six-scenario matrix plus the edge cases of the issue.
@Suite("PolicyResolver")
struct PolicyResolverTests {
    /// Product p-1 22.5 %, supplier s-1 15 %, tier GOLD 12 %, default 10 %.
    private struct World {
        let product: Policy
        let supplier: Policy
        let tier: Policy
        let fallback: Policy

        init(
            product: Policy? = nil,
            supplier: Policy? = nil,
            tier: Policy? = nil,
            fallback: Policy? = nil
        ) throws {
            self.product = try product ?? Fixture.percentage("prod-p1", kind: .product, ppm: 225_000)
            self.supplier = try supplier ?? Fixture.percentage("sup-s1", kind: .supplier, ppm: 150_000)
            self.tier = try tier ?? Fixture.percentage("tier-gold", kind: .tier, ppm: 120_000)
            self.fallback = try fallback ?? Fixture.percentage("default-2025", kind: .default, ppm: 100_000)
        }

        func resolver(_ flags: PolicyResolutionFlags = Fixture.allFlags) throws -> PolicyResolver {
            let set = try PolicySet(
                policies: [product, supplier, tier, fallback],
                links: [
                    try Fixture.link(.product, "p-1", to: product),
                    try Fixture.link(.supplier, "s-1", to: supplier),
                    try Fixture.link(.tier, "GOLD", to: tier),
                ]
            )
            return PolicyResolver(policies: set, flags: flags)
        }
    }

    // MARK: The seed's test matrix

    @Test func productPolicyOverridesSupplierTierAndDefault() throws {
        let resolution = try World().resolver().resolve(Fixture.item(product: "p-1", supplier: "s-1", tier: "GOLD"))
        #expect(resolution.level == .product)
        #expect(resolution.commission == (try Fixture.money(2_250)))
        #expect(resolution.appliedPolicy?.id == "prod-p1")
        #expect(resolution.appliedPolicy?.version == 1)
        #expect(resolution.failureReason == nil)
        #expect(resolution.orderItemID == "item-1")
    }

    @Test func supplierPolicyAppliesWhenTheProductHasNone() throws {
        let resolution = try World().resolver().resolve(Fixture.item(product: "p-2", supplier: "s-1"))
        #expect(resolution.level == .supplier)
        #expect(resolution.commission.minorUnits == 1_500)
        #expect(resolution.appliedPolicy?.code == "SUP-S1")
    }

    @Test func defaultPolicyAppliesWhenNothingMoreSpecificIsLinked() throws {
        let resolution = try World().resolver().resolve(Fixture.item(product: "p-2", supplier: "s-2", tier: nil))
        #expect(resolution.level == .default)
        #expect(resolution.commission.minorUnits == 1_000)
    }

    @Test func expiredSupplierPolicyFallsBackToDefault() throws {
        let expired = try Fixture.percentage("sup-s1", kind: .supplier, ppm: 150_000,
                                             from: Fixture.orderTime - 30 * Fixture.day, until: Fixture.orderTime)
        let resolution = try World(supplier: expired).resolver().resolve(Fixture.item(product: "p-2", tier: nil))
        #expect(resolution.level == .default)
        #expect(resolution.appliedPolicy?.id == "default-2025")
    }

    @Test func expiredProductPolicyFallsBackToSupplier() throws {
        let expired = try Fixture.percentage("prod-p1", kind: .product, ppm: 225_000, until: Fixture.orderTime - 1)
        let resolution = try World(product: expired).resolver().resolve(Fixture.item(product: "p-1"))
        #expect(resolution.level == .supplier)
    }

    @Test func noPolicyAtAllIsSafeModeWithZeroCommission() throws {
        let resolver = PolicyResolver(policies: .empty, flags: Fixture.allFlags)
        let resolution = try resolver.resolve(Fixture.item(amount: 10_000, currency: "KRW"))
        #expect(resolution.level == .safeMode)
        #expect(resolution.commission == (try Fixture.money(0, "KRW")))
        #expect(resolution.appliedPolicy == nil)
        #expect(resolution.failureReason == .noPolicyFound)
    }

    @Test func minAndMaxCapsBoundTheCommission() throws {
        let capped = try Fixture.percentage("sup-s1", kind: .supplier, ppm: 150_000, currency: "USD", min: 500, max: 2_000)
        let resolver = try World(supplier: capped).resolver()
        let small = try resolver.resolve(Fixture.item("small", product: "p-2", amount: 1_000))    // 150 -> 500
        let middle = try resolver.resolve(Fixture.item("middle", product: "p-2", amount: 10_000)) // 1,500
        let large = try resolver.resolve(Fixture.item("large", product: "p-2", amount: 100_000))  // 15,000 -> 2,000
        #expect(small.commission.minorUnits == 500)
        #expect(middle.commission.minorUnits == 1_500)
        #expect(large.commission.minorUnits == 2_000)
        #expect(large.appliedPolicy?.maxCommission?.minorUnits == 2_000)
    }

    // MARK: Windows and status

    @Test func policyAppliesFromItsFirstInstant() throws {
        let starting = try Fixture.percentage("prod-p1", kind: .product, ppm: 225_000, from: Fixture.orderTime)
        let resolver = try World(product: starting).resolver()
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime)).level == .product)
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime - 1)).level == .supplier)
    }

    @Test func policyNoLongerAppliesAtItsEnd() throws {
        let ending = try Fixture.percentage("prod-p1", kind: .product, ppm: 225_000, until: Fixture.orderTime)
        let resolver = try World(product: ending).resolver()
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime - 1)).level == .product)
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime)).level == .supplier)
    }

    @Test func inactivePoliciesAreSkipped() throws {
        let inactiveProduct = try Fixture.percentage("prod-p1", kind: .product, ppm: 225_000, status: .inactive)
        let inactiveDefault = try Fixture.percentage("default-2025", kind: .default, ppm: 100_000, status: .inactive)
        let resolver = try World(product: inactiveProduct, fallback: inactiveDefault).resolver()
        #expect(try resolver.resolve(Fixture.item(product: "p-1")).level == .supplier)
        #expect(try resolver.resolve(Fixture.item(product: "p-9", supplier: "s-9", tier: nil)).level == .safeMode)
    }

    @Test func successivePoliciesOnOneScopeApplyInTheirOwnWindows() throws {
        let thisYear = try Fixture.percentage("sup-2025", kind: .supplier, ppm: 150_000, until: Fixture.orderTime)
        let nextYear = try Fixture.percentage("sup-2026", kind: .supplier, ppm: 170_000, from: Fixture.orderTime)
        let set = try PolicySet(
            policies: [thisYear, nextYear],
            links: [try Fixture.link(.supplier, "s-1", to: thisYear), try Fixture.link(.supplier, "s-1", to: nextYear)]
        )
        let resolver = PolicyResolver(policies: set, flags: Fixture.allFlags)
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime - 1)).appliedPolicy?.id == "sup-2025")
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime)).appliedPolicy?.id == "sup-2026")
    }

    @Test func resolutionUsesTheOrderTimeNotToday() throws {
        // Valid only during 2020: a 2020 order still gets it, whenever it is priced.
        let year2020 = try Fixture.percentage("default-2020", kind: .default, ppm: 50_000,
                                              from: 1_577_836_800_000_000, until: 1_609_459_200_000_000)
        let resolver = PolicyResolver(policies: try PolicySet(policies: [year2020], links: [PolicyLink]()),
                                      flags: Fixture.allFlags)
        #expect(try resolver.resolve(Fixture.item(at: 1_600_000_000_000_000)).level == .default)
        #expect(try resolver.resolve(Fixture.item(at: Fixture.orderTime)).level == .safeMode)
    }

    // MARK: Flags

    @Test func tierPolicyAppliesOnlyWithTheTierFlag() throws {
        let world = try World()
        let item = try Fixture.item(product: "p-2", supplier: "s-2", tier: "GOLD")
        let on = try world.resolver(PolicyResolutionFlags(supplierPolicyEnabled: true, tierPolicyEnabled: true))
        let off = try world.resolver(PolicyResolutionFlags(supplierPolicyEnabled: true, tierPolicyEnabled: false))
        #expect(try on.resolve(item).level == .tier)
        #expect(try on.resolve(item).commission.minorUnits == 1_200)
        #expect(try off.resolve(item).level == .default)
    }

    @Test func supplierPolicyOutranksTierPolicy() throws {
        let resolution = try World().resolver().resolve(Fixture.item(product: "p-2", supplier: "s-1", tier: "GOLD"))
        #expect(resolution.level == .supplier)
    }

    @Test func supplierFlagOffLeavesOnlyTheDefaultPolicy() throws {
        let flags = PolicyResolutionFlags(supplierPolicyEnabled: false, tierPolicyEnabled: true)
        let resolution = try World().resolver(flags).resolve(Fixture.item(product: "p-1", supplier: "s-1", tier: "GOLD"))
        #expect(resolution.level == .default)
        #expect(resolution.appliedPolicy?.id == "default-2025")
    }

    @Test func supplierFlagOffWithoutDefaultIsSafeMode() throws {
        let product = try Fixture.percentage("prod-p1", kind: .product, ppm: 225_000)
        let set = try PolicySet(policies: [product], links: [try Fixture.link(.product, "p-1", to: product)])
        let resolver = PolicyResolver(policies: set, flags: PolicyResolutionFlags(supplierPolicyEnabled: false, tierPolicyEnabled: false))
        #expect(try resolver.resolve(Fixture.item()).level == .safeMode)
    }

    // MARK: Commission types and input errors

    @Test func fixedAndPercentagePoliciesPriceDifferently() throws {
        let fixed = try Fixture.fixed("prod-p1", kind: .product, amount: 700)
        let resolver = try World(product: fixed).resolver()
        let fixedLine = try resolver.resolve(Fixture.item(product: "p-1", amount: 50_000))
        let percentageLine = try resolver.resolve(Fixture.item(product: "p-2", amount: 50_000))
        #expect(fixedLine.commission.minorUnits == 700)
        #expect(fixedLine.appliedPolicy?.commission.type == .fixed)
        #expect(percentageLine.commission.minorUnits == 7_500)
        #expect(percentageLine.appliedPolicy?.commission.type == .percentage)
    }

    @Test func invalidItemsAreRefusedEvenWithoutAnyPolicy() throws {
        let resolver = PolicyResolver(policies: .empty, flags: Fixture.allFlags)
        #expect {
            try resolver.resolve(Fixture.item(amount: 0))
        } throws: { error in
            (error as? PolicyError)?.field == "line_amount"
        }
    }

    // MARK: Batches

    @Test func batchWithMixedCurrenciesPricesEachInItsOwn() throws {
        let fixedUSD = try Fixture.fixed("sup-s1", kind: .supplier, amount: 300, currency: "USD")
        let resolver = try World(supplier: fixedUSD).resolver()
        let items = [
            try Fixture.item("krw", product: "p-9", supplier: "s-9", tier: nil, amount: 15_005, currency: "KRW"),
            try Fixture.item("usd", product: "p-9", supplier: "s-9", tier: nil, amount: 10_005, currency: "USD"),
            try Fixture.item("kwd", product: "p-9", supplier: "s-9", tier: nil, amount: 12_345, currency: "KWD"),
            try Fixture.item("jpy-on-usd-policy", product: "p-9", supplier: "s-1", amount: 1_000, currency: "JPY"),
            try Fixture.item("usd-on-usd-policy", product: "p-9", supplier: "s-1", amount: 1_000, currency: "USD"),
        ]
        let results = resolver.resolveBatch(items)
        #expect(results.count == 5)
        #expect(try results[0].get().commission == Fixture.money(1_501, "KRW"))
        #expect(try results[1].get().commission == Fixture.money(1_001, "USD"))
        #expect(try results[2].get().commission == Fixture.money(1_235, "KWD"))
        #expect(throws: PolicyError.self) { try results[3].get() }
        #expect(try results[4].get().commission == Fixture.money(300, "USD"))
    }

    @Test func oneBadItemDoesNotFailTheBatch() throws {
        let results = try World().resolver().resolveBatch([
            try Fixture.item("good-1"),
            try Fixture.item("bad", amount: -5),
            try Fixture.item("good-2"),
        ])
        #expect((try? results[0].get()) != nil)
        #expect(throws: PolicyError.self) { try results[1].get() }
        #expect((try? results[2].get()) != nil)
    }

    @Test func batchResultsDoNotDependOnItemOrder() throws {
        let resolver = try World().resolver()
        var items: [OrderItem] = []
        for index in 0..<500 {
            items.append(try Fixture.item(
                "item-\(index)",
                product: "p-\(index % 3)",
                supplier: index % 5 == 0 ? nil : "s-\(index % 2)",
                tier: index % 7 == 0 ? nil : "GOLD",
                amount: Int64(index) * 37 - 10, // includes refused amounts
                currency: ["USD", "KRW", "KWD"][index % 3],
                at: Fixture.orderTime + Int64(index)
            ))
        }
        func keyed(_ results: [Result<Resolution, PolicyError>], _ items: [OrderItem]) -> [String: Result<Resolution, PolicyError>] {
            Dictionary(uniqueKeysWithValues: zip(items.map(\.orderItemID), results))
        }
        let inOrder = keyed(resolver.resolveBatch(items), items)
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<5 {
            let shuffled = items.shuffled(using: &generator)
            let results = resolver.resolveBatch(shuffled)
            #expect(zip(results, shuffled).allSatisfy { result, item in
                (try? result.get().orderItemID) ?? item.orderItemID == item.orderItemID
            })
            #expect(keyed(results, shuffled) == inOrder)
        }
        #expect(inOrder.values.contains { (try? $0.get().level) == .product })
        #expect(inOrder.values.contains { (try? $0.get().level) == .supplier })
        #expect(inOrder.values.contains { (try? $0.get().level) == .tier })
        #expect(inOrder.values.contains { (try? $0.get()) == nil })
    }
}

/// A small seeded generator so the shuffles are reproducible.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
