import Catalog
import PolicyService
import ServiceKit

// The policy service: `policy-service` serves, `policy-service migrate …` migrates.
await ServiceLauncher.main(
    ServiceLauncher.Description(
        name: PolicyServiceApplication.name, defaultWirePort: 7101, defaultAdminPort: 9101, needsRedis: false,
        sharedMigrations: [Catalog.migrations, .runtimeFlags], ownMigrations: PolicyServiceApplication.migrations
    )
) { _, environment, stores, logger in
    try PolicyServiceApplication.parts(stores: stores, environment: environment, logger: logger)
}
