import PolicyCore
import Testing

@Suite("CommissionRate")
struct CommissionRateTests {
    @Test func refusesANegativeRateNamingRatePPM() {
        #expect {
            try CommissionRate(ppm: -1)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .outOfRange && error?.field == "rate_ppm"
        }
    }

    @Test func refusesARateAboveOneHundredPercent() {
        #expect(throws: PolicyError.self) { try CommissionRate(ppm: 1_000_001) }
    }

    @Test func acceptsZeroAndOneHundredPercent() throws {
        #expect(try CommissionRate(ppm: 0).portion(of: 12_345) == 0)
        #expect(try CommissionRate(ppm: 1_000_000).portion(of: 12_345) == 12_345)
    }

    // 10 % of an amount ending in 5 is an exact tie at the minor unit:
    // half-up rounds it away from zero, in every currency alike.
    @Test(arguments: [
        (Int64(5), Int64(1)),          // 0-decimal: 0.5 KRW -> 1 KRW
        (Int64(15), Int64(2)),         // 1.5 -> 2
        (Int64(25), Int64(3)),         // 2.5 -> 3 (banker's rounding would give 2)
        (Int64(1_005), Int64(101)),    // 2-decimal: 10.05 USD -> 1.005 -> 1.01
        (Int64(12_345), Int64(1_235)), // 3-decimal: 12.345 KWD -> 1.2345 -> 1.235
    ])
    func roundsTiesHalfUp(amount: Int64, expected: Int64) throws {
        #expect(try CommissionRate(ppm: 100_000).portion(of: amount) == expected)
    }

    @Test func roundsBelowATieDownAndAboveUp() throws {
        let rate = try CommissionRate(ppm: 125_000) // 12.5 %
        #expect(rate.portion(of: 3) == 0)  // 0.375
        #expect(rate.portion(of: 4) == 1)  // 0.5, tie
        #expect(rate.portion(of: 5) == 1)  // 0.625
        #expect(rate.portion(of: 11) == 1) // 1.375
    }

    @Test func roundsNegativeTiesAwayFromZero() throws {
        #expect(try CommissionRate(ppm: 100_000).portion(of: -5) == -1)
        #expect(try CommissionRate(ppm: 100_000).portion(of: -4) == 0)
    }

    @Test func isExactWhereTheProductExceeds64Bits() throws {
        // 10^15 x 999,999 = 9.99999 x 10^20 > Int64.max: the 128-bit path.
        let rate = try CommissionRate(ppm: 999_999)
        #expect(rate.portion(of: 1_000_000_000_000_000) == 999_999_000_000_000)
        // Int64.max x 0.5: 4611686018427387903.5 -> ...904; no trap, no wrap.
        #expect(try CommissionRate(ppm: 500_000).portion(of: .max) == 4_611_686_018_427_387_904)
        #expect(try CommissionRate(ppm: 1_000_000).portion(of: .min) == .min)
    }

    @Test(arguments: [(Int64(125_000), "12.5%"), (100_000, "10%"), (1, "0.0001%"), (123_450, "12.345%")])
    func describesItselfAsAPercentage(ppm: Int64, text: String) throws {
        #expect(try CommissionRate(ppm: ppm).description == text)
    }
}
