import Catalog
import PolicyService
import ServiceKit

// The policy service: `policy-service` serves, `policy-service migrate …` migrates.
var description = ServiceLauncher.Description(
    name: PolicyServiceApplication.name, defaultWirePort: 7101, defaultAdminPort: 9101, needsRedis: false,
    sharedMigrations: [Catalog.migrations, .runtimeFlags], ownMigrations: PolicyServiceApplication.migrations
)
description.postgresSettings = PolicyServiceApplication.postgresSettings
await ServiceLauncher.main(description) { _, environment, stores, logger in
    try PolicyServiceApplication.parts(stores: stores, environment: environment, logger: logger)
}
