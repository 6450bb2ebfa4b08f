import Catalog
import InboxService
import ServiceKit

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
