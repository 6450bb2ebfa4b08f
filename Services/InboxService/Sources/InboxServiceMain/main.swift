import Catalog
import Glibc
import InboxService
import ServiceKit

// The inbox's calls wait on PostgreSQL's WAL flush, not on CPU, so it
// defaults to 16 wire workers (and so 16 pooled connections) instead of the
// suite's 2 per core: with more decisions in flight, concurrent ones share
// one statement and one commit (TransitionBatcher). Measured on 2 cores with
// the bench's 16-connection many-sellers load: 0.6 commits per call instead
// of 1.0, and 1.3-1.7x the calls/s (Services/InboxService/README.md). An
// explicit WIRE_WORKER_THREADS still wins (setenv does not overwrite).
setenv("WIRE_WORKER_THREADS", "16", 0)

// inbox-service: seller authorization requests and supplier decisions.
// `inbox-service migrate up|down --to N|status` manages the schemas; no
// argument serves on 7103 (wire) and 9103 (admin HTTP).
await ServiceLauncher.main(
    .init(
        name: "inbox", defaultWirePort: 7103, defaultAdminPort: 9103, needsRedis: true,
        sharedMigrations: [Catalog.migrations, .runtimeFlags], ownMigrations: InboxApplication.migrations)
) { _, environment, stores, logger in
    let application = try InboxApplication(
        environment: environment, postgres: stores.postgres, redis: stores.redis, logger: logger)
    return application.parts(stores: stores)
}
