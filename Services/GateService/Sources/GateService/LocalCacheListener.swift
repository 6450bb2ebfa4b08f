import Foundation
public import GateCore
public import Logging
public import ServiceLifecycle
public import Storage
import Synchronization

/// Keeps a gate's ``LocalAuthorizationCache`` coherent with Redis
/// (``CacheCoherence``) on a dedicated thread with two connections of its
/// own: a subscription to the invalidations and a command connection for
/// the lease and the acknowledgements.
///
/// One session: subscribe, register (the copy becomes coherent, empty),
/// then until it stops: apply each invalidation and acknowledge it at once;
/// every ``CacheCoherence/LeaseTiming/renewEveryMilliseconds`` send a `PING`
/// on the subscription and, when its answer comes back (every earlier
/// message read), renew the lease with the acknowledgement. Any error, a
/// `PING` unanswered for a whole lease, or a lease that lapsed ends the
/// session: the copy is dropped at once (``LocalAuthorizationCache/lapse()``)
/// and a new session starts after a pause that doubles up to a second.
/// Until then every check reads Redis, as without a local copy.
public final class LocalCacheListener: Service, Sendable {
    private struct Lapse: Error, CustomStringConvertible {
        var description: String
    }

    /// The copy it keeps coherent.
    public let cache: LocalAuthorizationCache
    /// This gate's name in the lease hash (unique per process).
    public let gateID: String
    /// The lease's length and renewal period.
    public let timing: CacheCoherence.LeaseTiming
    private let configuration: RedisConnection.Configuration
    private let metrics: GateMetrics
    private let logger: Logger
    private let state = Mutex<(running: Bool, thread: Bool)>((false, false))
    private let register = RedisScript(CacheCoherence.registerScript)
    private let renew = RedisScript(CacheCoherence.renewScript)
    private let resign = RedisScript(CacheCoherence.resignScript)
    /// The channel it subscribes to: ``CacheCoherence/channel`` (tests give their own).
    let channel: String

    /// A listener for `cache`, talking to the Redis of `configuration`.
    public convenience init(
        cache: LocalAuthorizationCache, configuration: RedisConnection.Configuration,
        timing: CacheCoherence.LeaseTiming = .default, gateID: String? = nil, metrics: GateMetrics, logger: Logger
    ) {
        self.init(cache: cache, configuration: configuration, timing: timing, gateID: gateID, channel: CacheCoherence.channel, metrics: metrics, logger: logger)
    }

    init(
        cache: LocalAuthorizationCache, configuration: RedisConnection.Configuration,
        timing: CacheCoherence.LeaseTiming, gateID: String?, channel: String, metrics: GateMetrics, logger: Logger
    ) {
        self.channel = channel
        self.cache = cache
        self.configuration = configuration
        self.timing = timing
        self.gateID = gateID ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the thread (once) and runs until the service group shuts down.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
        // Let the thread remove its lease (revokes would otherwise wait the
        // lease out for this instance), for at most a second.
        let until = ContinuousClock.now + .seconds(1)
        while isListening && ContinuousClock.now < until {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Starts the listening thread; does nothing when it runs already (a
    /// thread still winding down after ``stop()`` carries on instead).
    public func start() {
        let spawn = state.withLock { state -> Bool in
            defer {
                state.running = true
                state.thread = true
            }
            return !state.thread
        }
        guard spawn else { return }
        let thread = Thread { [self] in
            // Exits only when nobody restarted it in the meantime.
            repeat { listen() } while state.withLock { state -> Bool in
                if !state.running { state.thread = false }
                return state.running
            }
        }
        thread.name = "gate-local-cache"
        thread.start()
    }

    /// Stops answering locally at once and ends the thread within one
    /// renewal period (it then removes its lease).
    public func stop() {
        state.withLock { $0.running = false }
        cache.lapse()
    }

    /// The subscription's `CLIENT SETNAME` (no spaces, as Redis requires).
    public var subscriberName: String {
        "gate-local-cache-" + String(gateID.map { $0 == " " ? "_" : $0 })
    }

    /// Whether the listening thread is still alive.
    public var isListening: Bool { state.withLock { $0.thread } }

    private var running: Bool { state.withLock { $0.running } }

    private func listen() {
        var pause: UInt64 = 10_000_000
        var failing = false
        while running {
            do {
                try session(onCoherent: {
                    if failing { logger.notice("gate.local_cache.recovered", metadata: ["gate": "\(gateID)"]) }
                    failing = false
                    pause = 10_000_000
                })
            } catch {
                cache.lapse()
                metrics.recordLocalLapse()
                if !failing {
                    logger.warning("gate.local_cache.lapsed", metadata: ["gate": "\(gateID)", "error": "\(error)"])
                }
                failing = true
            }
            guard running else { break }
            var left = pause
            while left > 0 && running {
                let step = min(left, 50_000_000)
                Thread.sleep(forTimeInterval: Double(step) / 1e9)
                left -= step
            }
            pause = min(pause * 2, 1_000_000_000)
        }
        cache.lapse()
        if let connection = try? RedisConnection(configuration: configuration, deadline: .after(milliseconds: 500)) {
            _ = try? connection.evaluate(resign, arguments: [gateID], deadline: .after(milliseconds: 500))
        }
    }

    /// One subscription's life; returns only when the listener stops.
    private func session(onCoherent: () -> Void) throws {
        let setup = Deadline.after(seconds: 2)
        let subscriber = try RedisSubscriber(
            configuration: configuration, channels: [channel], name: subscriberName, deadline: setup)
        let commands = try RedisConnection(configuration: configuration, deadline: setup)
        let lease = String(timing.milliseconds)
        let period = UInt64(timing.renewEveryMilliseconds) * 1_000_000

        let registeredAt = Deadline.now().uptimeNanoseconds
        let registered = try commands.evaluate(register, arguments: [gateID, lease], deadline: setup).throwingServerError()
        guard var applied = registered.integerValue else {
            throw Lapse(description: "registering the lease answered \(registered)")
        }
        cache.becomeCoherent(validUntil: timing.localValidity(sentAt: registeredAt))
        onCoherent()
        var acknowledged = applied
        var pingSentAt: UInt64?
        var nextPing = registeredAt + period
        var nextPurge = registeredAt + 1_000_000_000

        // A PING outstanding this long means the subscription is dead (the
        // copy itself stopped answering long before, when its lease's local share ended).
        let pingGiveUp = UInt64(timing.milliseconds) * 1_000_000
        // Messages arrive in publish order, so their sequences only grow; a
        // smaller one means the sequence key restarted (see renewScript).
        var lastSequence: Int64 = 0
        while running {
            let wakeAt = pingSentAt.map { $0 + pingGiveUp } ?? nextPing
            let checkRunningBy = Deadline.now().uptimeNanoseconds + period
            // The first event waits; the rest of the round takes what has
            // already arrived (at most 1,000, so PINGs and stops are not
            // postponed). Invalidations are applied before anything
            // acknowledges them: before a renewal, and at the round's end.
            var event = try subscriber.next(deadline: Deadline(uptimeNanoseconds: min(wakeAt, nextPurge, checkRunningBy)))
            var keys: [String] = []
            func applyKeys() {
                cache.invalidate(keys)
                metrics.recordLocalInvalidations(keys.count)
                keys.removeAll()
            }
            var taken = 0
            while let current = event {
                switch current {
                case .message(_, let payload):
                    guard let invalidation = CacheCoherence.Invalidation(payload: payload) else {
                        // Which key changed is unknown: only an empty copy is safe.
                        throw Lapse(description: "an invalidation that does not parse: \(String(decoding: payload.prefix(200), as: UTF8.self))")
                    }
                    guard invalidation.sequence > lastSequence else {
                        throw Lapse(description: "the invalidation sequence went back from \(lastSequence) to \(invalidation.sequence)")
                    }
                    lastSequence = invalidation.sequence
                    keys.append(invalidation.key)
                    applied = max(applied, invalidation.sequence)
                case .pong:
                    applyKeys()
                    try renewLease(&pingSentAt, applied: applied, commands: commands, lease: lease)
                    acknowledged = applied
                }
                taken += 1
                event = taken < 1_000 ? try subscriber.next(deadline: .now()) : nil
            }
            applyKeys()
            if applied > acknowledged {
                try commands.command(
                    ["HSET", CacheCoherence.acknowledgementsKey, gateID, String(applied)], deadline: .after(seconds: 1)
                ).throwingServerError()
                acknowledged = applied
            }
            let now = Deadline.now().uptimeNanoseconds
            if let sent = pingSentAt {
                // Late is not fatal: the copy answers only until its lease's
                // local share ends, and a renewal that comes back after that
                // is refused (``renewLease``). Silence for a whole lease is.
                if now >= sent + pingGiveUp {
                    throw Lapse(description: "the subscription did not answer PING within \(timing.milliseconds) ms")
                }
            } else if now >= nextPing {
                try subscriber.ping()
                pingSentAt = now
                nextPing = now + period
            }
            if now >= nextPurge {
                cache.purgeExpired(now: now)
                nextPurge = now + 1_000_000_000
            }
        }
    }

    /// After a `PONG`: every invalidation published before the `PING` has
    /// been applied, so the lease may be renewed with `applied` as the acknowledgement.
    private func renewLease(
        _ pingSentAt: inout UInt64?, applied: Int64, commands: RedisConnection, lease: String
    ) throws {
        guard pingSentAt != nil else { throw Lapse(description: "a PONG nobody asked for") }
        pingSentAt = nil
        let sentAt = Deadline.now().uptimeNanoseconds
        let reply = try commands.evaluate(
            renew, arguments: [gateID, lease, String(applied)], deadline: .after(milliseconds: timing.renewEveryMilliseconds)
        ).throwingServerError()
        guard reply.integerValue == 1 else { throw Lapse(description: "the lease had ended in Redis") }
        guard cache.extend(validUntil: timing.localValidity(sentAt: sentAt), now: Deadline.now().uptimeNanoseconds) else {
            throw Lapse(description: "the lease lapsed locally before its renewal came back")
        }
    }
}
