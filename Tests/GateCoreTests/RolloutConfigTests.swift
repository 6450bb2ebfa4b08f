import Testing

@testable import GateCore

@Suite("RolloutConfig")
struct RolloutConfigTests {
    typealias V = RolloutConfig.Variable

    private func parse(_ environment: [String: String]) throws -> RolloutConfig {
        try RolloutConfig.fromEnvironment(environment)
    }

    private func percent(_ value: Int) throws -> RolloutPercentage {
        try #require(RolloutPercentage(value))
    }

    private func error(_ environment: [String: String]) -> GateConfigurationError? {
        do {
            _ = try RolloutConfig.fromEnvironment(environment)
            return nil
        } catch {
            return error
        }
    }

    // MARK: The kill switch

    @Test func anEmptyEnvironmentIsOff() throws {
        #expect(try parse([:]).mode == .off)
    }

    @Test func theKillSwitchWinsOverEveryOtherVariable() throws {
        let config = try parse([
            V.enabled: "false", V.mode: "full", V.canaryProducts: "p1", V.rolloutPercentage: "140",
        ])
        #expect(config.mode == .off)
    }

    @Test(arguments: ["true", "TRUE", " True ", "1"])
    func enabledAcceptsTrueSpellings(value: String) throws {
        #expect(try parse([V.enabled: value]).mode == .full)
    }

    @Test(arguments: ["yes", "on", "2", "tru"])
    func enabledRefusesOtherValuesNamingTheVariable(value: String) {
        let failure = error([V.enabled: value])
        #expect(failure?.variable == V.enabled)
        #expect(failure?.code == .invalidValue)
    }

    // MARK: The seed's phases without SELLER_AUTH_MODE

    @Test func aCanaryListSelectsCanary() throws {
        let config = try parse([V.enabled: "true", V.canaryProducts: " p1, p2 ,,p3 "])
        #expect(config.mode == .canary(["p1", "p2", "p3"]))
    }

    @Test func aPercentageBelowHundredSelectsPercentage() throws {
        #expect(try parse([V.enabled: "true", V.rolloutPercentage: "50"]).mode == .percentage(try percent(50)))
        #expect(try parse([V.enabled: "true", V.rolloutPercentage: "0"]).mode == .percentage(.none))
    }

    @Test func aHundredPercentIsFull() throws {
        #expect(try parse([V.enabled: "true", V.rolloutPercentage: "100"]).mode == .full)
    }

    @Test func canaryListAndPercentageTogetherNeedAnExplicitMode() {
        let failure = error([V.enabled: "true", V.canaryProducts: "p1", V.rolloutPercentage: "50"])
        #expect(failure?.variable == V.mode)
        #expect(failure?.code == .conflict)
    }

    @Test func anEmptyCanaryListIsNoCanaryList() throws {
        #expect(try parse([V.enabled: "true", V.canaryProducts: " , "]).mode == .full)
    }

    // MARK: SELLER_AUTH_MODE

    @Test func explicitModesAreHonoured() throws {
        #expect(try parse([V.enabled: "true", V.mode: "off"]).mode == .off)
        #expect(try parse([V.enabled: "true", V.mode: "SHADOW"]).mode == .shadow)
        #expect(try parse([V.enabled: "true", V.mode: "full", V.canaryProducts: "p1"]).mode == .full)
        #expect(try parse([V.enabled: "true", V.mode: "canary", V.canaryProducts: "p1", V.rolloutPercentage: "20"]).mode == .canary(["p1"]))
        #expect(try parse([V.enabled: "true", V.mode: "percentage", V.canaryProducts: "p1", V.rolloutPercentage: "20"]).mode == .percentage(try percent(20)))
        #expect(try parse([V.enabled: "true", V.mode: "percentage", V.rolloutPercentage: "100"]).mode == .percentage(.all))
    }

    @Test func canaryModeWithoutProductsNamesTheList() {
        let failure = error([V.enabled: "true", V.mode: "canary"])
        #expect(failure?.variable == V.canaryProducts)
        #expect(failure?.code == .missingValue)
    }

    @Test func percentageModeWithoutPercentageNamesThePercentage() {
        let failure = error([V.enabled: "true", V.mode: "percentage"])
        #expect(failure?.variable == V.rolloutPercentage)
        #expect(failure?.code == .missingValue)
    }

    @Test func anUnknownModeNamesTheModeVariable() {
        let failure = error([V.enabled: "true", V.mode: "partial"])
        #expect(failure?.variable == V.mode)
        #expect(failure?.description.contains("\"partial\"") == true)
    }

    // MARK: Bad values

    @Test(arguments: ["140", "101", "-1", "+5", "50.5", "50%", "abc", "1000"])
    func badPercentagesAreRefusedNamingTheVariable(value: String) {
        let failure = error([V.enabled: "true", V.rolloutPercentage: value])
        #expect(failure?.variable == V.rolloutPercentage)
        #expect(failure?.code == .invalidValue)
    }

    @Test func aBadPercentageIsRefusedEvenWhenTheModeDoesNotUseIt() {
        let failure = error([V.enabled: "true", V.mode: "full", V.rolloutPercentage: "140"])
        #expect(failure?.description == "PHASE9_ROLLOUT_PERCENTAGE: must be an integer from 0 to 100, got \"140\"")
    }

    @Test func anOverlongCanaryProductIsRefused() {
        let failure = error([V.enabled: "true", V.canaryProducts: "p1," + String(repeating: "x", count: 129)])
        #expect(failure?.variable == V.canaryProducts)
    }

    // MARK: Salt and coverage

    @Test func theSaltIsReadVerbatim() throws {
        #expect(try parse([V.enabled: "true", V.rolloutSalt: "flag-b"]).bucket == RolloutBucket(salt: "flag-b"))
        #expect(try parse([V.enabled: "true", V.rolloutSalt: ""]).bucket == .unsalted)
    }

    @Test func coverageFollowsTheMode() throws {
        // prod-1 is in bucket 29, prod-2 in 65.
        let thirty = try #require(RolloutPercentage(30))
        #expect(RolloutConfig(mode: .off).coverage(of: "prod-1") == .featureOff)
        #expect(RolloutConfig(mode: .shadow).coverage(of: "prod-1") == .shadow)
        #expect(RolloutConfig(mode: .full).coverage(of: "prod-1") == .enforced)
        #expect(RolloutConfig(mode: .canary(["prod-1"])).coverage(of: "prod-1") == .enforced)
        #expect(RolloutConfig(mode: .canary(["prod-1"])).coverage(of: "prod-2") == .outsideRollout)
        #expect(RolloutConfig(mode: .percentage(thirty)).coverage(of: "prod-1") == .enforced)
        #expect(RolloutConfig(mode: .percentage(thirty)).coverage(of: "prod-2") == .outsideRollout)
        // With salt "flag-b" prod-2 is in bucket 10 and prod-1 in 85.
        let salted = RolloutConfig(mode: .percentage(thirty), bucket: RolloutBucket(salt: "flag-b"))
        #expect(salted.coverage(of: "prod-1") == .outsideRollout)
        #expect(salted.coverage(of: "prod-2") == .enforced)
    }

    @Test func onlyShadowAndEnforcedProductsNeedALookup() {
        #expect(!RolloutConfig(mode: .off).needsLookup(productId: "prod-1"))
        #expect(RolloutConfig(mode: .shadow).needsLookup(productId: "prod-1"))
        #expect(!RolloutConfig(mode: .canary(["prod-9"])).needsLookup(productId: "prod-1"))
        #expect(RolloutConfig(mode: .canary(["prod-9"])).needsLookup(productId: "prod-9"))
        #expect(!RolloutConfig(mode: .percentage(.none)).needsLookup(productId: "prod-1"))
        #expect(RolloutConfig(mode: .full).needsLookup(productId: "prod-1"))
    }
}
