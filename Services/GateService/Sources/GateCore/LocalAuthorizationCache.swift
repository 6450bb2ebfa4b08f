import Synchronization

/// A gate's in-process copy of Redis entries, served only while
/// ``CacheCoherence`` says it is coherent.
///
/// Times are uptime nanoseconds passed in by the caller (the service uses
/// the monotonic clock; the tests pass their own). They are read under the
/// lock (`@autoclosure`), so a thread paused between reading the clock and
/// looking up cannot use a lease that ended meanwhile.
///
/// ## Why a fill can never bring back a revoked ALLOW
/// A reader takes a ``Ticket`` (the generation) *before* it asks Redis, and
/// ``store(_:ticket:now:)`` keeps the answer only if the generation has not
/// moved since. Every invalidation, lapse and (re)registration moves it,
/// under the same lock as the stores:
/// - if Redis answered before the revoke's write, that write's invalidation
///   is published after it; the gate applies it (and only then
///   acknowledges it) either before the store, which then sees a new
///   generation and drops the answer, or after it, removing the entry;
/// - if the ticket was taken after the invalidation was applied, the Redis
///   read was sent after the write and answers with the new state.
///
/// The copy answers only until ``validUntil`` (the lease's local share); a
/// copy that lapsed is never revived by ``extend(validUntil:now:)``: the
/// listener must ``lapse()`` it and register again, empty.
public final class LocalAuthorizationCache: Sendable {
    /// A reader's proof of which generation its Redis read belongs to.
    public struct Ticket: Sendable, Hashable {
        let generation: UInt64
    }

    private struct Entry {
        var state: AuthorizationState
        var expiresAt: UInt64
    }

    private struct Contents {
        var entries: [String: Entry] = [:]
        var generation: UInt64 = 0
        /// Uptime (ns) until which the copy may answer; 0 = not coherent.
        var validUntil: UInt64 = 0
    }

    /// The most entries kept; a store into a full copy first evicts an
    /// arbitrary entry (the first in the dictionary's hash order).
    /// About 280 bytes each with 40-byte keys (measured: 100,000 entries,
    /// 27 MB of RSS).
    public let capacity: Int
    private let contents = Mutex(Contents())

    /// An empty, not yet coherent cache of at most `capacity` entries.
    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    /// The local states of `keys` (nil: not held, expired, or the cache is
    /// not coherent now) and, when it is coherent, the ticket a Redis read of
    /// the others must show to ``store(_:ticket:now:)``.
    public func lookUp(_ keys: [String], now clock: @autoclosure () -> UInt64) -> (ticket: Ticket?, states: [AuthorizationState?]) {
        contents.withLock { contents in
            let now = clock()
            guard now < contents.validUntil else { return (nil, Array(repeating: nil, count: keys.count)) }
            let states = keys.map { key -> AuthorizationState? in
                guard let entry = contents.entries[key], now < entry.expiresAt else { return nil }
                return entry.state
            }
            return (Ticket(generation: contents.generation), states)
        }
    }

    /// Keeps what Redis answered, unless anything was invalidated (or the
    /// cache lapsed) since `ticket` was taken. Returns how many were kept.
    @discardableResult
    public func store(_ fills: [AuthorizationCacheFill], ticket: Ticket, now clock: @autoclosure () -> UInt64) -> Int {
        contents.withLock { contents in
            let now = clock()
            guard contents.generation == ticket.generation, now < contents.validUntil else { return 0 }
            var kept = 0
            for fill in fills where fill.ttlMilliseconds > 0 {
                let entry = Entry(state: fill.state, expiresAt: now + UInt64(fill.ttlMilliseconds) * 1_000_000)
                if contents.entries.count >= capacity && contents.entries[fill.key] == nil {
                    contents.entries.remove(at: contents.entries.startIndex)
                }
                contents.entries[fill.key] = entry
                kept += 1
            }
            return kept
        }
    }

    /// Drops `keys` (an invalidation was applied); later stores of reads
    /// taken before it are refused.
    public func invalidate(_ keys: [String]) {
        guard !keys.isEmpty else { return }
        contents.withLock { contents in
            for key in keys { contents.entries[key] = nil }
            contents.generation &+= 1
        }
    }

    /// Drops everything and stops answering until ``becomeCoherent(validUntil:)``.
    public func lapse() {
        contents.withLock { contents in
            contents.entries.removeAll(keepingCapacity: true)
            contents.generation &+= 1
            contents.validUntil = 0
        }
    }

    /// Starts answering (empty) after a registration; reads taken before are refused.
    public func becomeCoherent(validUntil: UInt64) {
        contents.withLock { contents in
            contents.entries.removeAll(keepingCapacity: true)
            contents.generation &+= 1
            contents.validUntil = validUntil
        }
    }

    /// Moves the end of a lease that is still running at `now` to
    /// `validUntil`. Returns false, changing nothing, when it has already
    /// lapsed: then only ``lapse()`` and a new registration bring it back.
    @discardableResult
    public func extend(validUntil: UInt64, now clock: @autoclosure () -> UInt64) -> Bool {
        contents.withLock { contents in
            guard clock() < contents.validUntil else { return false }
            contents.validUntil = max(contents.validUntil, validUntil)
            return true
        }
    }

    /// Whether the copy answers at `now`.
    public func isCoherent(now clock: @autoclosure () -> UInt64) -> Bool {
        contents.withLock { clock() < $0.validUntil }
    }

    /// Removes expired entries; returns how many remain.
    @discardableResult
    public func purgeExpired(now: UInt64) -> Int {
        contents.withLock { contents in
            contents.entries = contents.entries.filter { now < $0.value.expiresAt }
            return contents.entries.count
        }
    }

    /// The number of entries held (expired ones included until purged).
    public var count: Int { contents.withLock { $0.entries.count } }
}
