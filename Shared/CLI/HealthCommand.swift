import ArgumentParser
import Foundation
import Proto
import Wire

/// `o4octl health [--service X]`: `/health.v1.Health/Check` of one service or
/// all three. Exits 1 unless every service asked is SERVING.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask one service (or all three) whether it is serving, and why not.",
        discussion: """
            Exit status 1 unless every service asked answers SERVING. With all three, --address does not apply. \
            Needs no credential (one is sent when configured).
            """
    )

    static let checkMethod = "/health.v1.Health/Check"

    @OptionGroup(title: "Connection") var client: ClientOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @Option(help: "gate, inbox or policy (default: all three).") var service: ServiceName?

    func validate() throws {
        if service == nil, client.address != nil {
            throw ValidationError("--address: needs --service (each service has its own address)")
        }
    }

    /// One service's answer, or the error that prevented it.
    struct Outcome {
        var service: ServiceName
        var address: String
        var result: Result<HealthV1.HealthCheckResponse, RPCError>

        var isServing: Bool { (try? result.get().status) == .serving }

        var value: OutputValue {
            var fields = [OutputField("service", .string(service.rawValue)), OutputField("address", .string(address))]
            switch result {
            case .success(let response):
                if case .object(let answer) = OutputValue(reflecting: response) { fields += answer }
            case .failure(let error):
                fields.append(OutputField("status", .string("UNREACHABLE")))
                fields.append(OutputField("error", .string("\(error.code): \(error.message)")))
            }
            return .object(fields)
        }
    }

    func run() throws {
        let services = service.map { [$0] } ?? ServiceName.allCases
        var outcomes: [Outcome] = []
        for name in services {
            let address = client.resolvedAddress(for: name, environment: ProcessInfo.processInfo.environment)
            // Health is open to every caller, even without a credential (probes, first installs).
            let connection = try client.connect(to: name, defaultCaller: .operator, credentialOptional: true)
            let request = HealthV1.HealthCheckRequest(service: name.healthServiceName)
            let result = Result { () throws(RPCError) in
                try connection.call(Self.checkMethod, request, as: HealthV1.HealthCheckResponse.self, idempotent: true)
            }
            outcomes.append(Outcome(service: name, address: address, result: result))
        }
        let value: OutputValue = service == nil ? .array(outcomes.map(\.value)) : outcomes[0].value
        output.emit(value) { Self.table(outcomes).text }
        if !outcomes.allSatisfy(\.isServing) { throw ExitCode.failure }
    }

    static func table(_ outcomes: [Outcome]) -> OutputTable {
        var table = OutputTable("service", "address", "status", "detail")
        for outcome in outcomes {
            switch outcome.result {
            case .success(let response):
                let dependencies = response.dependencies.map { dependency in
                    dependency.ok ? "\(dependency.name) ok" : "\(dependency.name) FAILING\(dependency.detail.isEmpty ? "" : " (\(dependency.detail))")"
                }
                table.append([outcome.service.rawValue, outcome.address, OutputValue.enumName(response.status), dependencies.joined(separator: ", ")])
            case .failure(let error):
                table.append([outcome.service.rawValue, outcome.address, "UNREACHABLE", "\(error.code): \(error.message)"])
            }
        }
        return table
    }
}
