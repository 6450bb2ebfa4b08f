import Foundation
public import Logging
public import ServiceLifecycle
public import Wire

/// Builds and runs one service binary: JSON logs, Prometheus metrics, the admin
/// HTTP port, the wire server with health, and graceful shutdown on SIGTERM.
/// The binaries' `main` only reads configuration and calls `run`.
public enum ServiceHost {
    /// Everything a service contributes to the host.
    public struct Parts: Sendable {
        /// Full protobuf service names, answered by health (e.g. `gate.v1.GateService`).
        public var serviceNames: Set<String>
        /// Registers the service's methods.
        public var router: MethodRouter
        /// Dependency checks for readiness.
        public var probes: [ReadinessMonitor.Probe]
        /// Background work (flag refresh, outbox relay...) run beside the server.
        public var backgroundServices: [any Service]
        /// Called after the server stopped, to close pools.
        public var shutdown: @Sendable () -> Void

        public init(
            serviceNames: Set<String>, router: MethodRouter, probes: [ReadinessMonitor.Probe],
            backgroundServices: [any Service] = [], shutdown: @escaping @Sendable () -> Void = {}
        ) {
            self.serviceNames = serviceNames
            self.router = router
            self.probes = probes
            self.backgroundServices = backgroundServices
            self.shutdown = shutdown
        }
    }

    /// Loads the credentials file named by `WIRE_CREDENTIALS_FILE`.
    public static func loadCredentials(path: String) throws -> CredentialStore {
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(variable: "WIRE_CREDENTIALS_FILE", problem: "cannot read \(path)")
        }
        do {
            return try CredentialStore(fileContents: contents)
        } catch {
            throw ConfigurationError(variable: "WIRE_CREDENTIALS_FILE", problem: "\(error)")
        }
    }

    /// Runs until SIGTERM or SIGINT, then drains within `settings.wire.drainTimeout`.
    public static func run(settings: ServiceSettings, logger: Logger, parts: Parts) async throws {
        let credentials = try loadCredentials(path: settings.credentialsFile)
        let monitor = ReadinessMonitor(probes: parts.probes)
        monitor.start()
        var router = parts.router
        let box = DrainState()
        // Every binary serves the runtime-flag methods, so health answers for them too.
        let healthNames = parts.serviceNames.union(["flags.v1.FlagService"])
        HealthService.register(on: &router, services: healthNames, isDraining: { box.isDraining }) {
            monitor.report()
        }
        let server = WireServer(configuration: settings.wire, router: router, credentials: credentials, logger: logger)
        box.server = server
        let readiness: @Sendable () -> HealthReport = {
            var report = monitor.report()
            report.dependencies.append(.init(name: "draining", ok: !box.isDraining, detail: box.isDraining ? "server is draining" : ""))
            return report
        }
        let admin = AdminServer(host: settings.adminHost, port: settings.adminPort, logger: logger, readiness: readiness)
        // A service group shuts its services down one by one in reverse order:
        // the wire server drains first (readiness fails at once and the admin
        // port keeps saying so), then the admin port stops, then background work.
        var configuration = ServiceGroupConfiguration(
            services: parts.backgroundServices.map { .init(service: $0) }
                + [.init(service: admin)]
                + [.init(service: WireService(server: server, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = settings.wire.drainTimeout + .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        defer {
            monitor.stop()
            parts.shutdown()
        }
        try await group.run()
    }
}

/// Lets health read the server's draining flag before the server exists.
final class DrainState: @unchecked Sendable {
    // @unchecked: `server` is written once before any reader runs.
    var server: WireServer?
    var isDraining: Bool { server?.isDraining ?? false }
}
