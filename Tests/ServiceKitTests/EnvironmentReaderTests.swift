import ServiceKit
import Testing

@Suite struct EnvironmentReaderTests {
    @Test func readsTypedValuesWithDefaults() throws {
        let reader = EnvironmentReader(["A": "12", "B": "yes", "C": " 0.5 "])
        #expect(try reader.int("A", default: 1, in: 0...100) == 12)
        #expect(try reader.int("MISSING", default: 7, in: 0...100) == 7)
        #expect(try reader.bool("B", default: false))
        #expect(try reader.seconds("C", default: .seconds(1)) == .milliseconds(500))
    }

    @Test func malformedValuesNameTheVariable() {
        let reader = EnvironmentReader(["PORT": "70000", "FLAG": "perhaps"])
        #expect(throws: ConfigurationError(variable: "PORT", problem: "must be an integer in 0...65535, got \"70000\"")) {
            try reader.int("PORT", default: 1, in: 0...65535)
        }
        let error = #expect(throws: ConfigurationError.self) { try reader.bool("FLAG", default: true) }
        #expect(error?.variable == "FLAG")
        #expect(throws: ConfigurationError.self) { try reader.required("DATABASE_URL") }
    }

    @Test func serviceSettingsRefuseAMissingDatabaseURL() {
        let error = #expect(throws: ConfigurationError.self) {
            try ServiceSettings.fromEnvironment(
                EnvironmentReader(["WIRE_CREDENTIALS_FILE": "/x"]), name: "gate",
                defaultWirePort: 7102, defaultAdminPort: 9102, needsRedis: false
            )
        }
        #expect(error?.variable == "DATABASE_URL")
    }
}
