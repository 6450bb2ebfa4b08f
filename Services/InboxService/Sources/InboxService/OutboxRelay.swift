import Logging
public import ServiceLifecycle
public import Storage

/// Applies pending cache outbox rows to Redis: the write-throughs a decision
/// could not make because Redis was unreachable (or slow) at the time.
///
/// Every ``interval`` (250 ms) it first marks applied the rows whose
/// write-through succeeded during the decision call (``OutboxMarks``), then takes up to ``batchSize`` pending rows in id
/// order (`FOR UPDATE SKIP LOCKED`, so several instances share the queue),
/// writes each pair's current state with the compare-and-set, and marks the
/// written rows applied in the same transaction. While Redis stays down a
/// pass writes nothing and the rows stay pending. Every ``pruneInterval`` it
/// deletes applied rows older than ``retentionSeconds``.
///
/// Staleness bound: while the inbox cannot reach Redis but a gate can, the
/// gate may answer from an entry written before a decision until the earlier
/// of its TTL ending and this relay's first pass after Redis is reachable
/// again for the inbox (at most ``interval`` plus one pass later).
public final class OutboxRelay: Service, Sendable {
    private let store: any AuthorizationStore
    private let cache: AuthorizationCacheWriter
    private let marks: OutboxMarks
    private let settings: InboxSettingsSource
    private let logger: Logger
    /// Pause between passes when the queue is drained.
    public let interval: Duration
    /// Rows per pass (per transaction).
    public let batchSize: Int
    /// Applied rows are kept this long (diagnostics), then pruned.
    public let retentionSeconds: Int64
    /// How often pruning runs.
    public let pruneInterval: Duration

    init(
        store: any AuthorizationStore, cache: AuthorizationCacheWriter, marks: OutboxMarks,
        settings: InboxSettingsSource, logger: Logger,
        interval: Duration, batchSize: Int = 200, retentionSeconds: Int64, pruneInterval: Duration
    ) {
        self.store = store
        self.cache = cache
        self.marks = marks
        self.settings = settings
        self.logger = logger
        self.interval = interval
        self.batchSize = batchSize
        self.retentionSeconds = retentionSeconds
        self.pruneInterval = pruneInterval
    }

    /// Marks the rows the decisions' write-throughs applied since the last pass.
    public func flushMarks(deadline: Deadline = .after(seconds: 2)) throws {
        let ids = marks.drain()
        do {
            try store.markOutboxApplied(ids, deadline: deadline)
        } catch {
            marks.restore(ids)
            throw error
        }
    }

    /// One pass: marks the rows write-throughs applied, then applies up to
    /// ``batchSize`` pending rows; returns how many it applied (0 when the
    /// queue is empty or Redis is unreachable).
    @discardableResult
    public func applyOnce(deadline: Deadline = .after(seconds: 2)) throws -> Int {
        try flushMarks(deadline: deadline)
        let ttl = settings.current.cacheTTL
        let cache = self.cache
        return try store.applyPendingOutbox(limit: batchSize, deadline: deadline) { entries in
            cache.writeBatch(entries, ttl: ttl, deadline: deadline)
        }
    }

    /// Deletes old applied rows; returns how many.
    @discardableResult
    public func pruneOnce(deadline: Deadline = .after(seconds: 5)) throws -> Int {
        try store.pruneOutbox(retentionSeconds: retentionSeconds, deadline: deadline)
    }

    /// Runs passes until the service group shuts down (or the task is cancelled).
    public func run() async throws {
        var nextPrune = ContinuousClock.now + pruneInterval
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let outcome: Result<Int, any Error> = await BlockingWork.run { [self] in
                Result { try self.applyOnce() }
            }
            switch outcome {
            case .success(let applied):
                if failing { logger.notice("inbox.outbox.relay.recovered") }
                failing = false
                if applied > 0 {
                    logger.info("inbox.outbox.applied", metadata: ["rows": "\(applied)"])
                    if applied == batchSize { continue }  // more waiting: no pause
                }
            case .failure(let error):
                if !failing { logger.warning("inbox.outbox.relay.failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            if ContinuousClock.now >= nextPrune {
                nextPrune = ContinuousClock.now + pruneInterval
                let pruned: Result<Int, any Error> = await BlockingWork.run { [self] in Result { try self.pruneOnce() } }
                if case .success(let count) = pruned, count > 0 {
                    logger.info("inbox.outbox.pruned", metadata: ["rows": "\(count)"])
                }
            }
            try? await Task.sleep(for: interval)
        }
        // Shutting down: leave as few rows pending as possible.
        _ = await BlockingWork.run { [self] in try? self.flushMarks() }
    }
}
