public import Logging
public import ServiceKit
public import Wire
import Foundation
import PolicyCore
import Proto
import Storage
import Synchronization

/// The `policy.v1.PolicyService` methods: resolution for checkout and
/// settlement, idempotent commission recording for settlement, and the
/// operator's admin methods (see `PolicyHandlers+Admin.swift`).
///
/// Handlers are synchronous and run on the wire server's worker threads;
/// they block on PostgreSQL within the call's deadline.
public final class PolicyHandlers: Sendable {
    /// The protobuf service name, answered by health.
    public static let serviceName = "policy.v1.PolicyService"

    /// Who may call what. Resolution is read-only pricing; recording is
    /// settlement's (and an operator's, for an explicit recalculation).
    enum Callers {
        static let resolve: Set<Caller> = [.checkout, .settlement, .operator]
        static let record: Set<Caller> = [.settlement, .operator]
        static let admin: Set<Caller> = [.operator]
    }

    let store: PolicyStore
    /// Policies and supplier and tier links between calls, revalidated by every call.
    let policyCache = PolicyCache()
    let metrics = PolicyMetrics()
    let logger: Logger
    private let flagValues: FlagCell

    /// Creates the handlers; `flags` is observed so every call reads the
    /// values in force without a query.
    public init(store: PolicyStore, flags: RuntimeFlags, logger: Logger) {
        self.store = store
        self.logger = logger
        let cell = FlagCell(PolicyServiceFlags(flags.current))
        self.flagValues = cell
        flags.observe { values in
            cell.value.withLock { $0 = PolicyServiceFlags(values) }
        }
    }

    /// The flags in force now.
    var flags: PolicyServiceFlags { flagValues.value.withLock { $0 } }

    /// Holds the latest flags; a class so the flag observer can share it.
    private final class FlagCell: Sendable {
        let value: Mutex<PolicyServiceFlags>

        init(_ flags: PolicyServiceFlags) {
            value = Mutex(flags)
        }
    }

    /// Registers every method of the service.
    public func register(on router: inout MethodRouter) {
        let prefix = "/\(Self.serviceName)/"
        router.register(prefix + "Resolve", callers: Callers.resolve, idempotent: true) {
            (context: CallContext, request: PolicyV1.ResolveRequest) in try self.resolve(context, request)
        }
        router.register(prefix + "ResolveBatch", callers: Callers.resolve, idempotent: true) {
            (context: CallContext, request: PolicyV1.ResolveBatchRequest) in try self.resolveBatch(context, request)
        }
        // Idempotent by order item id: a retry returns the stored lines.
        router.register(prefix + "RecordCommissions", callers: Callers.record, idempotent: true) {
            (context: CallContext, request: PolicyV1.RecordCommissionsRequest) in try self.recordCommissions(context, request)
        }
        registerAdmin(on: &router, prefix: prefix)
    }

    // MARK: Resolve

    func resolve(_ context: CallContext, _ request: PolicyV1.ResolveRequest) throws(RPCError) -> PolicyV1.ResolveResponse {
        guard let item = request.item else { throw .invalidArgument(field: "item", "required") }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.resolutionDuration.recordNanoseconds(Self.elapsed(since: started)) }
        var batch = PreparedBatch([item], naming: .single)
        let resolutions = try price(&batch, flags: flags, context: context)
        report(batch, resolutions, context: context)
        if let failure = batch.firstFailure { throw failure.rpcError }
        guard let resolution = resolutions[0], let priced = batch.items[0] else {
            throw RPCError(.internal, "item: resolution produced no result")
        }
        return PolicyV1.ResolveResponse(resolution: PolicyV1.Resolution(resolution, item: priced))
    }

    /// Resolves every item and encodes its result at once (see
    /// ``ResolutionEncoder``): no array of resolutions or wire results, no
    /// protobuf-c tree, whatever the batch size.
    func resolveBatch(
        _ context: CallContext, _ request: PolicyV1.ResolveBatchRequest
    ) throws(RPCError) -> PreEncoded<PolicyV1.ResolveBatchResponse> {
        try PreparedBatch.checkShape(request.items)
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.resolutionDuration.recordNanoseconds(Self.elapsed(since: started)) }
        var batch = PreparedBatch(request.items, naming: .batch)
        var encoder = ResolutionEncoder(expectedResults: request.items.count)
        var tally = ResolutionTally(naming: .batch)
        try price(&batch, flags: flags, context: context) { index, outcome in
            let orderItemID = request.items[index].orderItemId
            switch outcome {
            case .resolved(let resolution, let item):
                encoder.appendResult(orderItemID: orderItemID, resolution: resolution, item: item)
            case .failed(let failure):
                encoder.appendError(
                    PolicyV1.ItemError(orderItemId: orderItemID, statusCode: failure.code.rawValue, statusMessage: failure.message)
                )
            }
            tally.count(outcome, index: index)
        }
        guard encoder.resultCount == request.items.count else {
            throw RPCError(.internal, "items: \(encoder.resultCount) results for \(request.items.count) items")
        }
        tally.publish(to: metrics, logger: context.logger)
        return PreEncoded(trusted: encoder.bytes)
    }

    // MARK: Pricing

    /// What became of one item of a batch.
    enum ItemOutcome {
        /// Priced; `item` is the item as completed from the catalog.
        case resolved(Resolution, item: OrderItem)
        /// Refused on its own (invalid, unknown in the catalog, or unpriceable).
        case failed(ItemFailure)
    }

    /// Completes `batch` from the catalog, preloads the policies it needs and
    /// resolves every item still valid, all within `POLICY_RESOLUTION_TIMEOUT_MS`
    /// (or the call's deadline when sooner), handing each item's outcome to
    /// `each` in request order. Per-item problems become failures in `batch`;
    /// only storage trouble and the timeout throw (after `each` saw every item
    /// when it is the timeout: callers publish nothing before this returns).
    func price(
        _ batch: inout PreparedBatch, flags: PolicyServiceFlags, context: CallContext,
        _ each: (Int, ItemOutcome) -> Void
    ) throws(RPCError) {
        let timeout = Deadline.after(milliseconds: Int64(flags.resolutionTimeoutMilliseconds))
        let deadline = timeout.earlier(than: context.deadline)
        do {
            try price(&batch, flags: flags.resolution, deadline: deadline, each)
        } catch {
            let rpcError = RPCError.storage(error, while: "resolving policies")
            throw failedResolution(rpcError, batch: batch, timeout: timeout, context: context, flags: flags)
        }
        if deadline.isExpired {
            throw failedResolution(RPCError(.deadlineExceeded, "resolution ran out of time"), batch: batch,
                                   timeout: timeout, context: context, flags: flags)
        }
    }

    /// ``price(_:flags:context:_:)`` collected into one resolution per item (nil for a failed item).
    func price(_ batch: inout PreparedBatch, flags: PolicyServiceFlags, context: CallContext) throws(RPCError) -> [Resolution?] {
        var resolutions = [Resolution?](repeating: nil, count: batch.items.count)
        try price(&batch, flags: flags, context: context) { index, outcome in
            if case .resolved(let resolution, _) = outcome { resolutions[index] = resolution }
        }
        return resolutions
    }

    private func price(
        _ batch: inout PreparedBatch, flags: PolicyResolutionFlags, deadline: Deadline, _ each: (Int, ItemOutcome) -> Void
    ) throws {
        let questions = batch.catalogQuestions
        var policies = PolicySet.empty
        if !questions.products.isEmpty {
            policies = try store.pool.withConnection(deadline: deadline) { connection in
                let catalog = try PolicyStore.lookUpCatalog(
                    products: questions.products, givenSuppliers: questions.givenSuppliers, sellers: questions.sellers,
                    productLinks: flags.supplierPolicyEnabled, on: connection, deadline: deadline
                )
                batch.complete(with: catalog)
                // Supplier and tier links stay in the set with those flags off: the
                // resolver itself skips their levels then.
                var base = policyCache.policies(at: catalog.policyChangeCounter)
                if base == nil || !catalog.productLinks.allSatisfy({ base?.contains(policyID: $0.policyID) == true }) {
                    let loaded = try PolicyStore.loadPolicies(on: connection, deadline: deadline)
                    policyCache.store(loaded)
                    base = loaded.policies
                }
                return try (base ?? .empty).adding(links: catalog.productLinks)
            }
        }
        let resolver = PolicyResolver(policies: policies, flags: flags)
        for index in batch.items.indices {
            if let item = batch.items[index] {
                do throws(PolicyError) {
                    each(index, .resolved(try resolver.resolve(item), item: item))
                    continue
                } catch {
                    batch.fail(index, .invalidArgument, error.message)
                }
            }
            // Items skipped on purpose (lines already recorded) have neither.
            if let failure = batch.failures[index] { each(index, .failed(failure)) }
        }
    }

    /// Counts and logs a call that failed as a whole while resolving; a
    /// deadline set by `POLICY_RESOLUTION_TIMEOUT_MS` is reported as such.
    private func failedResolution(
        _ error: RPCError, batch: PreparedBatch, timeout: Deadline, context: CallContext, flags: PolicyServiceFlags
    ) -> RPCError {
        var error = error
        let reason: ResolutionFailureReason
        if error.code == .deadlineExceeded {
            reason = .timeout
            if timeout <= context.deadline {
                error = RPCError(.deadlineExceeded,
                                 "POLICY_RESOLUTION_TIMEOUT_MS: resolution took longer than \(flags.resolutionTimeoutMilliseconds) ms",
                                 cause: error.cause)
            }
        } else {
            reason = .internal
        }
        metrics.recordFailures(reason, count: batch.items.count)
        context.logger.error("policy resolution failed", metadata: [
            "reason": "\(reason.rawValue)", "code": "\(error.code)", "items": "\(batch.items.count)",
            "error": "\(error.message)", "cause": "\(error.cause.map { "\($0)" } ?? "")",
        ])
        return error
    }

    /// Counts resolutions by level and failures by reason, and logs one line per failure (capped).
    func report(_ batch: PreparedBatch, _ resolutions: [Resolution?], context: CallContext) {
        var tally = ResolutionTally(naming: batch.naming)
        for index in resolutions.indices {
            if let resolution = resolutions[index], let item = batch.items[index] {
                tally.count(.resolved(resolution, item: item), index: index)
            } else if let failure = batch.failures[index] {
                tally.count(.failed(failure), index: index)
            }
        }
        tally.publish(to: metrics, logger: context.logger)
    }

    static func elapsed(since started: UInt64) -> Int64 {
        Int64(clamping: DispatchTime.now().uptimeNanoseconds &- started)
    }
}
