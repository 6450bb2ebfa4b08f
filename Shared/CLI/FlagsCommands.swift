import ArgumentParser
import Foundation
import Proto
import Wire

/// `o4octl flags get|set`: the runtime flags every service serves
/// (`/flags.v1.FlagService/List` and `/Set`).
struct FlagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flags",
        abstract: "Read or change a service's runtime flags (caller operator).",
        subcommands: [Get.self, Set.self]
    )

    static let listMethod = "/flags.v1.FlagService/List"
    static let setMethod = "/flags.v1.FlagService/Set"

    static func table(_ flags: [FlagsV1.Flag]) -> OutputTable {
        var table = OutputTable("name", "value", "source", "updated", "by")
        for flag in flags {
            table.append([
                flag.name, flag.value, flag.source,
                flag.updatedAtUnixMicros == 0 ? "" : Timestamp.iso8601(micros: flag.updatedAtUnixMicros), flag.updatedBy,
            ])
        }
        return table
    }
}

extension FlagsCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a service's flags as this instance applies them, or one flag by name."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "gate, inbox or policy.") var service: ServiceName
        @Argument(help: "One flag's name, e.g. PHASE9_ROLLOUT_PERCENTAGE.") var name: String?

        func run() throws {
            let connection = try client.connect(to: service, defaultCaller: .operator)
            var response = try connection.call(
                FlagsCommand.listMethod, FlagsV1.ListFlagsRequest(), as: FlagsV1.ListFlagsResponse.self, idempotent: true
            )
            if let name {
                response.flags = response.flags.filter { $0.name == name }
                guard !response.flags.isEmpty else {
                    throw CLIError(field: "NAME", "\(service.rawValue) has no flag \(name)")
                }
            }
            output.emit(response) {
                var text = FlagsCommand.table(response.flags).text
                if name != nil, let description = response.flags.first?.description, !description.isEmpty {
                    text += "\n\n\(description)"
                }
                let refreshed = response.lastRefreshUnixMicros == 0 ? "never" : Timestamp.iso8601(micros: response.lastRefreshUnixMicros)
                text += "\n\nservice \(response.service), last refresh \(refreshed)"
                if response.stale { text += "\nWARNING: stale: the instance cannot read the flag store and keeps its last known good values" }
                return text
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a flag at runtime (persisted with an audit row; reaches every instance within seconds).",
            discussion: "Values use their environment spelling: true/false, 25, p1,p2. A bad value is INVALID_ARGUMENT."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "gate, inbox or policy.") var service: ServiceName
        @Argument(help: "The flag's name, e.g. PHASE9_ROLLOUT_PERCENTAGE.") var name: String
        @Argument(help: "The new value.") var value: String
        @Option(help: "Why (required; kept in the audit row).") var reason: String
        @Option(help: "The person acting (default: $O4O_OPERATOR_ID, else $USER).") var actor: String?

        func makeRequest(environment: [String: String]) throws(CLIError) -> FlagsV1.SetFlagRequest {
            guard !reason.trimmingWhitespace().isEmpty else { throw CLIError(field: "--reason", "must not be empty") }
            let who = try OperatorOptions.person(given: actor, option: "--actor", environment: environment)
            return FlagsV1.SetFlagRequest(name: name, value: value, reason: reason, actor: who)
        }

        func run() throws {
            let request = try makeRequest(environment: ProcessInfo.processInfo.environment)
            let connection = try client.connect(to: service, defaultCaller: .operator)
            let response = try connection.call(FlagsCommand.setMethod, request, as: FlagsV1.SetFlagResponse.self)
            output.emit(response) {
                let flag = response.flag ?? FlagsV1.Flag()
                return "\(flag.name): \(response.previousValue.isEmpty ? "\"\"" : response.previousValue) -> \(flag.value)\n\n"
                    + FlagsCommand.table([flag]).text
            }
        }
    }
}
