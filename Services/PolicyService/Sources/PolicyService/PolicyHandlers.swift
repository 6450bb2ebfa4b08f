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

    /// At most this many failure lines are logged per call; the rest are
    /// summarised in one line, so a bad 10,000-item batch cannot flood the logs.
    static let maximumFailureLogLines = 100

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

    /// Resolves every item and encodes the response as it goes (see
    /// ``ResolutionEncoder``): no array of wire results, no protobuf-c tree.
    func resolveBatch(
        _ context: CallContext, _ request: PolicyV1.ResolveBatchRequest
    ) throws(RPCError) -> PreEncoded<PolicyV1.ResolveBatchResponse> {
        try PreparedBatch.checkShape(request.items)
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.resolutionDuration.recordNanoseconds(Self.elapsed(since: started)) }
        var batch = PreparedBatch(request.items, naming: .batch)
        let resolutions = try price(&batch, flags: flags, context: context)
        report(batch, resolutions, context: context)
        var encoder = ResolutionEncoder(expectedResults: request.items.count)
        for index in request.items.indices {
            let orderItemID = request.items[index].orderItemId
            if let resolution = resolutions[index], let item = batch.items[index] {
                encoder.appendResult(orderItemID: orderItemID, resolution: resolution, item: item)
            } else {
                let failure = batch.failures[index]
                    ?? ItemFailure(code: .internal, message: "items[\(index)]: no result", reason: .internal)
                encoder.appendError(
                    PolicyV1.ItemError(orderItemId: orderItemID, statusCode: failure.code.rawValue, statusMessage: failure.message)
                )
            }
        }
        return PreEncoded(trusted: encoder.bytes)
    }

    // MARK: Pricing

    /// Completes `batch` from the catalog, preloads the policies it needs and
    /// resolves every item still valid, all within `POLICY_RESOLUTION_TIMEOUT_MS`
    /// (or the call's deadline when sooner). Per-item problems become failures
    /// in `batch`; only storage trouble and the timeout throw.
    func price(_ batch: inout PreparedBatch, flags: PolicyServiceFlags, context: CallContext) throws(RPCError) -> [Resolution?] {
        let timeout = Deadline.after(milliseconds: Int64(flags.resolutionTimeoutMilliseconds))
        let deadline = timeout.earlier(than: context.deadline)
        let resolutions: [Resolution?]
        do {
            resolutions = try price(&batch, flags: flags.resolution, deadline: deadline)
        } catch {
            let rpcError = RPCError.storage(error, while: "resolving policies")
            throw failedResolution(rpcError, batch: batch, timeout: timeout, context: context, flags: flags)
        }
        if deadline.isExpired {
            throw failedResolution(RPCError(.deadlineExceeded, "resolution ran out of time"), batch: batch,
                                   timeout: timeout, context: context, flags: flags)
        }
        return resolutions
    }

    private func price(_ batch: inout PreparedBatch, flags: PolicyResolutionFlags, deadline: Deadline) throws -> [Resolution?] {
        var resolutions = [Resolution?](repeating: nil, count: batch.items.count)
        let questions = batch.catalogQuestions
        guard !questions.products.isEmpty else { return resolutions }
        let policies = try store.pool.withConnection(deadline: deadline) { connection in
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
        let resolver = PolicyResolver(policies: policies, flags: flags)
        for index in batch.items.indices {
            guard let item = batch.items[index] else { continue }
            do throws(PolicyError) {
                resolutions[index] = try resolver.resolve(item)
            } catch {
                batch.fail(index, .invalidArgument, error.message)
            }
        }
        return resolutions
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
        var levels: [ResolutionLevel: Int] = [:]
        var logged = 0
        var unlogged = 0
        var invalid = 0
        for index in resolutions.indices {
            if let resolution = resolutions[index] {
                levels[resolution.level, default: 0] += 1
                guard resolution.level == .safeMode else { continue }
                if logged < Self.maximumFailureLogLines {
                    logged += 1
                    context.logger.warning("policy resolution fell back to safe mode", metadata: [
                        "reason": "\(ResolutionFailureReason.noPolicyFound.rawValue)",
                        "order_item_id": "\(resolution.orderItemID)", "item": "\(batch.label(index))",
                    ])
                } else {
                    unlogged += 1
                }
            } else if let failure = batch.failures[index] {
                invalid += 1
                if logged < Self.maximumFailureLogLines {
                    logged += 1
                    context.logger.warning("policy resolution failed for an item", metadata: [
                        "reason": "\(failure.reason.rawValue)", "code": "\(failure.code)", "error": "\(failure.message)",
                    ])
                } else {
                    unlogged += 1
                }
            }
        }
        metrics.recordResolutions(levels)
        metrics.recordFailures(.invalidInput, count: invalid)
        if unlogged > 0 {
            context.logger.warning("more policy resolution failures not logged one by one", metadata: ["count": "\(unlogged)"])
        }
    }

    static func elapsed(since started: UInt64) -> Int64 {
        Int64(clamping: DispatchTime.now().uptimeNanoseconds &- started)
    }
}
