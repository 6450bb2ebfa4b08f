import CLibPQ

/// One statement of a pipelined batch.
public struct PostgresStatement: Sendable, Hashable {
    /// One statement with `$1`, `$2`… placeholders.
    public var sql: String
    /// Values for the placeholders; `nil` is SQL NULL.
    public var parameters: [PostgresValue?]

    /// Creates a statement.
    public init(_ sql: String, _ parameters: [PostgresValue?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension PostgresConnection {
    /// Runs several statements in one round trip using libpq's pipeline mode, and returns
    /// their results in order.
    ///
    /// Statements are prepared and cached exactly as with `query(_:_:deadline:)`. Outside an
    /// explicit transaction the batch runs as one implicit transaction (it ends at the
    /// pipeline's sync point): if any statement fails, none of the batch's changes are kept
    /// and the first error is thrown. Inside `transaction { }` a failure aborts that transaction.
    ///
    /// If the deadline passes, the running statement is cancelled and the connection is
    /// marked broken (the pipeline cannot be resynchronised cheaply), so a pool replaces it.
    public func pipeline(_ statements: [PostgresStatement], deadline: Deadline = .distantFuture) throws(PostgresError) -> [PostgresRows] {
        guard !statements.isEmpty else { return [] }
        guard !isBroken else {
            throw PostgresError(kind: .connectionBroken, message: "the connection is broken: \(Self.errorMessage(of: handle))")
        }
        guard !deadline.isExpired else {
            throw PostgresError(kind: .timeout, message: "the deadline passed before the statements were sent")
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(kind: .invalidUsage, message: "cannot enter pipeline mode: \(Self.errorMessage(of: handle))")
        }
        let outcome: Result<[PostgresRows], PostgresError>
        do throws(PostgresError) {
            let plan = try sendPipeline(statements)
            try flush(deadline: deadline)
            let (rows, firstError) = try readPipelineResults(plan, deadline: deadline)
            guard PQexitPipelineMode(handle) == 1 else {
                throw PostgresError(kind: .connectionBroken, message: "cannot leave pipeline mode: \(Self.errorMessage(of: handle))")
            }
            // A statement's error leaves the connection in sync; only report it.
            outcome = firstError.map { .failure($0) } ?? .success(rows)
        } catch {
            // Whatever is still queued belongs to a batch nobody will read: start afresh.
            markedBroken = true
            throw error
        }
        return try outcome.get()
    }

    /// What each queued request produces, in order.
    private enum PipelineStep {
        /// Preparing `sql` under `name` for the first time.
        case prepare(sql: String, name: String)
        /// The statement whose rows the caller gets back.
        case statement
    }

    private func sendPipeline(_ statements: [PostgresStatement]) throws(PostgresError) -> [PipelineStep] {
        var plan: [PipelineStep] = []
        var preparedInBatch: [String: String] = [:]
        for statement in statements {
            var name = cachedStatements[statement.sql] ?? preparedInBatch[statement.sql]
            if name == nil, cachedStatements.count + preparedInBatch.count < Self.statementCacheCapacity {
                let newName = "__o4o_s\(nextStatementNumber)"
                nextStatementNumber += 1
                guard PQsendPrepare(handle, newName, statement.sql, 0, nil) == 1 else {
                    throw PostgresError(kind: .connectionBroken, message: Self.errorMessage(of: handle))
                }
                plan.append(.prepare(sql: statement.sql, name: newName))
                preparedInBatch[statement.sql] = newName
                name = newName
            }
            let sent = try withParameterPointers(statement.parameters) { (count, values) throws(PostgresError) -> Int32 in
                if let name {
                    return PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
                }
                return PQsendQueryParams(handle, statement.sql, count, nil, values, nil, nil, 0)
            }
            guard sent == 1 else {
                throw PostgresError(kind: .connectionBroken, message: Self.errorMessage(of: handle))
            }
            plan.append(.statement)
        }
        guard PQpipelineSync(handle) == 1 else {
            throw PostgresError(kind: .connectionBroken, message: Self.errorMessage(of: handle))
        }
        return plan
    }

    /// Reads every result up to the sync point; a statement's error is returned, not thrown,
    /// because the connection is still in sync after it.
    private func readPipelineResults(
        _ plan: [PipelineStep], deadline: Deadline
    ) throws(PostgresError) -> (rows: [PostgresRows], firstError: PostgresError?) {
        var rows: [PostgresRows] = []
        rows.reserveCapacity(plan.count)
        var firstError: PostgresError?
        for step in plan {
            var stepRows = PostgresRows.empty
            var succeeded = false
            // Each request's results end with a NULL from PQgetResult.
            while true {
                try waitUntilResultReady(deadline: deadline)
                guard let result = PQgetResult(handle) else { break }
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_TUPLES_OK:
                    stepRows = Self.copyRows(of: result)
                    succeeded = true
                case PGRES_COMMAND_OK:
                    stepRows = PostgresRows(columns: [], cells: [], rowCount: 0, affectedRows: Self.affectedRows(of: result))
                    succeeded = true
                case PGRES_FATAL_ERROR:
                    if firstError == nil { firstError = serverError(from: result) }
                default:
                    // PGRES_PIPELINE_ABORTED: skipped because an earlier request failed.
                    break
                }
            }
            switch step {
            case .prepare(let sql, let name):
                if succeeded { cachedStatements[sql] = name }
            case .statement:
                rows.append(stepRows)
            }
        }
        // The sync point closes the batch (and its implicit transaction).
        try waitUntilResultReady(deadline: deadline)
        guard let sync = PQgetResult(handle) else {
            throw PostgresError(kind: .connectionBroken, message: "the pipeline ended without its sync point")
        }
        let status = PQresultStatus(sync)
        PQclear(sync)
        guard status == PGRES_PIPELINE_SYNC else {
            throw PostgresError(kind: .connectionBroken, message: "expected the pipeline's sync point, got \(String(cString: PQresStatus(status)))")
        }
        return (rows, firstError)
    }
}
