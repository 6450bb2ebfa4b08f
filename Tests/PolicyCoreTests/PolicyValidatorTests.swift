import PolicyCore
import Testing

@Suite("PolicyValidator")
struct PolicyValidatorTests {
    /// A valid percentage draft that each test breaks in one place.
    private func draft() -> PolicyDraft {
        PolicyDraft(
            code: "SUPPLIER-TEST-2025",
            kind: .supplier,
            commissionType: .percentage,
            ratePPM: 150_000,
            currencyCode: "KRW",
            minCommission: 100,
            maxCommission: 50_000,
            validFrom: Fixture.orderTime,
            validUntil: Fixture.orderTime + 365 * Fixture.day,
            status: .active
        )
    }

    private func expectRefusal(
        _ draft: PolicyDraft,
        code: PolicyError.Code,
        field: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(sourceLocation: sourceLocation) {
            try PolicyValidator.policy(from: draft, id: "pol-1", version: 1)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == code && error?.field == field && error?.message.hasPrefix("\(field): ") == true
        }
    }

    @Test func buildsAPolicyFromAValidDraft() throws {
        let policy = try PolicyValidator.policy(from: draft(), id: "pol-1", version: 3)
        #expect(policy.commission == .percentage(try CommissionRate(ppm: 150_000)))
        #expect(policy.minCommission == (try Fixture.money(100, "KRW")))
        #expect(policy.maxCommission == (try Fixture.money(50_000, "KRW")))
        #expect(policy.window.start == Fixture.orderTime)
        #expect(policy.version == 3)
        #expect(policy.kind == .supplier)
    }

    @Test func refusesMinAboveMaxNamingMinCommission() {
        var draft = draft()
        draft.minCommission = 50_001
        expectRefusal(draft, code: .invalidBounds, field: "min_commission")
    }

    @Test func acceptsMinEqualToMax() throws {
        var draft = draft()
        draft.minCommission = 500
        draft.maxCommission = 500
        #expect(try PolicyValidator.policy(from: draft, id: "pol-1", version: 1).minCommission?.minorUnits == 500)
    }

    @Test func refusesANegativeRateNamingRatePPM() {
        var draft = draft()
        draft.ratePPM = -1
        expectRefusal(draft, code: .outOfRange, field: "rate_ppm")
    }

    @Test func refusesARateAboveOneHundredPercent() {
        var draft = draft()
        draft.ratePPM = 1_000_001
        expectRefusal(draft, code: .outOfRange, field: "rate_ppm")
    }

    @Test func refusesAnUnknownCurrencyNamingCurrency() {
        var draft = draft()
        draft.currencyCode = "XXY"
        expectRefusal(draft, code: .unknownCurrency, field: "currency")
    }

    @Test func refusesCapsWithoutCurrency() {
        var draft = draft()
        draft.currencyCode = ""
        expectRefusal(draft, code: .missingField, field: "currency")
    }

    @Test func refusesNegativeCaps() {
        var draft = draft()
        draft.minCommission = -1
        expectRefusal(draft, code: .outOfRange, field: "min_commission")
    }

    @Test(arguments: ["", "lower-case", "-LEADING", "WITH SPACE", "DÉFAUT", String(repeating: "A", count: 65)])
    func refusesMalformedCodesNamingCode(code: String) {
        var draft = draft()
        draft.code = code
        #expect {
            try PolicyValidator.policy(from: draft, id: "pol-1", version: 1)
        } throws: { error in
            (error as? PolicyError)?.field == "code"
        }
    }

    @Test func refusesAWindowEndingAtItsStart() {
        var draft = draft()
        draft.validUntil = draft.validFrom
        expectRefusal(draft, code: .invalidWindow, field: "valid_until_unix_micros")
    }

    @Test func refusesUnspecifiedEnumerationsByName() {
        var noKind = draft()
        noKind.kind = nil
        expectRefusal(noKind, code: .missingField, field: "kind")
        var noStatus = draft()
        noStatus.status = nil
        expectRefusal(noStatus, code: .missingField, field: "status")
        var noType = draft()
        noType.commissionType = nil
        expectRefusal(noType, code: .missingField, field: "commission_type")
    }

    @Test func fixedPolicyNeedsACurrencyAndNoRate() {
        var fixed = PolicyDraft(code: "FIX-1", kind: .default, commissionType: .fixed, fixedAmount: 500, status: .active)
        expectRefusal(fixed, code: .missingField, field: "currency")
        fixed.currencyCode = "USD"
        fixed.ratePPM = 10
        expectRefusal(fixed, code: .invalidFormat, field: "rate_ppm")
    }

    @Test func percentagePolicyRefusesAFixedAmount() {
        var draft = draft()
        draft.fixedAmount = 10
        expectRefusal(draft, code: .invalidFormat, field: "fixed_amount")
    }

    @Test func refusesAbsurdFixedAmounts() {
        let draft = PolicyDraft(code: "FIX-1", kind: .default, commissionType: .fixed,
                                fixedAmount: Money.maximumAmount + 1, currencyCode: "USD", status: .active)
        expectRefusal(draft, code: .outOfRange, field: "fixed_amount")
    }

    @Test func refusesAMissingIdOrVersion() {
        #expect {
            try PolicyValidator.policy(from: draft(), id: "", version: 1)
        } throws: { error in
            (error as? PolicyError)?.field == "policy_id"
        }
        #expect {
            try PolicyValidator.policy(from: draft(), id: "pol-1", version: 0)
        } throws: { error in
            (error as? PolicyError)?.field == "version"
        }
    }

    @Test func refusesLinkingAPolicyToAScopeOfAnotherKind() throws {
        let supplierPolicy = try PolicyValidator.policy(from: draft(), id: "pol-1", version: 1)
        let productLink = try Fixture.link(.product, "p-1", to: supplierPolicy)
        #expect {
            try PolicyValidator.checkLink(productLink, to: supplierPolicy)
        } throws: { error in
            let error = error as? PolicyError
            return error?.code == .kindMismatch && error?.field == "scope_kind"
        }
        try PolicyValidator.checkLink(try Fixture.link(.supplier, "s-1", to: supplierPolicy), to: supplierPolicy)
    }

    @Test func refusesOverlappingWindowsOnOneScope() throws {
        let thisYear = try Fixture.percentage("y1", kind: .supplier, ppm: 1, from: 0, until: 100)
        let nextYear = try Fixture.percentage("y2", kind: .supplier, ppm: 1, from: 100, until: 200)
        let overlapping = try Fixture.percentage("y3", kind: .supplier, ppm: 1, from: 150, until: nil)
        try PolicyValidator.checkNoOverlap(nextYear, with: [thisYear])
        try PolicyValidator.checkNoOverlap(thisYear, with: [thisYear]) // re-validating itself is fine
        #expect {
            try PolicyValidator.checkNoOverlap(overlapping, with: [thisYear, nextYear])
        } throws: { error in
            (error as? PolicyError)?.code == .overlappingWindows
        }
    }
}
