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
        router.register(checkMethod, callers: callers, idempotent: true) {
            (context: CallContext, request: GateV1.CheckRequest) throws -> GateV1.CheckResponse in
            let check = try validated { () throws(GateRequestError) -> GateCheck in
                try GateCheck.validated(
                    sellerId: request.sellerId, productId: request.productId, stage: GateStage(request.stage),
                    orderTimeMicros: request.orderTimeUnixMicros)
            }
            let answers = try gate.check([check], deadline: context.deadline, logger: context.logger)
            return GateV1.CheckResponse(result: answers.first.map(GateV1.CheckResult.init))
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
