import Foundation
public import Logging
public import ServiceKit
public import Storage
public import Wire

/// Builds the policy service from its stores and flags, the way
/// hummingbird's `buildApplication` does: `main.swift` calls it with the
/// process's settings, integration tests call it with a fresh database and
/// serve the router on port 0.
public enum PolicyServiceApplication {
    /// The service's short name (metrics, logs, `ServiceLauncher`).
    public static let name = "policy"

    /// PostgreSQL settings of the service's sessions. Its hot statements take
    /// id arrays (`= ANY($1)`); with the default plan cache mode PostgreSQL
    /// keeps planning them afresh on every execution, because a custom plan
    /// for one id always looks cheaper than the generic plan's 10-id estimate
    /// (measured: 0.08 ms of planning per statement, per call). Their generic
    /// plans are index probes, so they are forced. The large-batch lookup
    /// switches to custom planning for its one statement (`PolicyStore`).
    public static let postgresSettings = ["plan_cache_mode": "force_generic_plan"]

    /// The policy schema's migrations (component `policy`).
    public static var migrations: MigrationComponent {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            preconditionFailure("the PolicyService bundle lacks its Migrations folder")
        }
        return MigrationComponent(name: "policy", directory: directory)
    }

    /// The runtime flags of the service, read from `environment` with the
    /// documented defaults; a malformed value stops start-up.
    public static func makeFlags(
        environment: EnvironmentReader, pool: PostgresPool, logger: Logger
    ) throws(ConfigurationError) -> RuntimeFlags {
        try RuntimeFlags(
            service: name, definitions: PolicyServiceFlags.definitions, environment: environment,
            defaults: PolicyServiceFlags.defaults, pool: pool, logger: logger
        )
    }

    /// The router with every policy method and the flag methods registered.
    public static func router(pool: PostgresPool, flags: RuntimeFlags, logger: Logger) -> MethodRouter {
        var router = MethodRouter()
        PolicyHandlers(store: PolicyStore(pool: pool), flags: flags, logger: logger).register(on: &router)
        flags.register(on: &router)
        return router
    }

    /// Everything the host runs: the router, readiness (PostgreSQL is
    /// critical: without it nothing can be priced), and the flag refresher.
    public static func parts(stores: ServiceStores, environment: EnvironmentReader, logger: Logger) throws -> ServiceHost.Parts {
        let flags = try makeFlags(environment: environment, pool: stores.postgres, logger: logger)
        return ServiceHost.Parts(
            serviceNames: [PolicyHandlers.serviceName],
            router: router(pool: stores.postgres, flags: flags, logger: logger),
            probes: stores.probes(postgresCritical: true, redisCritical: false) + [flags.probe],
            backgroundServices: [flags],
            shutdown: { stores.close() }
        )
    }
}
