import Storage

/// Group commit for decisions: concurrent calls hand their guarded write to
/// one leader, which runs every write waiting at that moment as one
/// statement in one transaction (one round trip, one commit, one WAL flush)
/// while the others wait for their own row.
///
/// Leadership: a caller that finds fewer than `maxInFlight` batches running
/// leads at once with whatever is queued (itself included), so a lone call
/// is never held back waiting for company; callers that arrive while
/// batches run queue up, and when a batch ends the first queued caller is
/// promoted and takes the whole queue. Batch sizes therefore follow the load
/// by themselves: one at a time when calls are sparse, many while the
/// database is busy.
///
/// Each caller gets its own ``Outcome``: its row when the batch wrote it,
/// ``Outcome/notWritten`` when the guards refused it (the caller explains
/// that refusal itself, exactly as alone), or the batch's error. A batch
/// that fails as a whole (an invariant check, a lost connection) never
/// answers for its items: ``Outcome/batchFailed`` tells each caller to run
/// its write alone, so one bad item cannot fail the others.
///
/// Invariant: `inFlight` counts running batches plus promoted tickets that
/// have not woken up yet, and never exceeds `maxInFlight`.
///
/// `@unchecked Sendable`: `queue`, `inFlight` and every ``Ticket``'s fields
/// are read and written only under `lock`.
final class TransitionBatcher<Item: Sendable, Row: Sendable>: @unchecked Sendable {
    /// What one caller's write came to.
    enum Outcome: Sendable {
        /// The batch wrote the item; its returned row.
        case written(Row)
        /// The guards refused the item (zero rows for it).
        case notWritten
        /// The item ran alone (a batch of one) and failed: the error, as the single path throws it.
        case failed(any Error)
        /// The batch of several failed as a whole; run the item alone.
        case batchFailed
    }

    /// Runs a batch (never empty, in arrival order) and returns one outcome
    /// per item, in the same order. May throw: every item then gets
    /// ``Outcome/batchFailed`` (or ``Outcome/failed(_:)`` for a batch of one).
    typealias Runner = (_ items: [Item], _ deadline: Deadline) throws -> [Outcome]

    private final class Ticket {
        let item: Item
        let deadline: Deadline
        var outcome: Outcome?
        var leads = false

        init(item: Item, deadline: Deadline) {
            self.item = item
            self.deadline = deadline
        }
    }

    private let lock = ConditionLock()
    private var queue: [Ticket] = []
    private var inFlight = 0
    private let maxInFlight: Int
    private let maxBatch: Int
    private let run: Runner

    /// - Parameters:
    ///   - maxInFlight: batches running at once (each on its own connection).
    ///   - maxBatch: the most items one batch takes; the rest wait for the next.
    init(maxInFlight: Int, maxBatch: Int, run: @escaping Runner) {
        precondition(maxInFlight >= 1 && maxBatch >= 1)
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
        self.run = run
    }

    /// Batches running or about to run (tests: the slots come back).
    var batchesInFlight: Int { lock.withLock { inFlight } }

    /// Submits `item` and blocks until its batch has run.
    func submit(_ item: Item, deadline: Deadline) -> Outcome {
        let ticket = Ticket(item: item, deadline: deadline)
        lock.lock()
        queue.append(ticket)
        if inFlight < maxInFlight {
            inFlight += 1
            ticket.leads = true
        }
        // A follower waits without a deadline: its batch is bounded by the
        // batch deadline, and leaving early would leave the leader writing
        // an item nobody answers for.
        while ticket.outcome == nil && !ticket.leads {
            _ = lock.wait(until: .distantFuture)
        }
        if let outcome = ticket.outcome {
            lock.unlock()
            return outcome
        }
        // Leading: this ticket and the waiting ones behind it, in arrival
        // order, except tickets already promoted to lead a batch of their
        // own (a promoted ticket may not have woken up yet).
        var batch = [ticket]
        var left: [Ticket] = []
        for waiting in queue where waiting !== ticket {
            if !waiting.leads && batch.count < maxBatch {
                batch.append(waiting)
            } else {
                left.append(waiting)
            }
        }
        queue = left
        lock.unlock()

        let outcomes = execute(batch)

        lock.lock()
        for (ticket, outcome) in zip(batch, outcomes) { ticket.outcome = outcome }
        // The slot passes to the first waiting ticket nobody promoted yet
        // (another batch may have ended since a promoted one went to sleep).
        if let next = queue.first(where: { !$0.leads }) {
            next.leads = true
        } else {
            inFlight -= 1
        }
        lock.broadcast()
        let own = ticket.outcome ?? .batchFailed
        lock.unlock()
        return own
    }

    private func execute(_ batch: [Ticket]) -> [Outcome] {
        // The latest deadline: no item's statement is cut short by another's.
        let deadline = batch.map(\.deadline).max() ?? .distantFuture
        do {
            let outcomes = try run(batch.map(\.item), deadline)
            guard outcomes.count == batch.count else {
                return batch.map { _ in .batchFailed }
            }
            return outcomes
        } catch {
            return batch.count == 1 ? [.failed(error)] : batch.map { _ in .batchFailed }
        }
    }
}
