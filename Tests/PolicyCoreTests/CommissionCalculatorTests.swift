import PolicyCore
import Testing

@Suite("CommissionCalculator")
struct CommissionCalculatorTests {
    @Test func percentageIsTheRateOfTheLine() throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 150_000)
        #expect(try CommissionCalculator.commission(on: Fixture.money(20_000), under: policy) == Fixture.money(3_000))
    }

    @Test func fixedIsTheFixedAmountWhateverTheLine() throws {
        let policy = try Fixture.fixed("f", kind: .default, amount: 500)
        #expect(try CommissionCalculator.commission(on: Fixture.money(20_000), under: policy) == Fixture.money(500))
        #expect(try CommissionCalculator.commission(on: Fixture.money(90_000), under: policy) == Fixture.money(500))
    }

    @Test func minimumRaisesASmallCommission() throws {
        // 10 % of 1,000 = 100, raised to the minimum 250.
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000, currency: "USD", min: 250, max: 5_000)
        #expect(try CommissionCalculator.commission(on: Fixture.money(1_000), under: policy).minorUnits == 250)
    }

    @Test func maximumCapsALargeCommission() throws {
        // 10 % of 100,000 = 10,000, capped at 5,000.
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000, currency: "USD", min: 250, max: 5_000)
        #expect(try CommissionCalculator.commission(on: Fixture.money(100_000), under: policy).minorUnits == 5_000)
    }

    @Test func capsApplyAfterRoundingNotBefore() throws {
        // 10 % of 2,495 = 249.5 -> 250 (rounded once), equal to the minimum: no clamp needed.
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000, currency: "USD", min: 250)
        #expect(try CommissionCalculator.commission(on: Fixture.money(2_495), under: policy).minorUnits == 250)
    }

    @Test func commissionNeverExceedsTheLine() throws {
        let minimumAboveLine = try Fixture.percentage("p", kind: .default, ppm: 10_000, currency: "USD", min: 800)
        #expect(try CommissionCalculator.commission(on: Fixture.money(500), under: minimumAboveLine).minorUnits == 500)
        let fixedAboveLine = try Fixture.fixed("f", kind: .default, amount: 900)
        #expect(try CommissionCalculator.commission(on: Fixture.money(300), under: fixedAboveLine).minorUnits == 300)
    }

    @Test func fixedWithCapsIsClampedToo() throws {
        let policy = try Fixture.fixed("f", kind: .default, amount: 900, max: 700)
        #expect(try CommissionCalculator.commission(on: Fixture.money(10_000), under: policy).minorUnits == 700)
    }

    @Test func zeroRateGivesZeroNotSafeMode() throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 0)
        #expect(try CommissionCalculator.commission(on: Fixture.money(10_000), under: policy).minorUnits == 0)
    }

    @Test(arguments: [Int64(0), -1, .min, 1_000_000_000_000_001, .max])
    func refusesZeroNegativeAndAbsurdLineAmounts(amount: Int64) throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000)
        let line = try Fixture.money(amount)
        #expect {
            try CommissionCalculator.commission(on: line, under: policy)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .outOfRange && error?.field == "line_amount"
        }
    }

    @Test func acceptsTheLargestLineAmount() throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 1_000_000)
        let line = try Fixture.money(Money.maximumAmount)
        #expect(try CommissionCalculator.commission(on: line, under: policy) == line)
    }

    @Test func refusesAFixedAmountInAnotherCurrencyNamingFixedAmount() throws {
        let policy = try Fixture.fixed("f", kind: .default, amount: 500, currency: "USD")
        #expect {
            try CommissionCalculator.commission(on: Fixture.money(10_000, "KRW"), under: policy)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .currencyMismatch && error?.field == "fixed_amount"
        }
    }

    @Test func refusesCapsInAnotherCurrencyNamingTheCap() throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000, currency: "EUR", max: 100)
        #expect {
            try CommissionCalculator.commission(on: Fixture.money(10_000, "USD"), under: policy)
        } throws: { error in
            (error as? PolicyError)?.field == "max_commission"
        }
    }

    @Test func percentageWithoutCurrencyPricesAnyCurrency() throws {
        let policy = try Fixture.percentage("p", kind: .default, ppm: 100_000)
        #expect(try CommissionCalculator.commission(on: Fixture.money(12_345, "KWD"), under: policy) == Fixture.money(1_235, "KWD"))
        #expect(try CommissionCalculator.commission(on: Fixture.money(5, "KRW"), under: policy) == Fixture.money(1, "KRW"))
    }
}
