import Testing

@testable import GateCore

@Suite("GateDecision")
struct GateDecisionTests {
    static let approved = AuthorizationState(version: 3, status: .approved(sinceMicros: 1_000))
    static let revoked = AuthorizationState(version: 4, status: .revoked(approvedAtMicros: 1_000, revokedAtMicros: 5_000))

    /// The lookups of the table, named for readable test output.
    static let lookups: [String: AuthorizationLookup] = [
        "notRequested": .found(.notRequested),
        "pending": .found(AuthorizationState(version: 1, status: .pending)),
        "approved": .found(approved),
        "rejected": .found(AuthorizationState(version: 2, status: .rejected)),
        "revoked": .found(revoked),
        "cancelled": .found(AuthorizationState(version: 2, status: .cancelled)),
        "unavailable": .unavailable,
    ]

    struct Row: Sendable, CustomTestStringConvertible {
        var coverage: RolloutCoverage
        var lookup: String
        var allowed: Bool
        var reason: GateReason
        var evaluated: GateReason?
        var testDescription: String { "\(coverage) × \(lookup)" }
    }

    /// Modes × authorization states; every row holds for every stage when
    /// no order time is given.
    static let table: [Row] = [
        // OFF: allowed, nothing evaluated.
        Row(coverage: .featureOff, lookup: "notRequested", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "pending", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "approved", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "rejected", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "revoked", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "cancelled", allowed: true, reason: .featureOff, evaluated: nil),
        Row(coverage: .featureOff, lookup: "unavailable", allowed: true, reason: .featureOff, evaluated: nil),
        // Outside the canary list or percentage: allowed, nothing evaluated.
        Row(coverage: .outsideRollout, lookup: "notRequested", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "pending", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "approved", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "rejected", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "revoked", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "cancelled", allowed: true, reason: .outsideRollout, evaluated: nil),
        Row(coverage: .outsideRollout, lookup: "unavailable", allowed: true, reason: .outsideRollout, evaluated: nil),
        // SHADOW: always allowed; a would-deny keeps its cause.
        Row(coverage: .shadow, lookup: "notRequested", allowed: true, reason: .shadowWouldDeny, evaluated: .notRequested),
        Row(coverage: .shadow, lookup: "pending", allowed: true, reason: .shadowWouldDeny, evaluated: .pending),
        Row(coverage: .shadow, lookup: "approved", allowed: true, reason: .approved, evaluated: .approved),
        Row(coverage: .shadow, lookup: "rejected", allowed: true, reason: .shadowWouldDeny, evaluated: .rejected),
        Row(coverage: .shadow, lookup: "revoked", allowed: true, reason: .shadowWouldDeny, evaluated: .revoked),
        Row(coverage: .shadow, lookup: "cancelled", allowed: true, reason: .shadowWouldDeny, evaluated: .cancelled),
        Row(coverage: .shadow, lookup: "unavailable", allowed: true, reason: .shadowWouldDeny, evaluated: .unavailable),
        // Enforced (CANARY listed, PERCENTAGE below, FULL): only APPROVED passes; fail closed.
        Row(coverage: .enforced, lookup: "notRequested", allowed: false, reason: .notRequested, evaluated: .notRequested),
        Row(coverage: .enforced, lookup: "pending", allowed: false, reason: .pending, evaluated: .pending),
        Row(coverage: .enforced, lookup: "approved", allowed: true, reason: .approved, evaluated: .approved),
        Row(coverage: .enforced, lookup: "rejected", allowed: false, reason: .rejected, evaluated: .rejected),
        Row(coverage: .enforced, lookup: "revoked", allowed: false, reason: .revoked, evaluated: .revoked),
        Row(coverage: .enforced, lookup: "cancelled", allowed: false, reason: .cancelled, evaluated: .cancelled),
        Row(coverage: .enforced, lookup: "unavailable", allowed: false, reason: .unavailable, evaluated: .unavailable),
    ]

    @Test("decision table: coverage × state × stage", arguments: table, GateStage.allCases)
    func decisionTable(row: Row, stage: GateStage) throws {
        let lookup = try #require(Self.lookups[row.lookup])
        let decision = GateDecision.evaluate(coverage: row.coverage, authorization: lookup, stage: stage)
        #expect(decision.allowed == row.allowed)
        #expect(decision.reason == row.reason)
        #expect(decision.evaluatedReason == row.evaluated)
        #expect(decision.enforced == (row.coverage == .enforced))
    }

    @Test func theTableCoversEveryCoverageAndLookup() {
        let coverages: [RolloutCoverage] = [.featureOff, .outsideRollout, .shadow, .enforced]
        for coverage in coverages {
            for lookup in Self.lookups.keys {
                #expect(Self.table.contains { $0.coverage == coverage && $0.lookup == lookup }, "missing \(coverage) × \(lookup)")
            }
        }
    }

    @Test func aMissingLookupWhereOneWasNeededFailsClosed() {
        let decision = GateDecision.evaluate(coverage: .enforced, authorization: .skipped, stage: .cart)
        #expect(!decision.allowed)
        #expect(decision.reason == .unavailable)
        #expect(decision.isUnavailable)
    }

    @Test func shadowWouldDenyIsFlaggedForLoggingAndCounting() {
        let wouldDeny = GateDecision.evaluate(coverage: .shadow, authorization: .found(Self.revoked), stage: .order)
        #expect(wouldDeny.isShadowWouldDeny)
        #expect(wouldDeny.deniedByRules)
        #expect(!wouldDeny.isUnavailable)
        let wouldAllow = GateDecision.evaluate(coverage: .shadow, authorization: .found(Self.approved), stage: .order)
        #expect(!wouldAllow.isShadowWouldDeny)
        #expect(!wouldAllow.deniedByRules)
        let enforcedDeny = GateDecision.evaluate(coverage: .enforced, authorization: .found(Self.revoked), stage: .order)
        #expect(enforcedDeny.deniedByRules)
        #expect(!enforcedDeny.isShadowWouldDeny)
    }

    @Test func evaluatingFromTheConfigAppliesTheProductsCoverage() {
        // Canary lists prod-1 only: prod-2 is waved through without a lookup.
        let config = RolloutConfig(mode: .canary(["prod-1"]))
        let inCanary = GateDecision.evaluate(config: config, productId: "prod-1", authorization: .found(.notRequested), stage: .cart)
        let outside = GateDecision.evaluate(config: config, productId: "prod-2", authorization: .skipped, stage: .cart)
        #expect(!inCanary.allowed && inCanary.reason == .notRequested)
        #expect(outside.allowed && outside.reason == .outsideRollout)
    }

    // MARK: Settlement and the order time

    /// Approved at 1,000 µs, revoked at 5,000 µs.
    static let aroundTheRevocation: [(orderTime: Int64?, allowed: Bool, reason: GateReason)] = [
        (nil, false, .revoked),
        (999, false, .notAuthorizedAtOrderTime),
        (1_000, true, .approvedAtOrderTime),
        (4_999, true, .approvedAtOrderTime),
        (5_000, false, .revoked),
        (5_001, false, .revoked),
    ]

    @Test("settlement judges a revoked pair at the order time", arguments: aroundTheRevocation)
    func settlementJudgesRevokedPairsAtTheOrderTime(orderTime: Int64?, allowed: Bool, reason: GateReason) {
        let decision = GateDecision.evaluate(
            coverage: .enforced, authorization: .found(Self.revoked), stage: .settlement, orderTimeMicros: orderTime)
        #expect(decision.allowed == allowed)
        #expect(decision.reason == reason)
    }

    static let aroundTheApproval: [(orderTime: Int64?, allowed: Bool, reason: GateReason)] = [
        (nil, true, .approved),
        (999, false, .notAuthorizedAtOrderTime),
        (1_000, true, .approved),
        (9_999_999, true, .approved),
    ]

    @Test("settlement judges an approved pair at the order time", arguments: aroundTheApproval)
    func settlementJudgesApprovedPairsAtTheOrderTime(orderTime: Int64?, allowed: Bool, reason: GateReason) {
        let decision = GateDecision.evaluate(
            coverage: .enforced, authorization: .found(Self.approved), stage: .settlement, orderTimeMicros: orderTime)
        #expect(decision.allowed == allowed)
        #expect(decision.reason == reason)
    }

    @Test(arguments: [GateStage.cart, .order])
    func cartAndOrderIgnoreAnOrderTime(stage: GateStage) {
        let decision = GateDecision.evaluate(
            coverage: .enforced, authorization: .found(Self.revoked), stage: stage, orderTimeMicros: 2_000)
        #expect(!decision.allowed)
        #expect(decision.reason == .revoked)
    }

    @Test func anOrderTimeNeverHelpsAPairThatWasNeverApproved() {
        for status in [AuthorizationState.Status.pending, .rejected, .cancelled] {
            let state = AuthorizationState(version: 2, status: status)
            let decision = GateDecision.evaluate(
                coverage: .enforced, authorization: .found(state), stage: .settlement, orderTimeMicros: 2_000)
            #expect(!decision.allowed, "\(status)")
        }
    }

    @Test func shadowSettlementReportsTheOrderTimeVerdict() {
        let decision = GateDecision.evaluate(
            coverage: .shadow, authorization: .found(Self.revoked), stage: .settlement, orderTimeMicros: 6_000)
        #expect(decision.allowed)
        #expect(decision.reason == .shadowWouldDeny)
        #expect(decision.evaluatedReason == .revoked)
    }
}
