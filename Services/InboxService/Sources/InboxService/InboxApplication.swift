import Foundation
public import Logging
public import ServiceKit
public import ServiceLifecycle
public import Storage
public import Wire

/// Builds the inbox from its configuration and stores, like hummingbird's
/// `buildApplication`: `main.swift` hands the result to `ServiceHost`, and
/// the integration tests serve ``router`` on an in-process `WireServer` and
/// drive ``relay`` and ``gauges`` directly.
public struct InboxApplication: Sendable {
    /// Knobs that are not runtime flags (timings of the background work, a test clock).
    public struct Configuration: Sendable {
        /// Relay pause between passes (the brief's ~250 ms).
        public var relayInterval: Duration = .milliseconds(250)
        /// Applied outbox rows are kept this long, then pruned (one day).
        public var outboxRetentionSeconds: Int64 = 86_400
        /// How often the relay prunes.
        public var pruneInterval: Duration = .seconds(60)
        /// How often the inbox-size gauges are refreshed.
        public var gaugeInterval: Duration = .seconds(5)
        /// The longest a write-through may add to a decision call.
        public var writeThroughTimeout: Duration = .milliseconds(100)
        /// Write-throughs are skipped this long after a Redis failure (the relay catches up).
        public var writeThroughBackoff: Duration = .seconds(1)
        /// The longest a revocation waits for every gate with a live lease to
        /// drop its local copy (``CacheCoherence``); keep it above the gates'
        /// `SELLER_AUTH_LOCAL_CACHE_LEASE_MS`. The environment's
        /// `INBOX_REVOKE_CONFIRM_TIMEOUT_MS` overrides it.
        public var revokeConfirmationTimeout: Duration = .seconds(1)
        /// Overrides "now" for the reject cooldown (tests only; nil in production).
        public var clock: PostgresAuthorizationStore.Clock?
        /// The most concurrent decisions committed together in one statement
        /// (group commit, `TransitionBatcher`); 1, the default, turns batching
        /// off. The environment's `INBOX_DECISION_BATCH_MAX` overrides it.
        /// Off by default because on the bench machine (2 shared cores, 4 wire
        /// workers, a WAL flush far cheaper than a statement's CPU) it did not
        /// pay: see the README's "Group commit of decisions".
        public var decisionBatchMax = 1

        public init() {}
    }

    /// The runtime flags (a background service: it refreshes from `ops.runtime_flags`).
    public let flags: RuntimeFlags
    /// The parsed flags in force.
    public let settings: InboxSettingsSource
    /// The PostgreSQL store.
    public let store: PostgresAuthorizationStore
    /// The Redis write-through.
    public let cache: AuthorizationCacheWriter
    /// Applies pending outbox rows (a background service).
    public let relay: OutboxRelay
    /// Refreshes the inbox-size gauges (a background service).
    public let gauges: InboxGaugeRefresher
    /// The inbox methods plus `/flags.v1.FlagService/*`.
    public let router: MethodRouter
    private let postgres: PostgresPool
    private let redis: RedisPool?

    /// Builds everything; nothing runs until the background services are started.
    ///
    /// - Throws: `ConfigurationError` for a malformed flag in the environment
    ///   (e.g. a negative `SELLER_PRODUCT_LIMIT`).
    public init(
        configuration: Configuration = Configuration(), environment: EnvironmentReader, postgres: PostgresPool,
        redis: RedisPool?, logger: Logger
    ) throws {
        let flags = try RuntimeFlags(
            service: "inbox", definitions: InboxSettings.definitions, environment: environment,
            defaults: InboxSettings.defaults, pool: postgres, logger: logger)
        let settings = try InboxSettingsSource(flags: flags)
        let batchMax = try environment.int(
            "INBOX_DECISION_BATCH_MAX", default: configuration.decisionBatchMax, in: 1...256)
        let store = PostgresAuthorizationStore(
            pool: postgres, clock: configuration.clock, batchedDecisions: batchMax > 1, maxBatch: batchMax)
        let confirmMilliseconds = try environment.int(
            "INBOX_REVOKE_CONFIRM_TIMEOUT_MS",
            default: Int(configuration.revokeConfirmationTimeout / .milliseconds(1)),
            in: 1...60_000)
        let cache = AuthorizationCacheWriter(
            redis: redis, writeTimeout: configuration.writeThroughTimeout,
            failureBackoff: configuration.writeThroughBackoff,
            confirmationTimeout: .milliseconds(confirmMilliseconds))
        let metrics = InboxMetrics()
        let marks = OutboxMarks()
        var router = MethodRouter()
        InboxHandlers(store: store, settings: settings, cache: cache, marks: marks, metrics: metrics)
            .register(on: &router)
        flags.register(on: &router)
        self.flags = flags
        self.settings = settings
        self.store = store
        self.cache = cache
        self.relay = OutboxRelay(
            store: store, cache: cache, marks: marks, settings: settings, logger: logger,
            interval: configuration.relayInterval,
            retentionSeconds: configuration.outboxRetentionSeconds, pruneInterval: configuration.pruneInterval)
        self.gauges = InboxGaugeRefresher(
            store: store, metrics: metrics, logger: logger, interval: configuration.gaugeInterval)
        self.router = router
        self.postgres = postgres
        self.redis = redis
    }

    /// The lifecycle services to run beside the wire server.
    public var backgroundServices: [any Service] { [flags, relay, gauges] }

    /// Readiness: PostgreSQL is critical; Redis is not (the outbox covers an
    /// outage: decisions still commit and reach Redis when it returns); stale
    /// flags are informational.
    public func probes(stores: ServiceStores) -> [ReadinessMonitor.Probe] {
        stores.probes(postgresCritical: true, redisCritical: false) + [flags.probe]
    }

    /// What `ServiceHost` runs.
    public func parts(stores: ServiceStores) -> ServiceHost.Parts {
        ServiceHost.Parts(
            serviceNames: ["inbox.v1.InboxService"], router: router,
            probes: probes(stores: stores), backgroundServices: backgroundServices,
            shutdown: { stores.close() })
    }

    /// The inbox's own migrations (component `inbox`).
    public static var migrations: MigrationComponent {
        MigrationComponent(name: "inbox", directory: Bundle.module.url(forResource: "Migrations", withExtension: nil)!)
    }
}
