import Catalog
import GateService
import ServiceKit

// The gate binary: configuration only; everything else is GateApplication.
// It owns no tables: `migrate up` applies the catalog and the runtime-flags
// schema it shares (InboxService's migrations create what it reads).
var description = ServiceLauncher.Description(
    name: "gate", defaultWirePort: 7102, defaultAdminPort: 9102, needsRedis: true,
    sharedMigrations: [Catalog.migrations, .runtimeFlags], ownMigrations: nil)
// A check is a Redis read (or a PostgreSQL one on a miss): a lone call runs
// on the thread that read it, without waking another to lead meanwhile.
description.shortHandlers = true
await ServiceLauncher.main(description) { settings, environment, stores, logger in
    let gateSettings = try GateSettings.fromEnvironment(environment)
    guard let redis = stores.redis else {
        throw ConfigurationError(variable: "REDIS_URL", problem: "is required (e.g. redis://127.0.0.1:6379)")
    }
    if settings.redisPoolSize < settings.wire.workerThreads {
        // A worker waiting for a pooled connection spends its Redis budget
        // there; enough of those timeouts open the breaker under load.
        logger.notice("gate.redis.pool_smaller_than_workers", metadata: [
            "redis_pool_size": "\(settings.redisPoolSize)", "worker_threads": "\(settings.wire.workerThreads)",
        ])
    }
    let flags = try RuntimeFlags(
        service: settings.name, definitions: GateFlags.definitions, environment: environment, defaults: [:],
        pool: stores.postgres, logger: logger)
    return GateApplication(settings: gateSettings, postgres: stores.postgres, redis: redis, flags: flags, logger: logger).parts
}
