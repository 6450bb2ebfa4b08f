import Testing

@testable import GateCore

@Suite("LocalAuthorizationCache")
struct LocalAuthorizationCacheTests {
    static let approved = AuthorizationState(version: 5, status: .approved(sinceMicros: 1_000))
    static let revoked = AuthorizationState(version: 6, status: .revoked(approvedAtMicros: 1_000, revokedAtMicros: 2_000))
    static let second: UInt64 = 1_000_000_000

    static func coherent(until: UInt64 = 10 * second) -> LocalAuthorizationCache {
        let cache = LocalAuthorizationCache(capacity: 100)
        cache.becomeCoherent(validUntil: until)
        return cache
    }

    @Test func aCacheThatWasNeverMadeCoherentAnswersNothingAndGivesNoTicket() {
        let cache = LocalAuthorizationCache(capacity: 10)
        let (ticket, states) = cache.lookUp(["k"], now: 1)
        #expect(ticket == nil)
        #expect(states == [nil])
    }

    @Test func aStoreWithAFreshTicketIsServedUntilItsTTL() throws {
        let cache = Self.coherent()
        let ticket = try #require(cache.lookUp(["k"], now: 1).ticket)
        #expect(cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 1_000)], ticket: ticket, now: 2) == 1)
        #expect(cache.lookUp(["k", "other"], now: 3).states == [Self.approved, nil])
        #expect(cache.lookUp(["k"], now: 2 + Self.second - 1).states == [Self.approved])
        #expect(cache.lookUp(["k"], now: 2 + Self.second).states == [nil])
    }

    @Test func anInvalidationBetweenTheTicketAndTheStoreRefusesTheStore() throws {
        // The Redis read raced a revoke: its invalidation was applied first.
        let cache = Self.coherent()
        let ticket = try #require(cache.lookUp(["k"], now: 1).ticket)
        cache.invalidate(["k"])
        #expect(cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 60_000)], ticket: ticket, now: 2) == 0)
        #expect(cache.lookUp(["k"], now: 3).states == [nil])
    }

    @Test func anInvalidationAfterTheStoreRemovesTheEntry() throws {
        let cache = Self.coherent()
        let ticket = try #require(cache.lookUp(["k"], now: 1).ticket)
        cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 60_000)], ticket: ticket, now: 2)
        cache.invalidate(["k"])
        #expect(cache.lookUp(["k"], now: 3).states == [nil])
        // A fresh read after the invalidation may be kept again.
        let fresh = try #require(cache.lookUp(["k"], now: 4).ticket)
        #expect(cache.store([.init(key: "k", state: Self.revoked, ttlMilliseconds: 10_000)], ticket: fresh, now: 5) == 1)
        #expect(cache.lookUp(["k"], now: 6).states == [Self.revoked])
    }

    @Test func anEmptyInvalidationChangesNothing() throws {
        let cache = Self.coherent()
        let ticket = try #require(cache.lookUp(["k"], now: 1).ticket)
        cache.invalidate([])
        #expect(cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 1_000)], ticket: ticket, now: 2) == 1)
    }

    @Test func aLapsedCacheAnswersNothingAndCannotBeExtendedBackToLife() throws {
        let cache = Self.coherent(until: 100)
        let ticket = try #require(cache.lookUp(["k"], now: 1).ticket)
        cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 60_000)], ticket: ticket, now: 2)
        #expect(cache.lookUp(["k"], now: 99).states == [Self.approved])
        // The lease's local share ended: nothing answers, and a late renewal does not revive it.
        #expect(cache.lookUp(["k"], now: 100).ticket == nil)
        #expect(cache.lookUp(["k"], now: 100).states == [nil])
        #expect(!cache.extend(validUntil: 1_000, now: 100))
        #expect(!cache.isCoherent(now: 150))
        // Only lapse + a new registration bring it back, empty.
        cache.lapse()
        cache.becomeCoherent(validUntil: 2_000)
        #expect(cache.lookUp(["k"], now: 200).states == [nil])
        #expect(cache.count == 0)
    }

    @Test func aRunningLeaseIsExtendedAndNeverShortened() {
        let cache = Self.coherent(until: 100)
        #expect(cache.extend(validUntil: 500, now: 50))
        #expect(cache.isCoherent(now: 400))
        #expect(cache.extend(validUntil: 300, now: 60))
        #expect(cache.isCoherent(now: 450))
    }

    @Test func readsTakenBeforeALapseOrARegistrationAreRefused() throws {
        let cache = Self.coherent()
        let before = try #require(cache.lookUp(["k"], now: 1).ticket)
        cache.lapse()
        cache.becomeCoherent(validUntil: 10 * Self.second)
        #expect(cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 1_000)], ticket: before, now: 2) == 0)
        let before2 = try #require(cache.lookUp(["k"], now: 3).ticket)
        cache.becomeCoherent(validUntil: 10 * Self.second)
        #expect(cache.store([.init(key: "k", state: Self.approved, ttlMilliseconds: 1_000)], ticket: before2, now: 4) == 0)
    }

    @Test func aFullCopyEvictsAnEntryForANewOneAndExpiredEntriesArePurged() throws {
        let cache = LocalAuthorizationCache(capacity: 2)
        cache.becomeCoherent(validUntil: 10 * Self.second)
        let ticket = try #require(cache.lookUp([], now: 1).ticket)
        let kept = cache.store(
            [
                .init(key: "a", state: Self.approved, ttlMilliseconds: 1),
                .init(key: "b", state: Self.approved, ttlMilliseconds: 1_000),
                .init(key: "c", state: Self.approved, ttlMilliseconds: 1_000),
            ], ticket: ticket, now: 1)
        #expect(kept == 3)
        #expect(cache.count == 2)
        let held = cache.lookUp(["a", "b", "c"], now: 2).states
        #expect(held[2] == Self.approved, "the newest store is kept")
        #expect(held.compactMap { $0 }.count == 2)
        // Rewriting a held key evicts nothing.
        #expect(cache.store([.init(key: "c", state: Self.revoked, ttlMilliseconds: 1_000)], ticket: ticket, now: 3) == 1)
        #expect(cache.count == 2)
        #expect(cache.lookUp(["c"], now: 4).states == [Self.revoked])
        // Past "a"'s 1 ms and everything else's 1 s, the purge empties it.
        #expect(cache.purgeExpired(now: 3 + 1_000_000_000) == 0)
    }
}

@Suite("CacheCoherence")
struct CacheCoherenceTests {
    @Test func anInvalidationRoundTripsThroughItsPayload() throws {
        let invalidation = CacheCoherence.Invalidation(sequence: 42, key: "sa:v1:{s 1}:p")
        #expect(invalidation.payload == "42 sa:v1:{s 1}:p")
        #expect(CacheCoherence.Invalidation(payload: Array(invalidation.payload.utf8)) == invalidation)
    }

    @Test(arguments: ["", " k", "12", "12 ", "x k", "0 k", "-1 k", "99999999999999999999 k", "1x k"])
    func malformedPayloadsAreRefused(_ payload: String) {
        #expect(CacheCoherence.Invalidation(payload: Array(payload.utf8)) == nil)
    }

    @Test func theLocalShareOfALeaseCountsFromWhenItsRenewalWasSent() {
        let timing = CacheCoherence.LeaseTiming.default
        #expect(timing.milliseconds == 500 && timing.renewEveryMilliseconds == 100)
        #expect(timing.localValidity(sentAt: 1_000) == 1_000 + 375_000_000)
    }

    @Test func theCompareAndSetPublishesOnTheChannelTheGatesListenTo() {
        #expect(AuthorizationCacheScript.compareAndSet.contains("redis.call('PUBLISH', '\(CacheCoherence.channel)', string.format('%d', sequence)"))
        #expect(AuthorizationCacheScript.compareAndSet.contains("redis.call('INCR', '\(CacheCoherence.sequenceKey)')"))
    }
}
