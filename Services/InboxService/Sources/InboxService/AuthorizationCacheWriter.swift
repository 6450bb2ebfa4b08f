public import GateCore
public import Storage
import Synchronization

/// Writes authorization states into the gate's Redis cache through the
/// gate's compare-and-set script (``AuthorizationCacheScript``), so a write
/// with an older version can never replace a newer one, whoever writes.
///
/// Redis is not critical for the inbox: a failed write leaves the outbox row
/// pending for ``OutboxRelay``. After a failure, write-throughs are skipped
/// for ``failureBackoff`` (the relay keeps probing every pass and clears the
/// backoff when Redis answers), so a Redis outage costs decisions at most
/// one short timeout, not one per call.
public final class AuthorizationCacheWriter: Sendable {
    /// The outcome of one write.
    public enum Outcome: Sendable, Hashable {
        /// Redis holds this version or a newer one now.
        case applied
        /// Not written (Redis unreachable, slow, or in backoff): the outbox row stays pending.
        case pending
    }

    private let redis: RedisPool?
    private let script = RedisScript(AuthorizationCacheScript.compareAndSet)
    /// The longest a write-through may take inside a decision call.
    public let writeTimeout: Duration
    /// How long write-throughs are skipped after a failure.
    public let failureBackoff: Duration
    /// Uptime (ns) before which write-throughs are skipped; 0 = none.
    private let backoffUntil = Atomic<UInt64>(0)

    /// A writer on `redis` (nil: no Redis configured, every write stays pending).
    public init(redis: RedisPool?, writeTimeout: Duration = .milliseconds(100), failureBackoff: Duration = .seconds(1)) {
        self.redis = redis
        self.writeTimeout = writeTimeout
        self.failureBackoff = failureBackoff
    }

    /// The write-through of one decision, bounded by ``writeTimeout`` and the call's deadline.
    public func writeThrough(
        seller: String, product: String, state: AuthorizationState, ttl: CacheTTL, deadline: Deadline
    ) -> Outcome {
        if Deadline.now().uptimeNanoseconds < backoffUntil.load(ordering: .relaxed) { return .pending }
        let bounded = deadline.earlier(than: .after(writeTimeout))
        do {
            try write(seller: seller, product: product, state: state, ttl: ttl, deadline: bounded)
            return .applied
        } catch {
            startBackoff()
            return .pending
        }
    }

    /// Writes `entries` in order for the relay, ignoring the backoff; stops
    /// at the first failure. Returns the ids written (applied or refused as
    /// older, both mean Redis holds that version or newer).
    public func writeBatch(_ entries: [OutboxEntry], ttl: CacheTTL, deadline: Deadline) -> [Int64] {
        var written: [Int64] = []
        for entry in entries {
            do {
                try write(seller: entry.sellerId, product: entry.productId, state: entry.state, ttl: ttl, deadline: deadline)
                written.append(entry.id)
            } catch {
                startBackoff()
                return written
            }
        }
        if !entries.isEmpty { backoffUntil.store(0, ordering: .relaxed) }
        return written
    }

    /// One compare-and-set.
    ///
    /// - Throws: `RedisError` when Redis is unreachable, slow, or answers an error.
    public func write(
        seller: String, product: String, state: AuthorizationState, ttl: CacheTTL, deadline: Deadline
    ) throws(RedisError) {
        guard let redis else { throw RedisError(kind: .connectionFailed, message: "no Redis configured") }
        let entry = AuthorizationCacheEntry(state: state)
        let key = AuthorizationCacheKey.make(seller: seller, product: product)
        let arguments = [String(state.version), entry.encoded, String(ttl.milliseconds(for: state))]
        let script = self.script
        do {
            try redis.withConnection(deadline: deadline) { connection in
                let reply = try connection.evaluate(script, keys: [key], arguments: arguments, deadline: deadline)
                _ = try reply.throwingServerError()
                guard let written = reply.integerValue, written == 0 || written == 1 else {
                    throw RedisError(kind: .unexpectedReply, message: "compare-and-set answered \(reply)")
                }
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(kind: .unexpectedReply, message: "\(error)")
        }
    }

    private func startBackoff() {
        let until = Deadline.after(failureBackoff).uptimeNanoseconds
        backoffUntil.store(until, ordering: .relaxed)
    }
}
