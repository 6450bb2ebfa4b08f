import Proto
import Testing
@testable import O4OCtl

@Suite struct PolicyTermsOptionsTests {
    @Test(arguments: [("12.5", Int64(125_000)), ("12.5%", 125_000), ("0", 0), ("100", 1_000_000), ("0.0001", 1), ("7.25 ", 72_500)])
    func percentTextBecomesExactPartsPerMillion(_ text: String, _ ppm: Int64) throws {
        #expect(try PolicyTermsOptions.ppm(fromPercent: text) == ppm)
    }

    @Test(arguments: ["12.34567", "100.0001", "-1", "1e3", "abc", ".5", "12.5.1", "1000"])
    func impreciseOrOutOfRangeRatesAreRefused(_ text: String) {
        #expect(throws: CLIError.self) { try PolicyTermsOptions.ppm(fromPercent: text) }
    }

    @Test func createBuildsTermsFromOptions() throws {
        let command = try PolicyCommand.Create.parse([
            "--code", "SUPPLIER-ACME-2025", "--kind", "supplier", "--type", "percentage", "--rate", "8.5",
            "--currency", "usd", "--min-commission", "100", "--valid-from", "2025-01-01", "--status", "active",
            "--operator-id", "alice",
        ])
        let request = try command.makeRequest()
        #expect(request.operatorId == "alice")
        #expect(request.status == .active)
        #expect(request.terms == PolicyV1.PolicyTerms(
            code: "SUPPLIER-ACME-2025", kind: .supplier, commissionType: .percentage, ratePpm: 85_000, currency: "USD",
            minCommission: PolicyV1.Int64Value(value: 100), validFromUnixMicros: PolicyV1.Int64Value(value: 1_735_689_600_000_000)
        ))
    }

    @Test func createRequiresCodeKindAndType() {
        #expect(throws: (any Error).self) { try PolicyCommand.Create.parse(["--code", "X", "--status", "active"]) }
    }

    @Test func updateKeepsUnnamedTermsClearsBoundsAndUsesTheVersionRead() throws {
        let stored = PolicyV1.Policy(
            id: "5f1d7a2e-1b3c-4d5e-8f90-a1b2c3d4e5f6",
            terms: PolicyV1.PolicyTerms(
                code: "DEFAULT-2025", kind: .default, commissionType: .percentage, ratePpm: 100_000, currency: "USD",
                minCommission: PolicyV1.Int64Value(value: 100), maxCommission: PolicyV1.Int64Value(value: 5_000)
            ),
            status: .active, version: 3
        )
        let command = try PolicyCommand.Update.parse(["DEFAULT-2025", "--rate-ppm", "120000", "--clear", "max-commission", "--operator-id", "bob"])
        let request = try command.makeRequest(current: stored)
        #expect(request.policyId == stored.id)
        #expect(request.expectedVersion == 3)
        #expect(request.terms?.ratePpm == 120_000)
        #expect(request.terms?.minCommission == PolicyV1.Int64Value(value: 100))
        #expect(request.terms?.maxCommission == nil)
        #expect(request.terms?.code == "DEFAULT-2025")
    }

    @Test func switchingToFixedZeroesTheRate() throws {
        let options = try PolicyTermsOptions.parse(["--type", "fixed", "--fixed-amount", "500"])
        let terms = try options.apply(to: PolicyV1.PolicyTerms(commissionType: .percentage, ratePpm: 100_000))
        #expect(terms.commissionType == .fixed)
        #expect(terms.ratePpm == 0)
        #expect(terms.fixedAmount == 500)
    }

    @Test func unknownEnumValuesAreUsageErrorsNamingTheOption() {
        do {
            _ = try PolicyTermsOptions.parse(["--kind", "galaxy"])
            Issue.record("an unknown kind must be refused")
        } catch {
            #expect(PolicyTermsOptions.message(for: error) == "--kind: expected one of product, supplier, tier, default, got \"galaxy\"")
        }
    }

    @Test func malformedTimesAndRatesAreUsageErrors() {
        #expect(throws: (any Error).self) { try PolicyTermsOptions.parse(["--valid-from", "tomorrow"]) }
        #expect(throws: (any Error).self) { try PolicyTermsOptions.parse(["--rate", "12.34567"]) }
        #expect(throws: (any Error).self) { try PolicyTermsOptions.parse(["--clear", "rate"]) }
    }

    @Test func policyReferencesAreIDsWhenUUIDsElseCodes() {
        #expect(PolicyCommand.getRequest(for: "5f1d7a2e-1b3c-4d5e-8f90-a1b2c3d4e5f6").policyId == "5f1d7a2e-1b3c-4d5e-8f90-a1b2c3d4e5f6")
        #expect(PolicyCommand.getRequest(for: "DEFAULT-2025").code == "DEFAULT-2025")
        #expect(PolicyCommand.getRequest(for: "5F1D7A2E-1B3C-4D5E-8F90-A1B2C3D4E5F6").code == "5F1D7A2E-1B3C-4D5E-8F90-A1B2C3D4E5F6")
    }
}
