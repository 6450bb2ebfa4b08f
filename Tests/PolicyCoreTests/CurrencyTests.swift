import PolicyCore
import Testing

@Suite("Currency")
struct CurrencyTests {
    @Test(arguments: [
        ("KRW", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("GBP", 2), ("CNY", 2),
        ("KWD", 3), ("BHD", 3), ("JOD", 3), ("OMR", 3), ("TND", 3),
    ])
    func knowsTheMinorUnitOfCodesInUse(code: String, digits: Int) throws {
        let currency = try Currency(code: code)
        #expect(currency.minorUnitDigits == digits)
        #expect(currency.code == code)
    }

    @Test(arguments: ["XYZ", "usd", "US", "USDD", "U$D", "ÜSD"])
    func refusesUnknownOrMalformedCodesNamingTheField(code: String) {
        #expect {
            try Currency(code: code)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .unknownCurrency && error?.field == "currency"
        }
    }

    @Test func refusesAnEmptyCodeAsMissing() {
        #expect(throws: PolicyError(.missingField, field: "currency", "required ISO 4217 code")) {
            try Currency(code: "")
        }
    }

    @Test func namesTheFieldTheCallerGives() {
        #expect {
            try Currency(code: "ABC", field: "items[3].currency")
        } throws: { error in
            (error as? PolicyError)?.field == "items[3].currency"
        }
    }

    @Test func equalCodesAreEqualCurrencies() throws {
        #expect(try Currency(code: "EUR") == Currency(code: "EUR"))
        #expect(try Currency(code: "EUR") != Currency(code: "USD"))
    }
}
