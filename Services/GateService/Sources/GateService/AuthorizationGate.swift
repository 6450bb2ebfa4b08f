public import GateCore
public import Logging
public import ServiceKit
public import Storage
import Synchronization
public import Wire

/// The gate: decides checks from the rollout, the Redis cache and
/// PostgreSQL, with the failure policy of issue 5.
///
/// ## One check
/// 1. The rollout's coverage of the product (no I/O). FEATURE_OFF and
///    OUTSIDE_ROLLOUT answer here, tier NONE.
/// 2. The local copy (``LocalAuthorizationCache``), while it is coherent
///    with Redis (``CacheCoherence``): no I/O, tier LOCAL.
/// 3. Redis (`GET`; a batch uses one `MGET`), behind the breaker and within
///    ``GateSettings/redisTimeout`` (at most half the call's remaining time).
///    Hits are kept in the local copy unless an invalidation arrived since
///    the lookup began.
/// 4. On a miss, PostgreSQL (one primary-key read; a batch one statement),
///    then the cache is filled through the compare-and-set script with the
///    version read, so a fill can never replace a newer decision. Fills whose
///    read is older than ``CacheTTL/maximumFillAgeMilliseconds`` are dropped.
///    Concurrent misses of one key are collapsed (``SingleFlight``).
/// 5. ``GateDecision/evaluate(coverage:authorization:stage:orderTimeMicros:)``.
///
/// ## Failure policy
/// - Redis failing or slow: the breaker counts it and the call reads
///   PostgreSQL (`fallbacks{reason="redis_unavailable"}`); once the breaker
///   opens, calls skip Redis (`reason="redis_breaker_open"`) until a
///   half-open probe succeeds, then Redis serves again.
/// - PostgreSQL failing: cached entries still answer; a miss has no answer
///   and fails closed, reason UNAVAILABLE (`reason="postgres_unavailable"`).
///   SHADOW still allows (and counts an error would-deny); FEATURE_OFF and
///   OUTSIDE_ROLLOUT never looked anything up.
/// - Nothing answers and the call's deadline has passed: DEADLINE_EXCEEDED.
///
/// ## Settlement with an order time
/// The latest state decides when it can: never requested (deny), approved
/// since at or before the order time (allow), revoked with the order time
/// inside the approval (allow, APPROVED_AT_ORDER_TIME) or at or after the
/// revocation (deny). Otherwise an older approval episode might cover the
/// order time (approved, revoked, requested again), so the pair's history is
/// asked in PostgreSQL (the inbox README's settlement query): allowed as
/// APPROVED_AT_ORDER_TIME when an approval was in force then, else the latest
/// state's reason. If PostgreSQL cannot answer that question the item is
/// UNAVAILABLE. This refines GateCore's latest-row-only rule for settlement.
public final class AuthorizationGate: Sendable {
    /// The gate's answer for one item.
    public struct Answer: Sendable, Hashable {
        /// The decision.
        public var decision: GateDecision
        /// Which tier supplied the state it rests on.
        public var tier: Tier
        /// The version of that state (0 when none).
        public var version: Int64
        /// The rollout mode it was decided under.
        public var mode: RolloutMode
    }

    /// Which tier answered.
    public enum Tier: Sendable, Hashable {
        /// The gate's coherent local copy of a Redis entry (``LocalAuthorizationCache``).
        case local
        /// A Redis entry.
        case redis
        /// A PostgreSQL read.
        case postgres
        /// No lookup was needed, or none succeeded.
        case none
    }

    private struct BreakerState: Sendable {
        var breaker: CircuitBreaker
        /// Successes recorded since the last failure; the window is clean
        /// again once it reaches the window size.
        var successesSinceFailure = 0
    }

    private struct Runtime: Sendable {
        var rollout: RolloutConfig
        var cacheTTL: CacheTTL
    }

    private struct Found {
        var state: AuthorizationState
        var tier: Tier
    }

    /// The metrics this gate records.
    public let metrics: GateMetrics

    private let store: any AuthorizationStore
    private let cache: any AuthorizationCache
    /// The coherent local copy of Redis entries, when enabled.
    public let localCache: LocalAuthorizationCache?
    private let redisTimeout: Duration
    private let breaker: Mutex<BreakerState>
    /// True while the breaker is closed and its recent window holds no
    /// failure. Then acquiring always permits and a success changes nothing,
    /// so the hot path skips the lock (every check would otherwise take it twice).
    private let breakerQuiet = Atomic<Bool>(true)
    private let runtime: Mutex<Runtime>
    private let flights = SingleFlight()
    private let logger: Logger

    /// Creates a gate over its two tiers.
    ///
    /// - Parameter logger: for state changes (breaker, flags); per-call lines
    ///   use the call's logger.
    public init(
        settings: GateSettings, store: any AuthorizationStore, cache: any AuthorizationCache,
        localCache: LocalAuthorizationCache? = nil, metrics: GateMetrics = GateMetrics(), logger: Logger
    ) {
        self.store = store
        self.cache = cache
        self.localCache = localCache
        self.redisTimeout = settings.redisTimeout
        self.breaker = Mutex(BreakerState(breaker: CircuitBreaker(configuration: settings.breaker)))
        self.runtime = Mutex(Runtime(rollout: settings.rollout, cacheTTL: settings.cacheTTL))
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: - Configuration

    /// The rollout in force.
    public var rollout: RolloutConfig { runtime.withLock { $0.rollout } }

    /// The cache TTLs in force.
    public var cacheTTL: CacheTTL { runtime.withLock { $0.cacheTTL } }

    /// True while the Redis breaker refuses ordinary calls (open or half-open).
    public var isRedisBreakerOpen: Bool { breaker.withLock { $0.breaker.isOpen } }

    /// Replaces the rollout and TTLs (already validated).
    public func update(rollout: RolloutConfig, cacheTTL: CacheTTL) {
        runtime.withLock { $0 = Runtime(rollout: rollout, cacheTTL: cacheTTL) }
    }

    /// Applies runtime flag values: the combination is validated, and an
    /// invalid one keeps the configuration in force (logged as an error).
    public func apply(flags: FlagValues) {
        do {
            let (rollout, ttl) = try GateFlags.configuration(from: flags.values)
            let previous = runtime.withLock { runtime in
                defer { runtime = Runtime(rollout: rollout, cacheTTL: ttl) }
                return runtime
            }
            if previous.rollout != rollout || previous.cacheTTL != ttl {
                logger.notice("gate.configuration.applied", metadata: [
                    "mode": "\(rollout.mode)", "salted": "\(rollout.bucket.salt != nil)",
                    "ttl_allow_ms": "\(ttl.allowMilliseconds)", "ttl_deny_ms": "\(ttl.denyMilliseconds)",
                ])
            }
        } catch {
            logger.error("gate.configuration.rejected", metadata: [
                "error": "\(error)", "kept_mode": "\(rollout.mode)",
            ])
        }
    }

    // MARK: - Checking

    /// Decides every check, in order.
    ///
    /// - Parameters:
    ///   - itemLogger: when the checks come from several calls run together,
    ///     makes check `index`'s own call logger (so a would-deny line names its
    ///     request; made only when such a line is written); nil logs every check
    ///     with `logger`.
    ///   - calls: how many calls these checks answer; each gets a duration sample.
    /// - Throws: DEADLINE_EXCEEDED when the deadline passed and some item
    ///   needing a lookup got no answer from either tier.
    public func check(
        _ checks: [GateCheck], deadline: Deadline, logger: @autoclosure () -> Logger, itemLogger: ((Int) -> Logger)? = nil,
        calls: Int = 1
    ) throws(RPCError) -> [Answer] {
        let started = Deadline.now()
        defer {
            let elapsed = Int64(Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds)
            for _ in 0..<max(1, calls) { metrics.recordDuration(nanoseconds: elapsed) }
        }
        let configuration = runtime.withLock { $0 }
        let mode = configuration.rollout.mode
        let coverages = checks.map { configuration.rollout.coverage(of: $0.productId) }

        // Each pair is looked up once, however often the batch repeats it.
        var pairs: [String: AuthorizationPair] = [:]
        var keys: [String] = []
        let itemKeys = zip(checks, coverages).map { check, coverage -> String? in
            guard coverage.needsLookup else { return nil }
            let key = check.cacheKey
            if pairs.updateValue(AuthorizationPair(sellerId: check.sellerId, productId: check.productId), forKey: key) == nil {
                keys.append(key)
            }
            return key
        }
        if !keys.isEmpty && deadline.isExpired {
            throw RPCError(.deadlineExceeded, "deadline passed before the gate could look anything up")
        }
        let found = keys.isEmpty
            ? [:] : lookUp(keys: keys, pairs: pairs, ttl: configuration.cacheTTL, deadline: deadline, logger: logger)

        var answers: [Answer] = []
        answers.reserveCapacity(checks.count)
        var unanswered = false
        for (index, check) in checks.enumerated() {
            let coverage = coverages[index]
            let answer: Answer
            if !coverage.needsLookup {
                let decision = GateDecision.evaluate(
                    coverage: coverage, authorization: .skipped, stage: check.stage, orderTimeMicros: check.orderTimeMicros)
                answer = Answer(decision: decision, tier: .none, version: 0, mode: mode)
            } else if let key = itemKeys[index], let entry = found[key] {
                answer = decide(check, coverage: coverage, found: entry, mode: mode, deadline: deadline, logger: logger)
            } else {
                unanswered = true
                let decision = GateDecision.evaluate(
                    coverage: coverage, authorization: .unavailable, stage: check.stage, orderTimeMicros: check.orderTimeMicros)
                answer = Answer(decision: decision, tier: .none, version: 0, mode: mode)
            }
            metrics.record(stage: check.stage, decision: answer.decision)
            if answer.decision.isShadowWouldDeny {
                let logger = itemLogger?(index) ?? logger()
                logger.info("gate.shadow.would_deny", metadata: [
                    "seller_id": "\(check.sellerId)", "product_id": "\(check.productId)", "stage": "\(check.stage)",
                    "evaluated_reason": "\(answer.decision.evaluatedReason?.rawValue ?? "none")",
                    "tier": "\(answer.tier)", "authorization_version": "\(answer.version)",
                ])
            }
            answers.append(answer)
        }
        if unanswered && deadline.isExpired {
            throw RPCError(.deadlineExceeded, "deadline passed before Redis or PostgreSQL answered")
        }
        return answers
    }

    /// Decides one looked-up item, asking PostgreSQL about the pair's history
    /// when a settlement order time is not decided by the latest state.
    private func decide(
        _ check: GateCheck, coverage: RolloutCoverage, found: Found, mode: RolloutMode, deadline: Deadline, logger: () -> Logger
    ) -> Answer {
        let state = found.state
        guard check.stage == .settlement, let orderTime = check.orderTimeMicros,
            !Self.latestStateDecides(state, orderTimeMicros: orderTime)
        else {
            let decision = GateDecision.evaluate(
                coverage: coverage, authorization: .found(state), stage: check.stage, orderTimeMicros: check.orderTimeMicros)
            return Answer(decision: decision, tier: found.tier, version: state.version, mode: mode)
        }
        let pair = AuthorizationPair(sellerId: check.sellerId, productId: check.productId)
        do {
            if try store.wasAuthorized(pair, atMicros: orderTime, deadline: deadline) {
                let decision = GateDecision(
                    allowed: true, reason: .approvedAtOrderTime, evaluatedReason: .approvedAtOrderTime, coverage: coverage)
                return Answer(decision: decision, tier: .postgres, version: state.version, mode: mode)
            }
            let decision = GateDecision.evaluate(
                coverage: coverage, authorization: .found(state), stage: .settlement, orderTimeMicros: orderTime)
            return Answer(decision: decision, tier: .postgres, version: state.version, mode: mode)
        } catch {
            metrics.recordFallback(.postgresUnavailable)
            logger().warning("gate.postgres.history_failed", metadata: ["error": "\(error)", "pair": "\(pair)"])
            let decision = GateDecision.evaluate(
                coverage: coverage, authorization: .unavailable, stage: .settlement, orderTimeMicros: orderTime)
            return Answer(decision: decision, tier: .none, version: 0, mode: mode)
        }
    }

    /// True when the pair's latest state alone answers "was the seller
    /// authorized at the order time?": older approval episodes all ended
    /// before the latest request was made, so they matter only when the
    /// order time precedes the latest approval (or there is none).
    static func latestStateDecides(_ state: AuthorizationState, orderTimeMicros: Int64) -> Bool {
        switch state.status {
        case .notRequested: return true
        case .approved(let since): return orderTimeMicros >= since
        case .revoked(let approvedAt, _): return orderTimeMicros >= approvedAt
        case .pending, .rejected, .cancelled: return false
        }
    }

    // MARK: - Lookups

    /// Looks up every key: the local copy when it is coherent, then Redis,
    /// then PostgreSQL for the misses. Keys absent from the result could not
    /// be answered by any tier.
    private func lookUp(
        keys allKeys: [String], pairs: [String: AuthorizationPair], ttl: CacheTTL, deadline: Deadline, logger: () -> Logger
    ) -> [String: Found] {
        var found: [String: Found] = [:]
        var keys = allKeys
        // Taken before Redis is asked: a Redis answer is kept locally only if
        // nothing was invalidated in between (see LocalAuthorizationCache).
        var ticket: LocalAuthorizationCache.Ticket?
        if let localCache {
            let (taken, states) = localCache.lookUp(allKeys, now: Deadline.now().uptimeNanoseconds)
            if let taken {
                ticket = taken
                keys = []
                for (key, state) in zip(allKeys, states) {
                    if let state { found[key] = Found(state: state, tier: .local) } else { keys.append(key) }
                }
                let hits = allKeys.count - keys.count
                metrics.recordCache(hits: hits, misses: 0)
                metrics.recordLocalHits(hits)
                if keys.isEmpty { return found }
            }
        }
        var misses = keys
        var redisUsable = false
        if acquireRedis() {
            do {
                // With a local copy, each entry's remaining lifetime comes
                // along: a copy never outlives the Redis entry it copied.
                let entries = try cache.entries(
                    forKeys: keys, withLifetimes: ticket != nil, deadline: redisDeadline(within: deadline))
                recordRedis(success: true)
                redisUsable = true
                misses = []
                var copies: [AuthorizationCacheFill] = []
                for (key, entry) in zip(keys, entries) {
                    if let entry {
                        found[key] = Found(state: entry.state, tier: .redis)
                        if ticket != nil {
                            // -1 (no TTL) or -2 (gone since the GET): not copied.
                            let lifetime = min(ttl.milliseconds(for: entry.state), entry.remainingMilliseconds ?? .max)
                            if lifetime > 0 { copies.append(.init(key: key, state: entry.state, ttlMilliseconds: lifetime)) }
                        }
                    } else {
                        misses.append(key)
                    }
                }
                if let ticket, let localCache, !copies.isEmpty {
                    localCache.store(copies, ticket: ticket, now: Deadline.now().uptimeNanoseconds)
                }
                metrics.recordCache(hits: keys.count - misses.count, misses: misses.count)
            } catch {
                recordRedis(success: false, deadline: deadline)
                metrics.recordFallback(.redisUnavailable)
                logger().debug("gate.redis.read_failed", metadata: ["error": "\(error)"])
            }
        } else {
            metrics.recordFallback(.redisBreakerOpen)
        }
        if misses.isEmpty { return found }

        guard redisUsable else {
            // Redis is out of the picture: every miss reads PostgreSQL, and
            // nothing is filled. No single-flight here (see SingleFlight).
            readPostgres(misses, pairs: pairs, fill: nil, into: &found, deadline: deadline, logger: logger)
            return found
        }
        let (leading, following) = flights.claim(misses)
        if !leading.isEmpty {
            defer { flights.finish(leading) }
            readPostgres(leading, pairs: pairs, fill: ttl, into: &found, deadline: deadline, logger: logger)
        }
        if !following.isEmpty {
            for flight in following.values { flight.wait(until: deadline) }
            var stillMissing = Array(following.keys)
            if acquireRedis() {
                do {
                    let entries = try cache.entries(forKeys: stillMissing, deadline: redisDeadline(within: deadline))
                    recordRedis(success: true)
                    var missing: [String] = []
                    for (key, entry) in zip(stillMissing, entries) {
                        if let entry { found[key] = Found(state: entry, tier: .redis) } else { missing.append(key) }
                    }
                    stillMissing = missing
                } catch {
                    recordRedis(success: false, deadline: deadline)
                    metrics.recordFallback(.redisUnavailable)
                }
            }
            if !stillMissing.isEmpty {
                readPostgres(stillMissing, pairs: pairs, fill: ttl, into: &found, deadline: deadline, logger: logger)
            }
        }
        return found
    }

    /// Reads `keys` from PostgreSQL into `found` and, when `fill` is given,
    /// writes them through to Redis with the compare-and-set script.
    private func readPostgres(
        _ keys: [String], pairs: [String: AuthorizationPair], fill ttl: CacheTTL?, into found: inout [String: Found],
        deadline: Deadline, logger: () -> Logger
    ) {
        let readStarted = Deadline.now()
        let states: [AuthorizationState]
        do {
            states = try store.states(of: keys.compactMap { pairs[$0] }, deadline: deadline)
        } catch {
            metrics.recordFallback(.postgresUnavailable)
            logger().warning("gate.postgres.read_failed", metadata: ["error": "\(error)", "keys": "\(keys.count)"])
            return
        }
        for (key, state) in zip(keys, states) { found[key] = Found(state: state, tier: .postgres) }

        guard let ttl, !deadline.isExpired else { return }
        // A fill from an old read could outlive the newer entry the inbox
        // wrote (that entry's TTL runs from its write): send only fresh ones.
        let ageMilliseconds = Int64((Deadline.now().uptimeNanoseconds - readStarted.uptimeNanoseconds) / 1_000_000)
        guard ageMilliseconds <= ttl.maximumFillAgeMilliseconds else {
            logger().notice("gate.cache.fill_dropped", metadata: ["age_ms": "\(ageMilliseconds)", "keys": "\(keys.count)"])
            return
        }
        guard acquireRedis() else { return }
        let fills = zip(keys, states).map { key, state in
            AuthorizationCacheFill(key: key, state: state, ttlMilliseconds: ttl.milliseconds(for: state))
        }
        do {
            _ = try cache.fill(fills, deadline: redisDeadline(within: deadline))
            recordRedis(success: true)
        } catch {
            recordRedis(success: false, deadline: deadline)
            logger().debug("gate.cache.fill_failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - The Redis breaker

    /// The budget of one Redis round: the configured timeout, at most half
    /// of what the call has left (so PostgreSQL keeps time to answer) but
    /// not under 2 ms (the Redis client sets socket timeouts in whole
    /// milliseconds), and never past the call's deadline.
    private func redisDeadline(within deadline: Deadline) -> Deadline {
        let half = Duration.microseconds(deadline.remainingMicros / 2)
        let budget = min(redisTimeout, max(half, .milliseconds(2)))
        return min(deadline, .after(budget))
    }

    /// True when a Redis call may go ahead now.
    private func acquireRedis() -> Bool {
        if breakerQuiet.load(ordering: .acquiring) { return true }
        let (permission, transition) = breaker.withLock { $0.breaker.acquire(at: .now) }
        if let transition { log(transition) }
        return permission != .rejected
    }

    /// Reports a Redis outcome to the breaker. A failure that happened
    /// because the call itself ran out of time says nothing about Redis and
    /// is not counted, so callers with tiny deadlines cannot open the breaker.
    private func recordRedis(success: Bool, deadline: Deadline? = nil) {
        if !success, let deadline, deadline.isExpired { return }
        if success && breakerQuiet.load(ordering: .acquiring) { return }
        let transition = breaker.withLock { state -> CircuitBreaker.Transition? in
            let transition = state.breaker.record(success: success, at: .now)
            if !success {
                state.successesSinceFailure = 0
                breakerQuiet.store(false, ordering: .releasing)
            } else if transition == .closed {
                // Closing resets the breaker's window.
                state.successesSinceFailure = state.breaker.configuration.window
            } else if state.breaker.state == .closed {
                state.successesSinceFailure += 1
            }
            if state.breaker.state == .closed && state.successesSinceFailure >= state.breaker.configuration.window {
                breakerQuiet.store(true, ordering: .releasing)
            }
            return transition
        }
        if let transition { log(transition) }
    }

    private func log(_ transition: CircuitBreaker.Transition) {
        switch transition {
        case .opened: logger.warning("gate.redis.breaker_opened")
        case .halfOpened: logger.notice("gate.redis.breaker_half_open")
        case .closed: logger.notice("gate.redis.breaker_closed")
        }
    }
}
