import Foundation
import PolicyCore
import Proto
import Storage
import Wire

extension PolicyHandlers {
    /// Attempts at the write transaction when PostgreSQL reports a deadlock or
    /// serialization failure (possible when batches overlap).
    static let maximumWriteAttempts = 3

    /// Records a settlement batch's commission lines, idempotently by order item id.
    ///
    /// 1. Every item is checked; one bad item fails the call (`items[i]…`).
    /// 2. Lines already recorded are compared with the request: a different
    ///    item is FAILED_PRECONDITION; an identical one is returned as stored,
    ///    even if its policy changed since (unless `recalculate`).
    /// 3. The other items are priced (one preload) and written in one
    ///    transaction with `INSERT … ON CONFLICT DO NOTHING`; lines written
    ///    concurrently by another call are read back and compared the same way.
    ///
    /// Any failure rolls the transaction back: a failing batch writes nothing.
    func recordCommissions(
        _ context: CallContext, _ request: PolicyV1.RecordCommissionsRequest
    ) throws(RPCError) -> PolicyV1.RecordCommissionsResponse {
        if request.batchId.isEmpty { throw .invalidArgument(field: "batch_id", "required") }
        if request.batchId.utf8.count > 128 {
            throw .invalidArgument(field: "batch_id", "at most 128 bytes, got \(request.batchId.utf8.count)")
        }
        try PreparedBatch.checkShape(request.items)
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.commissionCalculationDuration.recordNanoseconds(Self.elapsed(since: started)) }

        var batch = PreparedBatch(request.items, naming: .batch)
        if let failure = batch.firstFailure {
            report(batch, [Resolution?](repeating: nil, count: request.items.count), context: context)
            throw failure.rpcError
        }
        let orderItemIDs = request.items.map(\.orderItemId)

        // Lines already recorded need no pricing unless a recalculation is asked for.
        var recorded: [String: CommissionLineRow] = [:]
        if !request.recalculate {
            do {
                recorded = try store.pool.withConnection(deadline: context.deadline) { connection in
                    try PolicyStore.commissionLines(orderItemIDs, on: connection, deadline: context.deadline)
                }
            } catch {
                throw RPCError.storage(error, while: "reading recorded commission lines")
            }
            try Self.checkRepeats(request.items, against: recorded)
            if recorded.count == request.items.count {
                return try Self.response(request.items, lines: recorded, written: [])
            }
            for index in request.items.indices where recorded[request.items[index].orderItemId] != nil {
                batch.skip(index)
            }
        }

        let resolutions = try price(&batch, flags: flags, context: context)
        report(batch, resolutions, context: context)
        if let failure = batch.firstFailure { throw failure.rpcError }
        var newLines: [NewCommissionLine] = []
        newLines.reserveCapacity(request.items.count - recorded.count)
        for index in request.items.indices {
            guard let item = batch.items[index], let resolution = resolutions[index] else { continue }
            newLines.append(NewCommissionLine(item: item, sellerID: batch.sellerIDs[index], resolution: resolution))
        }

        var attempt = 0
        while true {
            attempt += 1
            do {
                let (lines, written) = try store.pool.withConnection(deadline: context.deadline) { connection in
                    try connection.transaction(deadline: context.deadline) { connection in
                        let written = try PolicyStore.writeCommissionLines(
                            newLines, batchID: request.batchId, overwrite: request.recalculate,
                            on: connection, deadline: context.deadline
                        )
                        let lines = try PolicyStore.commissionLines(orderItemIDs, on: connection, deadline: context.deadline)
                        // A concurrent call may have recorded some items first: they must be the same items.
                        try Self.checkRepeats(request.items, against: lines, except: written)
                        return (lines, written)
                    }
                }
                if written.count > 0 {
                    context.logger.info("commission lines recorded", metadata: [
                        "batch_id": "\(request.batchId)", "written": "\(written.count)",
                        "items": "\(request.items.count)", "recalculate": "\(request.recalculate)",
                    ])
                }
                return try Self.response(request.items, lines: lines, written: written)
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < Self.maximumWriteAttempts {
                context.logger.notice("retrying commission write after a transaction conflict", metadata: ["sqlstate": "\(error.code ?? "")"])
                continue
            } catch {
                throw RPCError.storage(error, while: "recording commission lines")
            }
        }
    }

    /// Refuses a repeat whose item differs from the recorded line (FAILED_PRECONDITION).
    static func checkRepeats(
        _ items: [PolicyV1.OrderItem], against lines: [String: CommissionLineRow], except written: Set<String> = []
    ) throws(RPCError) {
        for (index, item) in items.enumerated() {
            guard let line = lines[item.orderItemId], !written.contains(item.orderItemId) else { continue }
            if let mismatch = line.mismatch(with: item) {
                throw RPCError(.failedPrecondition, "items[\(index)].\(mismatch); pass recalculate to replace the line")
            }
        }
    }

    /// One line per request item, in request order.
    static func response(
        _ items: [PolicyV1.OrderItem], lines: [String: CommissionLineRow], written: Set<String>
    ) throws(RPCError) -> PolicyV1.RecordCommissionsResponse {
        var result: [PolicyV1.CommissionLine] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let line = lines[item.orderItemId] else {
                throw RPCError(.internal, "items[\(index)]: no commission line stored for \(item.orderItemId) after recording")
            }
            result.append(line.proto(newlyWritten: written.contains(item.orderItemId)))
        }
        return PolicyV1.RecordCommissionsResponse(lines: result)
    }
}
