import PolicyCore
import Testing

@Suite("Money")
struct MoneyTests {
    @Test func addsAmountsOfOneCurrency() throws {
        let sum = try Fixture.money(1_050).adding(Fixture.money(25))
        #expect(sum == (try Fixture.money(1_075)))
    }

    @Test func refusesToAddAcrossCurrencies() throws {
        let usd = try Fixture.money(100, "USD")
        let eur = try Fixture.money(100, "EUR")
        #expect {
            try usd.adding(eur, field: "total")
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .currencyMismatch && error?.field == "total"
        }
    }

    @Test func refusesOverflowInsteadOfWrapping() throws {
        let big = try Fixture.money(.max)
        #expect {
            try big.adding(Fixture.money(1))
        } throws: { error in
            (error as? PolicyError)?.code == .overflow
        }
        #expect {
            try Fixture.money(.min).subtracting(Fixture.money(1))
        } throws: { error in
            (error as? PolicyError)?.code == .overflow
        }
    }

    @Test func sumsStoredLinesWithoutReRounding() throws {
        let krw = try Currency(code: "KRW")
        let lines = [1, 1, 1].map { Money(minorUnits: $0, currency: krw) }
        #expect(try Money.sum(lines, currency: krw).minorUnits == 3)
    }

    @Test func sumOfManyLargeLinesOverflowsAsAnError() throws {
        let usd = try Currency(code: "USD")
        let lines = Array(repeating: Money(minorUnits: .max / 2, currency: usd), count: 3)
        #expect(throws: PolicyError.self) {
            try Money.sum(lines, currency: usd)
        }
    }

    @Test(arguments: [
        (Int64(1_234), "USD", "12.34 USD"),
        (Int64(5), "USD", "0.05 USD"),
        (Int64(-5), "KWD", "-0.005 KWD"),
        (Int64(1_500), "KRW", "1500 KRW"),
    ])
    func describesItselfInDecimal(units: Int64, code: String, text: String) throws {
        #expect(try Fixture.money(units, code).description == text)
    }
}
