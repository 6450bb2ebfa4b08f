import Testing

@testable import GateCore

@Suite("CacheTTL")
struct CacheTTLTests {
    @Test func defaultsAreTheSeedsSixtySecondsAndTenForDenials() throws {
        let ttl = try CacheTTL.fromEnvironment([:])
        #expect(ttl == .default)
        #expect(ttl.milliseconds(for: AuthorizationState(version: 1, status: .approved(sinceMicros: 5))) == 60_000)
        #expect(ttl.milliseconds(for: AuthorizationState(version: 2, status: .revoked(approvedAtMicros: 5, revokedAtMicros: 6))) == 10_000)
        #expect(ttl.milliseconds(for: .notRequested) == 10_000)
        #expect(ttl.maximumFillAgeMilliseconds == 5_000)
    }

    @Test func readsBothTTLsFromTheEnvironment() throws {
        let ttl = try CacheTTL.fromEnvironment([
            CacheTTL.Variable.allowSeconds: "120", CacheTTL.Variable.denySeconds: " 5 ",
        ])
        #expect(ttl.allowMilliseconds == 120_000)
        #expect(ttl.denyMilliseconds == 5_000)
    }

    @Test func aShortAllowTTLLowersTheDefaultDenyTTL() throws {
        let ttl = try CacheTTL.fromEnvironment([CacheTTL.Variable.allowSeconds: "4"])
        #expect(ttl.denyMilliseconds == 4_000)
    }

    @Test(arguments: ["0", "-1", "3601", "1.5", "ten"])
    func badValuesNameTheVariable(value: String) {
        #expect(throws: GateConfigurationError.self) {
            try CacheTTL.fromEnvironment([CacheTTL.Variable.allowSeconds: value])
        }
        do {
            _ = try CacheTTL.fromEnvironment([CacheTTL.Variable.denySeconds: value])
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.variable == CacheTTL.Variable.denySeconds)
        }
    }

    @Test func aDenyTTLAboveTheAllowTTLIsAConflict() {
        do {
            _ = try CacheTTL.fromEnvironment([CacheTTL.Variable.allowSeconds: "30", CacheTTL.Variable.denySeconds: "31"])
            Issue.record("accepted a deny TTL above the allow TTL")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.variable == CacheTTL.Variable.denySeconds)
        }
    }

    @Test func theInitializerKeepsTTLsPositiveAndOrdered() {
        let ttl = CacheTTL(allowMilliseconds: 0, denyMilliseconds: 50)
        #expect(ttl.allowMilliseconds == 1)
        #expect(ttl.denyMilliseconds == 1)
    }
}
