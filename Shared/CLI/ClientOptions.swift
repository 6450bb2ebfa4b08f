import ArgumentParser
import Foundation
import Proto
import Wire

/// The three services the CLI talks to.
enum ServiceName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case gate, inbox, policy

    /// The port the service listens on by default (the suite's fixed ports).
    var defaultAddress: String {
        switch self {
        case .policy: "127.0.0.1:7101"
        case .gate: "127.0.0.1:7102"
        case .inbox: "127.0.0.1:7103"
        }
    }

    /// The environment variable that overrides `defaultAddress`.
    var addressVariable: String { "O4O_\(rawValue.uppercased())_ADDR" }

    /// The full service name the health method answers for.
    var healthServiceName: String {
        switch self {
        case .gate: "gate.v1.GateService"
        case .inbox: "inbox.v1.InboxService"
        case .policy: "policy.v1.PolicyService"
        }
    }
}

/// The wire callers, spelled as in the credentials file.
enum CallerRole: String, CaseIterable, ExpressibleByArgument, Sendable {
    case checkout
    case settlement
    case supplierPortal = "supplier-portal"
    case `operator`

    var caller: Caller { Caller(rawValue: rawValue) }
}

/// Where a service is and who the CLI says it is: shared by every command that
/// makes a call.
///
/// Resolution order: the flag, then the environment, then the default.
/// Credentials: `--credential SECRET` wins; otherwise the line of `--caller`
/// (each command has its own default caller) in the credentials file named by
/// `--credentials-file` or `WIRE_CREDENTIALS_FILE` — the file the services
/// read, `caller:secret` per line.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The service's host:port.",
        discussion: "Default: $O4O_GATE_ADDR / $O4O_INBOX_ADDR / $O4O_POLICY_ADDR, else 127.0.0.1:7102 / 7103 / 7101."
    ))
    var address: String?

    @Option(help: ArgumentHelp(
        "Which caller's credential to present.",
        discussion: "Default: the caller that normally makes this call (see `o4octl --help`)."
    ))
    var caller: CallerRole?

    @Option(help: ArgumentHelp("The credentials file (caller:secret per line).", discussion: "Default: $WIRE_CREDENTIALS_FILE."))
    var credentialsFile: String?

    @Option(help: "A caller secret to present as is (instead of a credentials file line).")
    var credential: String?

    @Option(help: "Seconds before the call is abandoned (DEADLINE_EXCEEDED).")
    var timeout: Double = 5

    @Option(help: "A request id to send as x-request-id (shows in the service's logs).")
    var requestId: String?

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout: must be between 0 and 3600 seconds, got \(timeout)")
        }
        if let address, !Self.isHostPort(address) {
            throw ValidationError("--address: expected host:port, got \"\(address)\"")
        }
    }

    /// The address to dial for `service`.
    func resolvedAddress(for service: ServiceName, environment: [String: String]) -> String {
        if let address { return address }
        if let fromEnvironment = environment[service.addressVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return service.defaultAddress
    }

    /// The secret to present as `defaultCaller` unless `--caller` says otherwise.
    func resolvedCredential(
        defaultCaller: CallerRole, environment: [String: String],
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(CLIError) -> String {
        if let credential { return credential }
        let role = caller ?? defaultCaller
        guard let path = credentialsFile ?? environment["WIRE_CREDENTIALS_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CLIError(
                field: "credentials",
                "no credential for caller \(role.rawValue): pass --credential, --credentials-file or set WIRE_CREDENTIALS_FILE"
            )
        }
        let contents: String
        do {
            contents = try readFile(path)
        } catch {
            throw CLIError(field: "credentials", "cannot read \(path)")
        }
        let store: CredentialStore
        do {
            store = try CredentialStore(fileContents: contents)
        } catch {
            throw CLIError(field: "credentials", "\(path): \(error)")
        }
        guard let secret = store.secret(for: role.caller) else {
            throw CLIError(field: "credentials", "\(path) has no line for caller \(role.rawValue)")
        }
        return secret
    }

    /// Whether any credential source is configured (flag or environment).
    func hasCredentialSource(environment: [String: String]) -> Bool {
        credential != nil || credentialsFile != nil || !(environment["WIRE_CREDENTIALS_FILE"] ?? "").isEmpty
    }

    /// A connection to `service` presenting the credential of `defaultCaller`
    /// (or `--caller`).
    ///
    /// - Parameter credentialOptional: true for methods open to everyone
    ///   (health): with no credential source configured, none is sent.
    func connect(to service: ServiceName, defaultCaller: CallerRole, credentialOptional: Bool = false) throws(CLIError) -> ServiceConnection {
        let environment = ProcessInfo.processInfo.environment
        let skipCredential = credentialOptional && !hasCredentialSource(environment: environment)
        var configuration = WireClientConfiguration(
            addresses: [resolvedAddress(for: service, environment: environment)],
            credential: skipCredential ? nil : try resolvedCredential(defaultCaller: defaultCaller, environment: environment)
        )
        configuration.connectTimeout = min(.seconds(2), timeoutDuration)
        configuration.defaultTimeout = timeoutDuration
        var metadata: [String: String] = [:]
        if let requestId { metadata["x-request-id"] = requestId }
        return ServiceConnection(client: WireClient(configuration: configuration), timeout: timeoutDuration, metadata: metadata)
    }

    var timeoutDuration: Duration { .milliseconds(Int64((timeout * 1000).rounded())) }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }
}

/// One service's client with the options of this invocation applied.
struct ServiceConnection {
    let client: WireClient
    let timeout: Duration
    let metadata: [String: String]

    /// Calls `method` and waits for the typed answer.
    ///
    /// - Parameter idempotent: true lets the client retry on UNAVAILABLE even
    ///   when the server may have started the call (reads, keyed requests).
    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as: Response.Type = Response.self, idempotent: Bool = false
    ) throws(RPCError) -> Response {
        try client.call(method, request, as: Response.self, timeout: timeout, metadata: metadata, idempotent: idempotent)
    }
}

/// How the answer is printed.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the answer as JSON (stable keys in proto order; times as micros and ISO 8601 UTC).")
    var json = false

    /// Prints `value` as JSON, or `human` (default: the generic key/value rendering).
    func emit(_ value: OutputValue, human: (() -> String)? = nil) {
        print(json ? value.json : (human?() ?? value.text))
    }

    /// Prints a response message.
    func emit(_ message: some ProtoMessage, human: (() -> String)? = nil) {
        emit(OutputValue(reflecting: message), human: human)
    }
}
