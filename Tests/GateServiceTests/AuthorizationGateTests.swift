import Foundation
import GateCore
@testable import GateService
import Storage
import Synchronization
import TestSupport
import Testing
import Wire

/// The failure policy with in-memory tiers: deterministic, no servers.
@Suite struct AuthorizationGateTests {
    /// A PostgreSQL stand-in: a map of states, a switch to fail, an optional delay.
    final class MemoryStore: AuthorizationStore {
        let states = Mutex<[AuthorizationPair: AuthorizationState]>([:])
        let failing = Atomic<Bool>(false)
        let reads = Atomic<Int>(0)
        let readPairs = Mutex<[Int]>([])
        let delay: Double

        init(delay: Double = 0) { self.delay = delay }

        func states(of pairs: [AuthorizationPair], deadline: Deadline) throws -> [AuthorizationState] {
            reads.add(1, ordering: .relaxed)
            readPairs.withLock { $0.append(pairs.count) }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            if failing.load(ordering: .relaxed) { throw PostgresError(kind: .connectionFailed, message: "down") }
            let snapshot = states.withLock { $0 }
            return pairs.map { snapshot[$0] ?? .notRequested }
        }

        func wasAuthorized(_ pair: AuthorizationPair, atMicros orderTimeMicros: Int64, deadline: Deadline) throws -> Bool {
            if failing.load(ordering: .relaxed) { throw PostgresError(kind: .connectionFailed, message: "down") }
            return false
        }
    }

    /// A Redis stand-in honouring the compare-and-set rule, with a switch to fail.
    final class MemoryCache: AuthorizationCache {
        let entries = Mutex<[String: AuthorizationState]>([:])
        let failing = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        let fills = Atomic<Int>(0)

        func entries(forKeys keys: [String], deadline: Deadline) throws(RedisError) -> [AuthorizationState?] {
            calls.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw RedisError(kind: .connectionBroken, message: "down") }
            let snapshot = entries.withLock { $0 }
            return keys.map { snapshot[$0] }
        }

        func fill(_ fills: [AuthorizationCacheFill], deadline: Deadline) throws(RedisError) -> [Bool] {
            calls.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw RedisError(kind: .connectionBroken, message: "down") }
            self.fills.add(fills.count, ordering: .relaxed)
            return entries.withLock { entries in
                fills.map { fill in
                    if let current = entries[fill.key], current.version >= fill.state.version { return false }
                    entries[fill.key] = fill.state
                    return true
                }
            }
        }
    }

    static let approved = AuthorizationState(version: 7, status: .approved(sinceMicros: 1_000))

    private func makeGate(
        store: MemoryStore = MemoryStore(), cache: MemoryCache = MemoryCache(), ttl: CacheTTL = .default,
        openDuration: Duration = .milliseconds(100)
    ) -> (AuthorizationGate, MemoryStore, MemoryCache) {
        let settings = GateSettings(
            rollout: RolloutConfig(mode: .full), cacheTTL: ttl, redisTimeout: .milliseconds(50),
            breaker: CircuitBreaker.Configuration(consecutiveFailures: 3, window: 20, failureRatePercent: 50, openDuration: openDuration))
        let gate = AuthorizationGate(settings: settings, store: store, cache: cache, logger: TestInfrastructure.logger("gate-unit"))
        return (gate, store, cache)
    }

    private func check(_ gate: AuthorizationGate, _ products: [String], deadline: Deadline = .after(seconds: 2)) throws -> [AuthorizationGate.Answer] {
        let checks = try products.map { try GateCheck.validated(sellerId: "s-1", productId: $0, stage: .cart, orderTimeMicros: 0) }
        return try gate.check(checks, deadline: deadline, logger: TestInfrastructure.logger("gate-unit"))
    }

    @Test func redisFailuresOpenTheBreakerAndAProbeClosesIt() throws {
        let (gate, store, cache) = makeGate()
        store.states.withLock { $0[AuthorizationPair(sellerId: "s-1", productId: "p-1")] = Self.approved }
        cache.failing.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            let answer = try #require(try check(gate, ["p-1"]).first)
            #expect(answer.decision.allowed && answer.tier == .postgres)
        }
        #expect(gate.isRedisBreakerOpen)
        let callsWhenOpened = cache.calls.load(ordering: .relaxed)
        #expect(try check(gate, ["p-1"]).first?.tier == .postgres)
        #expect(cache.calls.load(ordering: .relaxed) == callsWhenOpened, "an open breaker still called Redis")
        let snapshot = gate.metrics.snapshot
        #expect(snapshot.fallbacks[.redisUnavailable] == 3 && snapshot.fallbacks[.redisBreakerOpen] == 1)

        cache.failing.store(false, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.15)
        #expect(try check(gate, ["p-1"]).first?.tier == .postgres)  // the probe misses, reads PostgreSQL, fills
        #expect(!gate.isRedisBreakerOpen)
        #expect(try check(gate, ["p-1"]).first?.tier == .redis)
    }

    @Test func postgresDownAnswersHitsAndFailsMissesClosed() throws {
        let (gate, store, cache) = makeGate()
        let hitKey = AuthorizationPair(sellerId: "s-1", productId: "p-hit").cacheKey
        cache.entries.withLock { $0[hitKey] = Self.approved }
        store.failing.store(true, ordering: .relaxed)
        let answers = try check(gate, ["p-hit", "p-miss"])
        #expect(answers[0].decision.allowed && answers[0].tier == .redis)
        #expect(!answers[1].decision.allowed && answers[1].decision.reason == .unavailable && answers[1].tier == .none)
        #expect(gate.metrics.snapshot.fallbacks[.postgresUnavailable] == 1)
        #expect(cache.fills.load(ordering: .relaxed) == 0)
    }

    @Test func fillsFromReadsOlderThanTheMaximumAgeAreDropped() throws {
        // Deny TTL 20 ms: fills must be sent within 10 ms of the read's start.
        let ttl = CacheTTL(allowMilliseconds: 1_000, denyMilliseconds: 20)
        let (gate, _, cache) = makeGate(store: MemoryStore(delay: 0.03), ttl: ttl)
        let answer = try #require(try check(gate, ["p-1"]).first)
        #expect(answer.decision.reason == .notRequested && answer.tier == .postgres)
        #expect(cache.fills.load(ordering: .relaxed) == 0)
        let (fresh, _, freshCache) = makeGate(ttl: ttl)
        _ = try check(fresh, ["p-1"])
        #expect(freshCache.fills.load(ordering: .relaxed) == 1)
    }

    @Test func aFillNeverReplacesANewerEntry() throws {
        let (gate, store, cache) = makeGate(store: MemoryStore(delay: 0.02))
        let pair = AuthorizationPair(sellerId: "s-1", productId: "p-1")
        store.states.withLock { $0[pair] = Self.approved }
        let revoked = AuthorizationState(version: 8, status: .revoked(approvedAtMicros: 1_000, revokedAtMicros: 2_000))
        // The revoke lands in the cache while the gate's read of version 7 is under way.
        let writer = Thread {
            Thread.sleep(forTimeInterval: 0.01)
            cache.entries.withLock { $0[pair.cacheKey] = revoked }
        }
        writer.start()
        let answer = try #require(try check(gate, ["p-1"]).first)
        #expect(answer.tier == .postgres && answer.version == 7)
        #expect(cache.entries.withLock { $0[pair.cacheKey] } == revoked)
        #expect(try check(gate, ["p-1"]).first?.decision.reason == .revoked)
    }

    @Test func repeatedPairsInABatchAreReadOnce() throws {
        let (gate, store, _) = makeGate()
        let answers = try check(gate, ["p-1", "p-2", "p-1", "p-1"])
        #expect(answers.count == 4 && answers.allSatisfy { $0.decision.reason == .notRequested })
        #expect(store.readPairs.withLock { $0 } == [2])
    }

    @Test func anExpiredDeadlineIsDeadlineExceeded() throws {
        let (gate, store, _) = makeGate()
        do {
            _ = try check(gate, ["p-1"], deadline: .now())
            Issue.record("an expired call was answered")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(store.reads.load(ordering: .relaxed) == 0)
        #expect(!gate.isRedisBreakerOpen)
    }
}
