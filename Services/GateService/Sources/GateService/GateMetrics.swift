import GateCore
import Metrics
import Synchronization

/// Why a check left its preferred tier (`seller_auth_gate_fallbacks_total{reason}`).
public enum GateFallbackReason: String, Sendable, Hashable, CaseIterable {
    /// A Redis read failed or was too slow: PostgreSQL answered instead.
    case redisUnavailable = "redis_unavailable"
    /// The Redis breaker was open: PostgreSQL answered without trying Redis.
    case redisBreakerOpen = "redis_breaker_open"
    /// PostgreSQL could not answer a cache miss: the item failed closed
    /// (or, for a settlement order-time question, the cached state could not decide).
    case postgresUnavailable = "postgres_unavailable"
}

/// The gate's metrics, created once (label sets are fixed and small) and
/// mirrored in atomic counters that tests and the benchmark read through
/// ``snapshot``.
///
/// - `seller_auth_gate_checks_total{stage}`: every item checked.
/// - `seller_auth_gate_denies_total{stage,shadow,error}`: items the rules
///   deny (`shadow="true"`: would-deny in SHADOW mode, allowed anyway;
///   `error="true"`: no tier could answer, reason UNAVAILABLE).
/// - `seller_auth_gate_duration_seconds`: one observation per RPC (Check or
///   CheckBatch), with the 5 ms and 10 ms edges of the seed's alerts.
/// - `seller_auth_gate_cache_hits_total`, `..._misses_total`: per key looked up in Redis.
/// - `seller_auth_gate_fallbacks_total{reason}`: see ``GateFallbackReason``.
public final class GateMetrics: Sendable {
    /// Counts read from the atomic mirrors.
    public struct Snapshot: Sendable, Hashable {
        /// Items checked.
        public var checks: Int
        /// Items denied by the rules (enforced or shadow).
        public var denies: Int
        /// Shadow would-denies.
        public var shadowWouldDenies: Int
        /// Cache hits (the local copy's and Redis's).
        public var cacheHits: Int
        /// Of those, the local copy's.
        public var localHits: Int
        /// Invalidations the local copy applied.
        public var localInvalidations: Int
        /// Times the local copy stopped answering (lost subscription or lease).
        public var localLapses: Int
        /// Redis misses.
        public var cacheMisses: Int
        /// Fallbacks by reason.
        public var fallbacks: [GateFallbackReason: Int]
    }

    private let checkCounters: [GateStage: Counter]
    // Indexed by stage, shadow, error.
    private let denyCounters: [GateStage: [[Counter]]]
    private let duration = Timer(label: "seller_auth_gate_duration_seconds")
    private let hitCounter = Counter(label: "seller_auth_gate_cache_hits_total")
    private let missCounter = Counter(label: "seller_auth_gate_cache_misses_total")
    private let fallbackCounters: [GateFallbackReason: Counter]
    private let localHitCounter = Counter(label: "seller_auth_gate_local_cache_hits_total")
    private let localInvalidationCounter = Counter(label: "seller_auth_gate_local_cache_invalidations_total")
    private let localLapseCounter = Counter(label: "seller_auth_gate_local_cache_lapses_total")

    private let checks = Atomic<Int>(0)
    private let denies = Atomic<Int>(0)
    private let shadowWouldDenies = Atomic<Int>(0)
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let localHits = Atomic<Int>(0)
    private let localInvalidations = Atomic<Int>(0)
    private let localLapses = Atomic<Int>(0)
    private let redisUnavailableCount = Atomic<Int>(0)
    private let redisBreakerOpenCount = Atomic<Int>(0)
    private let postgresUnavailableCount = Atomic<Int>(0)

    /// Creates every metric object once.
    public init() {
        var checkCounters: [GateStage: Counter] = [:]
        var denyCounters: [GateStage: [[Counter]]] = [:]
        for stage in GateStage.allCases {
            checkCounters[stage] = Counter(label: "seller_auth_gate_checks_total", dimensions: [("stage", stage.rawValue)])
            denyCounters[stage] = [false, true].map { shadow in
                [false, true].map { error in
                    Counter(
                        label: "seller_auth_gate_denies_total",
                        dimensions: [("stage", stage.rawValue), ("shadow", String(shadow)), ("error", String(error))])
                }
            }
        }
        self.checkCounters = checkCounters
        self.denyCounters = denyCounters
        var fallbackCounters: [GateFallbackReason: Counter] = [:]
        for reason in GateFallbackReason.allCases {
            fallbackCounters[reason] = Counter(label: "seller_auth_gate_fallbacks_total", dimensions: [("reason", reason.rawValue)])
        }
        self.fallbackCounters = fallbackCounters
    }

    /// Records one decided item.
    func record(stage: GateStage, decision: GateDecision) {
        checkCounters[stage]?.increment()
        checks.add(1, ordering: .relaxed)
        guard decision.deniedByRules else { return }
        let shadow = decision.coverage == .shadow
        denyCounters[stage]?[shadow ? 1 : 0][decision.isUnavailable ? 1 : 0].increment()
        denies.add(1, ordering: .relaxed)
        if shadow { shadowWouldDenies.add(1, ordering: .relaxed) }
    }

    /// Records an RPC's duration.
    func recordDuration(nanoseconds: Int64) {
        duration.recordNanoseconds(nanoseconds)
    }

    /// Records Redis lookups.
    func recordCache(hits hitCount: Int, misses missCount: Int) {
        if hitCount > 0 {
            hitCounter.increment(by: hitCount)
            hits.add(hitCount, ordering: .relaxed)
        }
        if missCount > 0 {
            missCounter.increment(by: missCount)
            misses.add(missCount, ordering: .relaxed)
        }
    }

    /// Records hits of the local copy (also counted by ``recordCache(hits:misses:)``).
    func recordLocalHits(_ count: Int) {
        guard count > 0 else { return }
        localHitCounter.increment(by: count)
        localHits.add(count, ordering: .relaxed)
    }

    /// Records invalidations applied to the local copy.
    func recordLocalInvalidations(_ count: Int) {
        guard count > 0 else { return }
        localInvalidationCounter.increment(by: count)
        localInvalidations.add(count, ordering: .relaxed)
    }

    /// Records the local copy lapsing.
    func recordLocalLapse() {
        localLapseCounter.increment()
        localLapses.add(1, ordering: .relaxed)
    }

    /// Records one fallback.
    func recordFallback(_ reason: GateFallbackReason) {
        fallbackCounters[reason]?.increment()
        switch reason {
        case .redisUnavailable: redisUnavailableCount.add(1, ordering: .relaxed)
        case .redisBreakerOpen: redisBreakerOpenCount.add(1, ordering: .relaxed)
        case .postgresUnavailable: postgresUnavailableCount.add(1, ordering: .relaxed)
        }
    }

    /// The counts since this instance was created.
    public var snapshot: Snapshot {
        let fallbacks: [GateFallbackReason: Int] = [
            .redisUnavailable: redisUnavailableCount.load(ordering: .relaxed),
            .redisBreakerOpen: redisBreakerOpenCount.load(ordering: .relaxed),
            .postgresUnavailable: postgresUnavailableCount.load(ordering: .relaxed),
        ]
        return Snapshot(
            checks: checks.load(ordering: .relaxed), denies: denies.load(ordering: .relaxed),
            shadowWouldDenies: shadowWouldDenies.load(ordering: .relaxed),
            cacheHits: hits.load(ordering: .relaxed), localHits: localHits.load(ordering: .relaxed),
            localInvalidations: localInvalidations.load(ordering: .relaxed), localLapses: localLapses.load(ordering: .relaxed),
            cacheMisses: misses.load(ordering: .relaxed), fallbacks: fallbacks)
    }
}
