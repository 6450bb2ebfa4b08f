import GateCore
import Proto
import Wire

/// The wire side of the gate: decoding, validation (GateCheck) and the
/// mapping of answers onto `gate.v1` messages.
enum GateHandlers {
    /// `/gate.v1.GateService/Check`.
    static let checkMethod = "/gate.v1.GateService/Check"
    /// `/gate.v1.GateService/CheckBatch`.
    static let checkBatchMethod = "/gate.v1.GateService/CheckBatch"
    /// The checkout (cart, order), the settlement batch and operators
    /// (diagnosis); the supplier portal and unknown callers are refused.
    static let callers: Set<Caller> = [.checkout, .settlement, .operator]

    static func register(on router: inout MethodRouter, gate: AuthorizationGate) {
        // Checks arriving together (from any connections) share one Redis
        // round trip; each call still gets its own answer and error.
        router.registerCoalescing(checkMethod, callers: callers, idempotent: true) {
            (contexts: [CallContext], requests: [GateV1.CheckRequest]) -> [Result<GateV1.CheckResponse, RPCError>] in
            checkTogether(contexts: contexts, requests: requests, gate: gate)
        }
        router.register(checkBatchMethod, callers: callers, idempotent: true) {
            (context: CallContext, request: GateV1.CheckBatchRequest) throws -> GateV1.CheckBatchResponse in
            let checks = try validated { () throws(GateRequestError) -> [GateCheck] in
                try GateCheck.validateBatchSize(request.items.count)
                return try request.items.enumerated().map { (index, item) throws(GateRequestError) -> GateCheck in
                    try GateCheck.validated(
                        sellerId: item.sellerId.isEmpty ? request.sellerId : item.sellerId, productId: item.productId,
                        stage: GateStage(item.stage), orderTimeMicros: item.orderTimeUnixMicros, fieldPrefix: "items[\(index)].")
                }
            }
            let answers = try gate.check(checks, deadline: context.deadline, logger: context.logger)
            return GateV1.CheckBatchResponse(results: answers.map(GateV1.CheckResult.init))
        }
    }

    /// Answers single Check calls run together: invalid requests fail alone,
    /// the valid ones are decided in one `AuthorizationGate.check` (bounded by
    /// the earliest deadline among them).
    static func checkTogether(
        contexts: [CallContext], requests: [GateV1.CheckRequest], gate: AuthorizationGate
    ) -> [Result<GateV1.CheckResponse, RPCError>] {
        var results = [Result<GateV1.CheckResponse, RPCError>](
            repeating: .failure(RPCError(.internal, "not answered")), count: requests.count)
        var checks: [GateCheck] = []
        var indices: [Int] = []
        checks.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            do throws(RPCError) {
                checks.append(try validated { () throws(GateRequestError) -> GateCheck in
                    try GateCheck.validated(
                        sellerId: request.sellerId, productId: request.productId, stage: GateStage(request.stage),
                        orderTimeMicros: request.orderTimeUnixMicros)
                })
                indices.append(index)
            } catch {
                results[index] = .failure(error)
            }
        }
        guard !checks.isEmpty else { return results }
        let owners = indices.map { contexts[$0] }
        let deadline = owners.map(\.deadline).min() ?? contexts[0].deadline
        do throws(RPCError) {
            let answers = try gate.check(
                checks, deadline: deadline, logger: owners[0].logger,
                itemLogger: owners.count > 1 ? { owners[$0].logger } : nil, calls: owners.count)
            for (position, index) in indices.enumerated() {
                results[index] = .success(GateV1.CheckResponse(result: GateV1.CheckResult(answers[position])))
            }
        } catch {
            for index in indices { results[index] = .failure(error) }
        }
        return results
    }

    private static func validated<T>(_ body: () throws(GateRequestError) -> T) throws(RPCError) -> T {
        do {
            return try body()
        } catch {
            throw RPCError(.invalidArgument, error.description)
        }
    }
}

extension GateStage {
    /// The stage on the wire; nil for UNSPECIFIED (or a number this build does not know).
    init?(_ stage: GateV1.Stage) {
        switch stage {
        case .cart: self = .cart
        case .order: self = .order
        case .settlement: self = .settlement
        case .unspecified: return nil
        }
    }
}

extension GateV1.CheckResult {
    init(_ answer: AuthorizationGate.Answer) {
        self.init(
            allowed: answer.decision.allowed, reason: GateV1.Reason(answer.decision.reason),
            evaluatedReason: answer.decision.evaluatedReason.map(GateV1.Reason.init) ?? .unspecified,
            enforced: answer.decision.enforced, tier: GateV1.Tier(answer.tier), mode: GateV1.RolloutMode(answer.mode),
            authorizationVersion: answer.version)
    }
}

extension GateV1.Reason {
    init(_ reason: GateReason) {
        switch reason {
        case .approved: self = .approved
        case .notRequested: self = .notRequested
        case .pending: self = .pending
        case .rejected: self = .rejected
        case .revoked: self = .revoked
        case .cancelled: self = .cancelled
        case .outsideRollout: self = .outsideRollout
        case .shadowWouldDeny: self = .shadowWouldDeny
        case .featureOff: self = .featureOff
        case .unavailable: self = .unavailable
        case .notAuthorizedAtOrderTime: self = .notAuthorizedAtOrderTime
        case .approvedAtOrderTime: self = .approvedAtOrderTime
        }
    }
}

extension GateV1.Tier {
    init(_ tier: AuthorizationGate.Tier) {
        switch tier {
        case .local: self = .local
        case .redis: self = .redis
        case .postgres: self = .postgres
        case .none: self = .none
        }
    }
}

extension GateV1.RolloutMode {
    init(_ mode: RolloutMode) {
        switch mode {
        case .off: self = .off
        case .shadow: self = .shadow
        case .canary: self = .canary
        case .percentage: self = .percentage
        case .full: self = .full
        }
    }
}
