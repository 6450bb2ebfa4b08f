/// The protocol that keeps each gate's in-process copy of Redis entries
/// (``LocalAuthorizationCache``) coherent with Redis, so that a check may be
/// answered without a Redis round trip and still never answer ALLOW after
/// InboxService acknowledged a revoke.
///
/// ## Invalidations
/// Every write of an `sa:v1:*` entry goes through
/// ``AuthorizationCacheScript/compareAndSet``, which increments
/// ``sequenceKey`` and publishes `<sequence> <key>` on ``channel`` in the
/// same atomic step. Each gate subscribes before it serves anything locally,
/// drops the key when the message arrives, and then records the sequence
/// number in ``acknowledgementsKey`` (`HSET <gate id> <sequence>`).
///
/// ## Leases
/// A gate serves local entries only while it holds a lease: a field of
/// ``leasesKey`` (`<gate id>` → expiry in Redis's milliseconds) that it
/// renews every ``LeaseTiming/renewEvery``, after a `PING` on its
/// subscription came back (so every message published before it was read).
/// Locally the lease counts from when the renewal was *sent*, and only for
/// ``LeaseTiming/localFraction`` of its length, so the gate stops before
/// Redis's clock says the lease ended. A gate that loses its subscription,
/// misses a renewal or lets its lease lapse drops every local entry and
/// registers again (``registerScript``), which also acknowledges everything
/// published so far: its local copy is empty at that point.
///
/// ## Revokes
/// After the compare-and-set of a revocation returned sequence `n`,
/// InboxService polls ``pendingScript`` until no gate with a live lease has
/// acknowledged less than `n` (or its own bound passes) and only then
/// answers. A gate that crashed holds everybody up for at most the rest of
/// its lease (plus ``leaseGraceMilliseconds``).
///
/// A revoke that InboxService cannot confirm within its bound still
/// answers (it is committed); it is logged, counted and alerted on, and the
/// silent gate stops answering locally when its lease's local share ends.
public enum CacheCoherence {
    /// The channel the compare-and-set script publishes `<sequence> <key>` on.
    public static let channel = "sa:v1:invalidations"
    /// The counter of published invalidations.
    public static let sequenceKey = "sa:v1:invalidations:sequence"
    /// Hash: gate id → lease expiry, milliseconds of Redis's `TIME`.
    public static let leasesKey = "sa:v1:gates:leases"
    /// Hash: gate id → the highest invalidation sequence it has applied.
    public static let acknowledgementsKey = "sa:v1:gates:acks"

    /// One published invalidation.
    public struct Invalidation: Sendable, Hashable {
        /// Its sequence number (``CacheCoherence/sequenceKey`` after the write).
        public var sequence: Int64
        /// The `sa:v1:*` key that changed.
        public var key: String

        /// Creates an invalidation.
        public init(sequence: Int64, key: String) {
            self.sequence = sequence
            self.key = key
        }

        /// Parses a message payload, `<sequence> <key>`; nil when it is not one.
        public init?(payload: [UInt8]) {
            guard let space = payload.firstIndex(of: UInt8(ascii: " ")), space > 0, space < payload.count - 1 else {
                return nil
            }
            var sequence: Int64 = 0
            for byte in payload[..<space] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let (times, overflow1) = sequence.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                sequence = sum
            }
            guard sequence > 0 else { return nil }
            self.sequence = sequence
            self.key = String(decoding: payload[(space + 1)...], as: UTF8.self)
        }

        /// The payload the compare-and-set script publishes.
        public var payload: String { "\(sequence) \(key)" }
    }

    /// How long leases last and how often they are renewed.
    public struct LeaseTiming: Sendable, Hashable {
        /// The lease's length as Redis counts it.
        public var milliseconds: Int64
        /// The renewal period (also the longest a `PING` on the subscription may stay unanswered).
        public var renewEveryMilliseconds: Int64
        /// The share of the lease the gate uses locally, in percent: the rest
        /// absorbs the delay between sending a renewal and Redis running it,
        /// and clock rate differences.
        public var localPercent: Int64

        /// The defaults: a 500 ms lease renewed every 100 ms, used locally for 75 % of it.
        public static let `default` = LeaseTiming(milliseconds: 500, renewEveryMilliseconds: 100, localPercent: 75)

        /// Creates a timing; the renewal period must leave at least two renewals per local lease.
        public init(milliseconds: Int64, renewEveryMilliseconds: Int64, localPercent: Int64 = 75) {
            precondition(milliseconds > 0 && renewEveryMilliseconds > 0 && (1...100).contains(localPercent))
            precondition(renewEveryMilliseconds * 2 <= milliseconds * localPercent / 100, "renew at least twice per local lease")
            self.milliseconds = milliseconds
            self.renewEveryMilliseconds = renewEveryMilliseconds
            self.localPercent = localPercent
        }

        /// Until when (uptime nanoseconds) a lease renewed by a command sent at `sentAt` may be used locally.
        public func localValidity(sentAt: UInt64) -> UInt64 {
            sentAt + UInt64(milliseconds * localPercent / 100) * 1_000_000
        }
    }

    /// Registers (or re-registers) a gate whose local copy is empty: the
    /// lease, and an acknowledgement of every invalidation published so far.
    ///
    /// - `ARGV[1]`: the gate id; `ARGV[2]`: the lease in milliseconds.
    ///
    /// Returns the sequence it acknowledged.
    public static let registerScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('HSET', '\(leasesKey)', ARGV[1], now + tonumber(ARGV[2]))
        local sequence = redis.call('GET', '\(sequenceKey)') or '0'
        redis.call('HSET', '\(acknowledgementsKey)', ARGV[1], sequence)
        return tonumber(sequence)
        """

    /// Extends a live lease; a lease that ended (or was removed) is not
    /// revived: the gate must drop its copy and register again. The same
    /// when the gate's acknowledgement is above the sequence: the sequence
    /// key was lost (flushed, evicted, a failover) and restarted lower, so
    /// the acknowledgement no longer means what the revokes read it as.
    ///
    /// - `ARGV[1]`: the gate id; `ARGV[2]`: the lease in milliseconds;
    ///   `ARGV[3]`: the highest sequence it has applied (its acknowledgement).
    ///
    /// Returns `1` when renewed, `0` when the gate must register again.
    public static let renewScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local expiry = tonumber(redis.call('HGET', '\(leasesKey)', ARGV[1]) or '0')
        if expiry <= now then
          return 0
        end
        if tonumber(ARGV[3]) > tonumber(redis.call('GET', '\(sequenceKey)') or '0') then
          return 0
        end
        redis.call('HSET', '\(leasesKey)', ARGV[1], now + tonumber(ARGV[2]))
        redis.call('HSET', '\(acknowledgementsKey)', ARGV[1], ARGV[3])
        return 1
        """

    /// How long past its expiry a lease still counts for ``pendingScript``:
    /// room for Redis's clock (`TIME`, wall time) stepping forward against
    /// the gates' monotonic clocks.
    public static let leaseGraceMilliseconds: Int64 = 250

    /// How many gates hold a lease (live, or ended less than
    /// ``leaseGraceMilliseconds`` ago) but have not acknowledged sequence
    /// `ARGV[1]` yet. An acknowledgement above the current sequence counts as
    /// missing (the sequence restarted; the gate re-registers at its next
    /// renewal). Leases ended longer ago are removed on the way.
    public static let pendingScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local wanted = tonumber(ARGV[1])
        local current = tonumber(redis.call('GET', '\(sequenceKey)') or '0')
        local leases = redis.call('HGETALL', '\(leasesKey)')
        local pending = 0
        for i = 1, #leases, 2 do
          if (tonumber(leases[i + 1]) or 0) + \(leaseGraceMilliseconds) > now then
            local acknowledged = tonumber(redis.call('HGET', '\(acknowledgementsKey)', leases[i]) or '0') or 0
            if acknowledged < wanted or acknowledged > current then
              pending = pending + 1
            end
          else
            redis.call('HDEL', '\(leasesKey)', leases[i])
            redis.call('HDEL', '\(acknowledgementsKey)', leases[i])
          end
        end
        return pending
        """

    /// Removes a gate's lease when it stops (`ARGV[1]`: the gate id).
    public static let resignScript = """
        redis.call('HDEL', '\(leasesKey)', ARGV[1])
        redis.call('HDEL', '\(acknowledgementsKey)', ARGV[1])
        return 1
        """
}
