extension PostgresConnection {
    /// Transaction isolation levels (PostgreSQL has no distinct READ UNCOMMITTED).
    public enum IsolationLevel: String, Sendable, Hashable {
        /// Each statement sees data committed before it started (PostgreSQL's default).
        case readCommitted = "READ COMMITTED"
        /// One snapshot for the whole transaction; concurrent updates raise 40001.
        case repeatableRead = "REPEATABLE READ"
        /// Behaves as if transactions ran one at a time; conflicts raise 40001, so retry.
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` if `body` returns, `ROLLBACK` if it throws.
    ///
    /// The body receives this connection; run its statements with their own deadlines (usually
    /// the same one). A failed `COMMIT` (e.g. 40001 under SERIALIZABLE) is thrown like any
    /// other error: the transaction is then over and nothing was written. Retrying is the
    /// caller's decision, see `PostgresError.isRetryableTransactionFailure`.
    ///
    /// - Parameters:
    ///   - isolation: The isolation level of this transaction.
    ///   - readOnly: Starts the transaction `READ ONLY`.
    ///   - deadline: Bounds `BEGIN` and `COMMIT` (and the rollback after a failure).
    /// - Throws: Whatever `body` throws, or a `PostgresError`; `.invalidUsage` when a
    ///   transaction is already open on this connection (transactions do not nest).
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        deadline: Deadline = .distantFuture,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        guard !isInTransaction else {
            throw PostgresError(kind: .invalidUsage, message: "a transaction is already open on this connection; transactions do not nest")
        }
        try simpleQuery("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")", deadline: deadline)
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackAfterFailure(deadline: deadline)
            throw error
        }
        do {
            try simpleQuery("COMMIT", deadline: deadline)
        } catch {
            // A COMMIT that failed on the server already ended the transaction; one that timed
            // out may not have: make sure nothing stays open.
            rollbackAfterFailure(deadline: deadline)
            throw error
        }
        return value
    }

    /// Rolls back after a failure, with at least a short grace period even when the caller's
    /// deadline has passed (often the very reason we are rolling back). A connection that
    /// cannot roll back is marked broken so that no one inherits the open transaction.
    private func rollbackAfterFailure(deadline: Deadline) {
        guard !isBroken, isInTransaction else { return }
        let grace = Deadline.after(milliseconds: Self.cancelGracePeriodMillis)
        do {
            try simpleQuery("ROLLBACK", deadline: max(deadline, grace))
        } catch {
            markBroken()
        }
    }
}
