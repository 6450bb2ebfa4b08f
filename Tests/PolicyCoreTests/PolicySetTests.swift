import PolicyCore
import Testing

@Suite("PolicySet")
struct PolicySetTests {
    @Test func refusesALinkToAPolicyOutsideTheSnapshot() throws {
        let orphan = try PolicyLink(scope: PolicyScope(kind: .product, id: "p-1"), policyID: "missing")
        #expect {
            try PolicySet(policies: [Policy](), links: [orphan])
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .unknownPolicy && error?.field == "policy_id"
        }
    }

    @Test func refusesALinkToAPolicyOfAnotherKind() throws {
        let supplierPolicy = try Fixture.percentage("sup", kind: .supplier, ppm: 1)
        #expect {
            try PolicySet(policies: [supplierPolicy], links: [Fixture.link(.tier, "GOLD", to: supplierPolicy)])
        } throws: { error in
            (error as? PolicyError)?.code == .kindMismatch
        }
    }

    @Test func refusesTheSamePolicyIdTwice() throws {
        let policy = try Fixture.percentage("def", kind: .default, ppm: 1)
        #expect {
            try PolicySet(policies: [policy, policy], links: [PolicyLink]())
        } throws: { error in
            (error as? PolicyError)?.code == .duplicate
        }
    }

    @Test func countsWhatItWasBuiltFrom() throws {
        let product = try Fixture.percentage("prod", kind: .product, ppm: 1)
        let set = try PolicySet(
            policies: [product, try Fixture.percentage("def", kind: .default, ppm: 1)],
            links: [try Fixture.link(.product, "p-1", to: product), try Fixture.link(.product, "p-2", to: product)]
        )
        #expect(set.policyCount == 2)
        #expect(set.linkCount == 2)
        #expect(PolicySet.empty.policyCount == 0)
    }

    @Test func resolvesTheSameWhateverOrderTheRowsArriveIn() throws {
        // Overlapping windows on one scope are refused by the writer; should such
        // rows exist anyway, the earliest-starting policy wins, in any row order.
        let early = try Fixture.percentage("a-early", kind: .product, ppm: 100_000, from: 0)
        let late = try Fixture.percentage("b-late", kind: .product, ppm: 200_000, from: 10)
        let links = [try Fixture.link(.product, "p-1", to: early), try Fixture.link(.product, "p-1", to: late)]
        let forward = try PolicySet(policies: [early, late], links: links)
        let backward = try PolicySet(policies: [late, early], links: links.reversed())
        let item = try Fixture.item(at: 50)
        let flags = Fixture.allFlags
        #expect(try PolicyResolver(policies: forward, flags: flags).resolve(item).appliedPolicy?.id == "a-early")
        #expect(try PolicyResolver(policies: backward, flags: flags).resolve(item).appliedPolicy?.id == "a-early")
    }
}

@Suite("PolicySet.adding(links:)")
struct PolicySetAddingTests {
    @Test func resolvesLikeASetBuiltFromAllTheLinksAtOnce() throws {
        let defaultPolicy = try Fixture.percentage("def", kind: .default, ppm: 100_000)
        let supplier = try Fixture.percentage("sup", kind: .supplier, ppm: 150_000)
        let early = try Fixture.percentage("a-early", kind: .product, ppm: 200_000, until: Fixture.orderTime)
        let late = try Fixture.percentage("b-late", kind: .product, ppm: 250_000, from: Fixture.orderTime)
        let inactive = try Fixture.percentage("c-off", kind: .product, ppm: 900_000, status: .inactive)
        let policies = [defaultPolicy, supplier, early, late, inactive]
        let baseLinks = [try Fixture.link(.supplier, "s-1", to: supplier), try Fixture.link(.product, "p-1", to: late)]
        let added = [try Fixture.link(.product, "p-1", to: early), try Fixture.link(.product, "p-2", to: inactive),
                     try Fixture.link(.product, "p-3", to: early)]
        let whole = try PolicySet(policies: policies, links: baseLinks + added)
        let completed = try PolicySet(policies: policies, links: baseLinks).adding(links: added)
        #expect(completed.linkCount == whole.linkCount)
        #expect(completed.policyCount == whole.policyCount)
        let flags = Fixture.allFlags
        for product in ["p-1", "p-2", "p-3", "p-4"] {
            for time in [Fixture.orderTime - 1, Fixture.orderTime, Fixture.orderTime + Fixture.day] {
                let item = OrderItem(orderItemID: "oi", productID: product, supplierID: "s-1",
                                     lineAmount: try Fixture.money(10_000), orderedAt: time)
                let expected = try PolicyResolver(policies: whole, flags: flags).resolve(item)
                #expect(try PolicyResolver(policies: completed, flags: flags).resolve(item) == expected)
            }
        }
    }

    @Test func leavesTheOriginalUntouched() throws {
        let product = try Fixture.percentage("prod", kind: .product, ppm: 1)
        let base = try PolicySet(policies: [product], links: [PolicyLink]())
        let completed = try base.adding(links: [try Fixture.link(.product, "p-1", to: product)])
        #expect(base.linkCount == 0)
        #expect(completed.linkCount == 1)
        #expect(base.contains(policyID: "prod"))
        #expect(!base.contains(policyID: "other"))
    }

    @Test func refusesALinkToAPolicyOutsideTheSnapshot() throws {
        let base = try PolicySet(policies: [try Fixture.percentage("def", kind: .default, ppm: 1)], links: [PolicyLink]())
        #expect {
            try base.adding(links: [try PolicyLink(scope: PolicyScope(kind: .product, id: "p-1"), policyID: "missing")])
        } throws: { error in
            (error as? PolicyError)?.code == .unknownPolicy
        }
    }
}
