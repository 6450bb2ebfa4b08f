import Synchronization

/// Outbox rows whose write-through reached Redis, waiting to be marked
/// applied in PostgreSQL by the relay's next pass, in one statement.
///
/// Marking inside each decision would cost a round trip and a commit per
/// call. Deferring it is safe: until marked, a row is merely pending, and
/// applying a pending row again (this relay or another instance's) is a
/// compare-and-set that keeps the newer value Redis already holds. A crash
/// loses only marks, never writes.
final class OutboxMarks: Sendable {
    private let ids = Mutex<[Int64]>([])

    /// Records a row whose state Redis holds.
    func record(_ id: Int64) {
        ids.withLock { $0.append(id) }
    }

    /// Takes every recorded id.
    func drain() -> [Int64] {
        ids.withLock { ids in
            defer { ids.removeAll(keepingCapacity: true) }
            return ids
        }
    }

    /// Puts back ids whose marking failed, for the next pass.
    func restore(_ failed: [Int64]) {
        guard !failed.isEmpty else { return }
        ids.withLock { $0.append(contentsOf: failed) }
    }
}
