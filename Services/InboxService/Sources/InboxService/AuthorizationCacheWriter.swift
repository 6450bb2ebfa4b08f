public import GateCore
#if canImport(Glibc)
import Glibc
#endif
import Metrics
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
///
/// A revocation is not done when Redis holds it: gates may answer from a
/// local copy (``CacheCoherence``). After the compare-and-set of a REVOKED
/// state, ``writeThrough(seller:product:state:ttl:deadline:)`` waits until
/// every gate holding a live lease has acknowledged the invalidation the
/// write published (polling ``CacheCoherence/pendingScript``), bounded by
/// ``confirmationTimeout`` and the call's deadline.
public final class AuthorizationCacheWriter: Sendable {
    /// The outcome of one write.
    public enum Outcome: Sendable, Hashable {
        /// Redis holds this version or a newer one now (and, for a revocation,
        /// every gate with a live lease dropped its local copy).
        case applied
        /// A revocation Redis holds, but a gate with a live lease had not
        /// confirmed dropping its local copy within the bound (that gate stops
        /// answering locally when its lease ends).
        case unconfirmed
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
    /// The longest a revocation waits for the gates' acknowledgements (at
    /// least the gates' lease, so a gate that died is waited out).
    public let confirmationTimeout: Duration
    private let pendingScript = RedisScript(CacheCoherence.pendingScript)
    private let unconfirmedCounter = Counter(label: "seller_auth_invalidations_unconfirmed_total")
    private let confirmationTimer = Timer(label: "seller_auth_revoke_confirmation_seconds")

    /// A writer on `redis` (nil: no Redis configured, every write stays pending).
    public init(
        redis: RedisPool?, writeTimeout: Duration = .milliseconds(100), failureBackoff: Duration = .seconds(1),
        confirmationTimeout: Duration = .seconds(1)
    ) {
        self.redis = redis
        self.writeTimeout = writeTimeout
        self.failureBackoff = failureBackoff
        self.confirmationTimeout = confirmationTimeout
    }

    /// The write-through of one decision, bounded by ``writeTimeout`` and the call's deadline.
    public func writeThrough(
        seller: String, product: String, state: AuthorizationState, ttl: CacheTTL, deadline: Deadline
    ) -> Outcome {
        if Deadline.now().uptimeNanoseconds < backoffUntil.load(ordering: .relaxed) { return .pending }
        let bounded = deadline.earlier(than: .after(writeTimeout))
        let sequence: Int64
        do {
            sequence = try write(seller: seller, product: product, state: state, ttl: ttl, deadline: bounded).sequence
        } catch {
            startBackoff()
            return .pending
        }
        // Also when Redis already held this version (the relay or a gate fill
        // wrote it first): that write's invalidation is at most `sequence`.
        guard case .revoked = state.status, sequence > 0 else { return .applied }
        let started = Deadline.now().uptimeNanoseconds
        let confirmed = awaitAcknowledgements(of: sequence, deadline: deadline.earlier(than: .after(confirmationTimeout)))
        confirmationTimer.recordNanoseconds(Int64(Deadline.now().uptimeNanoseconds - started))
        if confirmed { return .applied }
        unconfirmedCounter.increment()
        return .unconfirmed
    }

    /// Polls until no gate with a live lease still has to acknowledge
    /// `sequence`; false when `deadline` passed first. A failed poll (Redis
    /// slow or briefly unreachable) is retried until then.
    public func awaitAcknowledgements(of sequence: Int64, deadline: Deadline) -> Bool {
        guard let redis else { return false }
        let script = self.pendingScript
        var pause: UInt64 = 50_000
        while true {
            let left = try? redis.withConnection(deadline: deadline) { connection in
                let reply = try connection.evaluate(script, arguments: [String(sequence)], deadline: deadline)
                return try reply.throwingServerError().integerValue ?? -1
            }
            if left == 0 { return true }
            if UInt64(max(0, deadline.remainingMicros)) * 1000 <= pause { return false }
            usleep(UInt32(pause / 1000))
            pause = min(pause * 2, 2_000_000)
        }
    }

    /// Writes `entries` in order for the relay, ignoring the backoff; stops
    /// at the first failure. Returns the ids written (applied or refused as
    /// older, both mean Redis holds that version or newer).
    public func writeBatch(_ entries: [OutboxEntry], ttl: CacheTTL, deadline: Deadline) -> [Int64] {
        var written: [Int64] = []
        for entry in entries {
            do {
                _ = try write(seller: entry.sellerId, product: entry.productId, state: entry.state, ttl: ttl, deadline: deadline)
                written.append(entry.id)
            } catch {
                startBackoff()
                return written
            }
        }
        if !entries.isEmpty { backoffUntil.store(0, ordering: .relaxed) }
        return written
    }

    /// One compare-and-set: whether it wrote (false: Redis already held this
    /// version or a newer one) and the invalidation sequence the gates must
    /// acknowledge to have dropped every older copy
    /// (``AuthorizationCacheScript/compareAndSet``).
    ///
    /// - Throws: `RedisError` when Redis is unreachable, slow, or answers an error.
    @discardableResult
    public func write(
        seller: String, product: String, state: AuthorizationState, ttl: CacheTTL, deadline: Deadline
    ) throws(RedisError) -> (written: Bool, sequence: Int64) {
        guard let redis else { throw RedisError(kind: .connectionFailed, message: "no Redis configured") }
        let entry = AuthorizationCacheEntry(state: state)
        let key = AuthorizationCacheKey.make(seller: seller, product: product)
        let arguments = [String(state.version), entry.encoded, String(ttl.milliseconds(for: state))]
        let script = self.script
        do {
            return try redis.withConnection(deadline: deadline) { connection in
                let reply = try connection.evaluate(script, keys: [key], arguments: arguments, deadline: deadline)
                _ = try reply.throwingServerError()
                guard let parts = reply.arrayValue, parts.count == 2, let written = parts[0].integerValue,
                    written == 0 || written == 1, let sequence = parts[1].integerValue, sequence >= 0
                else {
                    throw RedisError(kind: .unexpectedReply, message: "compare-and-set answered \(reply)")
                }
                return (written == 1, sequence)
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
