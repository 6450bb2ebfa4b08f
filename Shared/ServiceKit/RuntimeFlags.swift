import Foundation
public import Logging
import Metrics
public import Proto
public import ServiceLifecycle
public import Storage
import Synchronization
public import Wire

/// One runtime flag: its name (the environment variable), what it does, and how
/// a value is checked and normalised.
public struct FlagDefinition: Sendable {
    public var name: String
    public var description: String
    /// Returns the normalised value or throws naming the flag and the rule.
    public var validate: @Sendable (String) throws(ConfigurationError) -> String

    public init(name: String, description: String, validate: @escaping @Sendable (String) throws(ConfigurationError) -> String) {
        self.name = name
        self.description = description
        self.validate = validate
    }

    public static func bool(_ name: String, _ description: String) -> FlagDefinition {
        FlagDefinition(name: name, description: description) { raw throws(ConfigurationError) in
            try EnvironmentReader.parseBool(raw, name: name) ? "true" : "false"
        }
    }

    public static func int(_ name: String, _ description: String, in range: ClosedRange<Int>) -> FlagDefinition {
        FlagDefinition(name: name, description: description) { raw throws(ConfigurationError) in
            String(try EnvironmentReader.parseInt(raw, name: name, in: range))
        }
    }
}

/// The values of a service's runtime flags at one moment.
public struct FlagValues: Sendable, Equatable {
    public var values: [String: String]

    public subscript(name: String) -> String { values[name] ?? "" }

    public func bool(_ name: String) -> Bool { values[name] == "true" }

    public func int(_ name: String) -> Int { Int(values[name] ?? "") ?? 0 }
}

/// A service's runtime flags: read from the environment at start, overridden
/// by values an operator sets (persisted in `ops.runtime_flags` with an audit
/// row), and refreshed from PostgreSQL every second so a change reaches every
/// instance within 2 s. When PostgreSQL cannot be read, the last known good
/// values stay in force and the instance reports itself stale.
public final class RuntimeFlags: Service, Sendable {
    public let service: String
    private let definitions: [FlagDefinition]
    private let defaults: [String: String]
    private let pool: PostgresPool
    private let logger: Logger
    private let refreshInterval: Duration

    private struct State {
        var values: [String: String]
        var metadata: [String: (updatedAt: Int64, updatedBy: String)] = [:]
        var stale = false
        var lastRefreshMicros: Int64 = 0
        var observers: [@Sendable (FlagValues) -> Void] = []
        var polling = false
    }

    private let state: Mutex<State>
    private let staleGauge = Gauge(label: "runtime_flags_stale")
    private let refreshGauge = Gauge(label: "runtime_flags_last_refresh_timestamp_seconds")

    /// Reads every flag from the environment; a malformed value stops start-up.
    public init(
        service: String, definitions: [FlagDefinition], environment: EnvironmentReader,
        defaults: [String: String], pool: PostgresPool, logger: Logger, refreshInterval: Duration = .seconds(1)
    ) throws(ConfigurationError) {
        var values: [String: String] = [:]
        for definition in definitions {
            let raw = environment.string(definition.name) ?? defaults[definition.name] ?? ""
            values[definition.name] = try definition.validate(raw)
        }
        self.service = service
        self.definitions = definitions
        self.defaults = values
        self.pool = pool
        self.logger = logger
        self.refreshInterval = refreshInterval
        self.state = Mutex(State(values: values))
    }

    /// The values in force now.
    public var current: FlagValues { FlagValues(values: state.withLock { $0.values }) }

    /// True when the last refresh failed and last known good values are in use.
    public var isStale: Bool { state.withLock { $0.stale } }

    /// Calls `observer` now and after every change.
    public func observe(_ observer: @escaping @Sendable (FlagValues) -> Void) {
        let values = state.withLock { state -> FlagValues in
            state.observers.append(observer)
            return FlagValues(values: state.values)
        }
        observer(values)
    }

    /// Reads the operator-set values once. Returns false (and marks the flags
    /// stale) when PostgreSQL could not be read.
    @discardableResult
    public func refresh(deadline: Deadline = .after(seconds: 2)) -> Bool {
        let rows: [(String, String, Int64, String)]
        do {
            rows = try pool.withConnection(deadline: deadline) { connection in
                try connection.query(
                    "SELECT name, value, (extract(epoch FROM updated_at) * 1000000)::int8, updated_by FROM ops.runtime_flags WHERE service = $1",
                    [.text(service)], deadline: deadline
                ).map { row in (try row.string(0), try row.string(1), try row.int64(2), try row.string(3)) }
            }
        } catch {
            let wasStale = state.withLock { state -> Bool in
                defer { state.stale = true }
                return state.stale
            }
            staleGauge.record(1)
            if !wasStale { logger.warning("runtime flags stale: keeping last known good values", metadata: ["error": "\(error)"]) }
            return false
        }
        var values = defaults
        var metadata: [String: (updatedAt: Int64, updatedBy: String)] = [:]
        for (name, raw, updatedAt, updatedBy) in rows {
            guard let definition = definitions.first(where: { $0.name == name }) else { continue }
            do {
                values[name] = try definition.validate(raw)
                metadata[name] = (updatedAt, updatedBy)
            } catch {
                logger.error("ignoring invalid stored flag value", metadata: ["flag": "\(name)", "error": "\(error)"])
            }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let (changed, observers) = state.withLock { state -> (Bool, [@Sendable (FlagValues) -> Void]) in
            let changed = state.values != values
            state.values = values
            state.metadata = metadata
            state.stale = false
            state.lastRefreshMicros = now
            return (changed, state.observers)
        }
        staleGauge.record(0)
        refreshGauge.record(Double(now) / 1e6)
        if changed {
            logger.notice("runtime flags changed", metadata: ["flags": "\(values.sorted { $0.key < $1.key })"])
            for observer in observers { observer(FlagValues(values: values)) }
        }
        return true
    }

    /// Polls PostgreSQL until the service group shuts down.
    public func run() async throws {
        startPolling()
        defer { stopPolling() }
        try? await gracefulShutdown()
    }

    /// Starts refreshing once per `refreshInterval` on a dedicated thread, so a
    /// busy or blocked cooperative pool can never delay a flag change.
    public func startPolling() {
        let started = state.withLock { state -> Bool in
            defer { state.polling = true }
            return state.polling
        }
        guard !started else { return }
        let interval = Double(refreshInterval.components.seconds) + Double(refreshInterval.components.attoseconds) / 1e18
        let thread = Thread { [self] in
            while state.withLock({ $0.polling }) {
                Thread.sleep(forTimeInterval: interval)
                if state.withLock({ $0.polling }) { refresh() }
            }
        }
        thread.name = "runtime-flags"
        thread.start()
    }

    /// Stops the polling thread after its current sleep.
    public func stopPolling() {
        state.withLock { $0.polling = false }
    }

    /// Validates and stores an operator's change, with its audit row, in one transaction.
    public func set(name: String, value: String, reason: String, actor: String, caller: String, deadline: Deadline) throws(RPCError) -> (FlagsV1.Flag, previous: String) {
        guard let definition = definitions.first(where: { $0.name == name }) else {
            throw RPCError(.notFound, "name: \(service) has no runtime flag \"\(name)\" (known: \(definitions.map(\.name).joined(separator: ", ")))")
        }
        let normalised: String
        do {
            normalised = try definition.validate(value)
        } catch {
            throw RPCError(.invalidArgument, "value: \(error)")
        }
        let trimmedReason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedReason.isEmpty else { throw .invalidArgument(field: "reason", "is required (it is kept in the audit trail)") }
        guard trimmedReason.count <= 500 else { throw .invalidArgument(field: "reason", "must be at most 500 characters") }
        let actingAs = actor.isEmpty ? caller : actor
        let previous = current[name]
        do {
            try pool.withConnection(deadline: deadline) { connection in
                try connection.transaction(deadline: deadline) { connection in
                    let old = try connection.query(
                        "SELECT value FROM ops.runtime_flags WHERE service = $1 AND name = $2 FOR UPDATE",
                        [.text(service), .text(name)], deadline: deadline
                    ).first.map { try $0.string(0) }
                    try connection.query(
                        """
                        INSERT INTO ops.runtime_flags (service, name, value, updated_by) VALUES ($1, $2, $3, $4)
                        ON CONFLICT (service, name) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()
                        """,
                        [.text(service), .text(name), .text(normalised), .text(actingAs)], deadline: deadline
                    )
                    try connection.query(
                        "INSERT INTO ops.runtime_flag_audit (service, name, old_value, new_value, actor, caller, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        [.text(service), .text(name), old.map { .text($0) } ?? .text(previous), .text(normalised), .text(actingAs), .text(caller), .text(trimmedReason)],
                        deadline: deadline
                    )
                }
            }
        } catch let error as PostgresError where error.kind == .timeout {
            throw RPCError(.deadlineExceeded, "storing the flag took longer than the deadline", cause: error)
        } catch {
            throw RPCError(.unavailable, "cannot store the flag: PostgreSQL unreachable", cause: error)
        }
        refresh(deadline: deadline)
        logger.notice("runtime flag set", metadata: [
            "flag": "\(name)", "old": "\(previous)", "new": "\(normalised)", "actor": "\(actingAs)", "reason": "\(trimmedReason)",
        ])
        return (flag(name), previous)
    }

    /// The flags as the API shows them.
    public func list() -> FlagsV1.ListFlagsResponse {
        let (stale, refreshed) = state.withLock { ($0.stale, $0.lastRefreshMicros) }
        return FlagsV1.ListFlagsResponse(
            service: service, flags: definitions.map { flag($0.name) }, stale: stale, lastRefreshUnixMicros: refreshed
        )
    }

    private func flag(_ name: String) -> FlagsV1.Flag {
        let (value, metadata) = state.withLock { ($0.values[name] ?? "", $0.metadata[name]) }
        let description = definitions.first { $0.name == name }?.description ?? ""
        return FlagsV1.Flag(
            name: name, value: value, source: metadata == nil ? "environment" : "database",
            description: description, updatedAtUnixMicros: metadata?.updatedAt ?? 0, updatedBy: metadata?.updatedBy ?? ""
        )
    }

    /// Registers `/flags.v1.FlagService/List` (any caller) and `/Set` (operators).
    public func register(on router: inout MethodRouter) {
        let readers: Set<Caller> = [.checkout, .settlement, .supplierPortal, .operator]
        router.register("/flags.v1.FlagService/List", callers: readers, idempotent: true) {
            (_: CallContext, _: FlagsV1.ListFlagsRequest) in self.list()
        }
        router.register("/flags.v1.FlagService/Set", callers: [.operator]) {
            (context: CallContext, request: FlagsV1.SetFlagRequest) throws -> FlagsV1.SetFlagResponse in
            let (flag, previous) = try self.set(
                name: request.name, value: request.value, reason: request.reason, actor: request.actor,
                caller: context.caller?.rawValue ?? "unknown", deadline: context.deadline
            )
            return FlagsV1.SetFlagResponse(flag: flag, previousValue: previous)
        }
    }

    /// A readiness probe that reports staleness (informational: stale flags
    /// keep the last known good values, so it does not fail readiness).
    public var probe: ReadinessMonitor.Probe {
        ReadinessMonitor.Probe(name: "flags", critical: false) { [self] in
            isStale ? "flag store unreachable; using last known good values" : nil
        }
    }
}
