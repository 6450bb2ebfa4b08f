import GateCore
public import Logging
public import ServiceKit
public import Storage
public import Wire

/// The gate service assembled from its settings and stores, the way
/// `main.swift` runs it and the integration tests start it in-process
/// (hummingbird's `buildApplication`).
public struct GateApplication: Sendable {
    /// The full protobuf service name health answers for.
    public static let serviceName = "gate.v1.GateService"

    /// The gate behind the RPCs.
    public let gate: AuthorizationGate
    /// `/gate.v1.GateService/Check`, `/CheckBatch` and, with flags, `/flags.v1.FlagService/*`.
    public let router: MethodRouter
    /// Readiness: PostgreSQL and Redis are reported but not critical (the
    /// gate keeps answering from the other tier, or fails closed per item),
    /// so an outage of one store never takes every gate instance out of the
    /// load balancer at once; the flags probe is informational too.
    public let probes: [ReadinessMonitor.Probe]
    /// The runtime flags, when the gate runs with them (a background service).
    public let flags: RuntimeFlags?
    /// Keeps the local copy coherent, when the settings enable one (a background service).
    public let localCacheListener: LocalCacheListener?

    /// Builds the gate.
    ///
    /// - Parameters:
    ///   - settings: the rollout and TTLs at start, and the failure-policy bounds.
    ///   - postgres: the pool holding InboxService's tables (read only).
    ///   - redis: the cache's pool.
    ///   - flags: runtime flags defined with ``GateFlags/definitions``; the
    ///     gate observes them (their values replace `settings.rollout` and
    ///     `settings.cacheTTL` at once) and their RPCs are registered.
    ///   - logger: for state changes; calls log through their own context.
    public init(settings: GateSettings, postgres: PostgresPool, redis: RedisPool, flags: RuntimeFlags?, logger: Logger) {
        let metrics = GateMetrics()
        let listener = settings.localCache.map { local in
            LocalCacheListener(
                cache: LocalAuthorizationCache(capacity: local.capacity), configuration: redis.configuration,
                timing: local.timing, metrics: metrics, logger: logger)
        }
        let gate = AuthorizationGate(
            settings: settings, store: PostgresAuthorizationStore(pool: postgres),
            cache: RedisAuthorizationCache(pool: redis), localCache: listener?.cache, metrics: metrics, logger: logger)
        var router = MethodRouter()
        GateHandlers.register(on: &router, gate: gate)
        var probes = [
            ReadinessMonitor.Probe(name: "postgresql", critical: false) {
                postgres.isReachable(timeout: .milliseconds(500)) ? nil : "PostgreSQL unreachable: cache hits only, misses denied UNAVAILABLE"
            },
            ReadinessMonitor.Probe(name: "redis", critical: false) {
                redis.isReachable(timeout: .milliseconds(500)) ? nil : "Redis unreachable: answering from PostgreSQL"
            },
        ]
        if let flags {
            flags.observe { values in gate.apply(flags: values) }
            flags.register(on: &router)
            probes.append(flags.probe)
        }
        self.gate = gate
        self.router = router
        self.probes = probes
        self.flags = flags
        self.localCacheListener = listener
    }

    /// What ``ServiceHost`` runs: the router, the probes, and the flag refresher.
    public var parts: ServiceHost.Parts {
        ServiceHost.Parts(
            serviceNames: [Self.serviceName], router: router, probes: probes,
            backgroundServices: (flags.map { [$0] } ?? []) + (localCacheListener.map { [$0] } ?? []))
    }
}
