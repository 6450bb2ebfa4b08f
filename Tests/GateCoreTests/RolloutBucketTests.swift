import Testing

@testable import GateCore

@Suite("RolloutBucket")
struct RolloutBucketTests {
    /// Pinned with the seed's formula in Python:
    /// `int(hashlib.md5(p.encode()).hexdigest()[:8], 16) % 100`.
    static let seedVectors: [(product: String, bucket: Int)] = [
        ("prod-1", 29),
        ("prod-2", 65),
        ("prod-3", 66),
        ("product-uuid-1", 31),
        ("p-42", 99),
        ("", 93),
        ("550e8400-e29b-41d4-a716-446655440000", 82),
        ("제품-1", 9),
    ]

    @Test("the seed's formula, byte for byte", arguments: seedVectors)
    func unsaltedBucketIsTheSeedFormula(product: String, bucket: Int) {
        #expect(RolloutBucket.unsalted.bucket(of: product) == bucket)
    }

    /// Same products, salt "flag-b": md5("flag-b:" + product).
    static let saltedVectors: [(product: String, bucket: Int)] = [
        ("prod-1", 85),
        ("prod-2", 10),
        ("p-42", 62),
        ("550e8400-e29b-41d4-a716-446655440000", 7),
    ]

    @Test("salted: md5 of salt + \":\" + product", arguments: saltedVectors)
    func saltedBucketHashesSaltColonProduct(product: String, bucket: Int) {
        #expect(RolloutBucket(salt: "flag-b").bucket(of: product) == bucket)
    }

    @Test func anEmptySaltIsTheSeedFormula() {
        #expect(RolloutBucket(salt: "") == .unsalted)
        #expect(RolloutBucket(salt: "").bucket(of: "prod-1") == 29)
    }

    @Test func aProductIsInTheRolloutWhenItsBucketIsBelowThePercentage() throws {
        // prod-1 is in bucket 29.
        #expect(!RolloutBucket.unsalted.includes("prod-1", in: try #require(RolloutPercentage(29))))
        #expect(RolloutBucket.unsalted.includes("prod-1", in: try #require(RolloutPercentage(30))))
        // p-42 is in bucket 99: only 100% covers it.
        #expect(!RolloutBucket.unsalted.includes("p-42", in: try #require(RolloutPercentage(99))))
        #expect(RolloutBucket.unsalted.includes("p-42", in: .all))
        #expect(!RolloutBucket.unsalted.includes("p-42", in: .none))
    }

    static let catalog = (0..<1000).map { "product-\($0)" }

    @Test func raisingThePercentageOnlyAddsProducts() throws {
        var previous = Set<String>()
        for value in 0...100 {
            let percentage = try #require(RolloutPercentage(value))
            let covered = Set(Self.catalog.filter { RolloutBucket.unsalted.includes($0, in: percentage) })
            #expect(previous.isSubset(of: covered), "percentage \(value) dropped products")
            previous = covered
        }
        #expect(previous.count == Self.catalog.count)
    }

    @Test func coverageMatchesThePinnedCountsOfTheSeedFormula() throws {
        // Counted with Python over product-0 ... product-999.
        let ten = try #require(RolloutPercentage(10))
        let fifty = try #require(RolloutPercentage(50))
        #expect(Self.catalog.filter { RolloutBucket.unsalted.includes($0, in: ten) }.count == 116)
        #expect(Self.catalog.filter { RolloutBucket.unsalted.includes($0, in: fifty) }.count == 516)
    }

    @Test func aSaltPicksADifferentSetOfProducts() throws {
        let ten = try #require(RolloutPercentage(10))
        let unsalted = Set(Self.catalog.filter { RolloutBucket.unsalted.includes($0, in: ten) })
        let salted = Set(Self.catalog.filter { RolloutBucket(salt: "flag-b").includes($0, in: ten) })
        // Pinned with Python: only 11 of the 116 products overlap.
        #expect(unsalted.intersection(salted).count == 11)
        #expect(unsalted != salted)
    }

    @Test func percentagesOutsideZeroToHundredDoNotExist() {
        #expect(RolloutPercentage(-1) == nil)
        #expect(RolloutPercentage(101) == nil)
        #expect(RolloutPercentage(0) == RolloutPercentage.none)
        #expect(RolloutPercentage(100) == RolloutPercentage.all)
    }
}
