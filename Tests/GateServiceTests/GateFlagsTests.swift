import GateCore
@testable import GateService
import Proto
import ServiceKit
import TestSupport
import Testing
import Wire

@Suite struct GateFlagsTests {
    private func set(_ fixture: GateFixture, _ name: String, _ value: String) throws -> FlagsV1.SetFlagResponse {
        let client = fixture.client(.operator)
        defer { client.close() }
        return try client.call(
            "/flags.v1.FlagService/Set", FlagsV1.SetFlagRequest(name: name, value: value, reason: "test", actor: "tester"))
    }

    @Test func aPercentageAbove100IsRefusedByTheSetRPC() throws {
        var options = GateFixture.Options()
        options.withFlags = true
        let fixture = try GateFixture(options)
        do {
            _ = try set(fixture, "PHASE9_ROLLOUT_PERCENTAGE", "140")
            Issue.record("140 was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("PHASE9_ROLLOUT_PERCENTAGE"))
        }
        #expect(fixture.gate.rollout.mode == .full)
    }

    @Test func validFlagsChangeTheRolloutAndAnInvalidCombinationKeepsTheLastGood() throws {
        var options = GateFixture.Options()
        options.withFlags = true
        let fixture = try GateFixture(options)
        #expect(fixture.gate.rollout.mode == .full)

        _ = try set(fixture, "SELLER_AUTH_MODE", "shadow")
        #expect(fixture.gate.rollout.mode == .shadow)
        #expect(try fixture.check("p-unknown").reason == .shadowWouldDeny)

        // Valid alone, invalid together: canary mode with no canary list.
        let response = try set(fixture, "SELLER_AUTH_MODE", "canary")
        #expect(response.flag?.value == "canary")
        #expect(fixture.gate.rollout.mode == .shadow)

        _ = try set(fixture, "PHASE9_CANARY_PRODUCTS", " p-1 , p-2 ")
        #expect(fixture.gate.rollout.mode == .canary(["p-1", "p-2"]))
        _ = try set(fixture, "SELLER_AUTH_CACHE_DENY_TTL_SECONDS", "5")
        #expect(fixture.gate.cacheTTL.denyMilliseconds == 5000)
        _ = try set(fixture, "ENABLE_SELLER_AUTHORIZATION", "false")
        #expect(fixture.gate.rollout.mode == .off)
    }

    @Test func eachFlagIsValidatedOnItsOwn() throws {
        func validate(_ name: String, _ value: String) throws -> String {
            let definition = try #require(GateFlags.definitions.first { $0.name == name })
            return try definition.validate(value)
        }
        #expect(try validate("ENABLE_SELLER_AUTHORIZATION", "TRUE") == "true")
        #expect(try validate("ENABLE_SELLER_AUTHORIZATION", "") == "false")
        #expect(throws: ConfigurationError.self) { try validate("ENABLE_SELLER_AUTHORIZATION", "maybe") }
        #expect(try validate("SELLER_AUTH_MODE", "Canary") == "canary")
        #expect(throws: ConfigurationError.self) { try validate("SELLER_AUTH_MODE", "half") }
        #expect(try validate("PHASE9_ROLLOUT_PERCENTAGE", "100") == "100")
        #expect(try validate("PHASE9_ROLLOUT_PERCENTAGE", "0") == "0")
        #expect(throws: ConfigurationError.self) { try validate("PHASE9_ROLLOUT_PERCENTAGE", "50%") }
        #expect(try validate("SELLER_AUTH_CACHE_TTL_SECONDS", "30") == "30")
        #expect(throws: ConfigurationError.self) { try validate("SELLER_AUTH_CACHE_DENY_TTL_SECONDS", "0") }
    }
}
