import Testing
@testable import O4OCtl

@Suite struct ClientOptionsTests {
    private let secrets = """
        # test credentials
        checkout:checkout-secret-0123456789
        operator:operator-secret-0123456789
        """

    @Test func addressComesFromFlagThenEnvironmentThenDefault() throws {
        let plain = try ClientOptions.parse([])
        #expect(plain.resolvedAddress(for: .gate, environment: [:]) == "127.0.0.1:7102")
        #expect(plain.resolvedAddress(for: .policy, environment: [:]) == "127.0.0.1:7101")
        #expect(plain.resolvedAddress(for: .inbox, environment: ["O4O_INBOX_ADDR": "inbox:9000"]) == "inbox:9000")
        let flagged = try ClientOptions.parse(["--address", "10.0.0.5:7102"])
        #expect(flagged.resolvedAddress(for: .gate, environment: ["O4O_GATE_ADDR": "gate:1"]) == "10.0.0.5:7102")
    }

    @Test func malformedAddressesAndTimeoutsAreUsageErrors() {
        #expect(throws: (any Error).self) { try ClientOptions.parse(["--address", "localhost"]) }
        #expect(throws: (any Error).self) { try ClientOptions.parse(["--timeout", "0"]) }
    }

    @Test func theDefaultCallersLineIsPresented() throws {
        let options = try ClientOptions.parse(["--credentials-file", "/creds"])
        let secret = try options.resolvedCredential(defaultCaller: .operator, environment: [:]) { path in
            #expect(path == "/creds")
            return secrets
        }
        #expect(secret == "operator-secret-0123456789")
    }

    @Test func callerFlagOverridesTheDefaultAndTheEnvironmentNamesTheFile() throws {
        let options = try ClientOptions.parse(["--caller", "checkout"])
        let secret = try options.resolvedCredential(defaultCaller: .operator, environment: ["WIRE_CREDENTIALS_FILE": "/env"]) { _ in secrets }
        #expect(secret == "checkout-secret-0123456789")
    }

    @Test func aDirectCredentialNeedsNoFile() throws {
        let options = try ClientOptions.parse(["--credential", "s3cret"])
        #expect(try options.resolvedCredential(defaultCaller: .settlement, environment: [:]) { _ in "" } == "s3cret")
    }

    @Test func aMissingLineOrFileIsAClearError() throws {
        let options = try ClientOptions.parse(["--credentials-file", "/creds"])
        do {
            _ = try options.resolvedCredential(defaultCaller: .supplierPortal, environment: [:]) { _ in secrets }
            Issue.record("no supplier-portal line: must fail")
        } catch {
            #expect(error.description == "credentials: /creds has no line for caller supplier-portal")
        }
        #expect(throws: CLIError.self) { try ClientOptions.parse([]).resolvedCredential(defaultCaller: .checkout, environment: [:]) }
    }
}
