import InboxCore
import Logging
import Proto
import Storage
import Wire

/// The nine `inbox.v1.InboxService` methods over an ``AuthorizationStore``.
///
/// Every method: UNIMPLEMENTED while `ENABLE_SELLER_AUTHORIZATION` is off;
/// input validated before any SQL; the actor built from the credential plus
/// the id the message names (``Actor``); errors mapped by ``InboxWireMapping``.
/// Writes then write the new state through to Redis (never failing the call:
/// the outbox row stays pending for ``OutboxRelay`` when Redis is away) and
/// log one structured line per decision.
struct InboxHandlers: Sendable {
    static let servicePrefix = "/inbox.v1.InboxService/"
    static let callers: Set<Caller> = [.supplierPortal, .operator]
    /// The actor id reads by operators carry: reads are not audited, and the
    /// read messages have no operator_id field.
    static let operatorReader = "operator"

    let store: any AuthorizationStore
    let settings: InboxSettingsSource
    let cache: AuthorizationCacheWriter
    let marks: OutboxMarks
    let metrics: InboxMetrics

    func register(on router: inout MethodRouter) {
        router.register(Self.servicePrefix + "Request", callers: Self.callers, idempotent: true) {
            (context: CallContext, message: InboxV1.RequestAuthorizationRequest) in
            try self.request(context, message)
        }
        router.register(Self.servicePrefix + "Cancel", callers: Self.callers) {
            (context: CallContext, message: InboxV1.CancelAuthorizationRequest) in
            let outcome = try self.decide(context, .cancel, id: message.id, reason: "") {
                try Actor(caller: Self.callerKind(context), role: .seller, id: message.sellerId)
            }
            return InboxV1.CancelAuthorizationResponse(request: outcome)
        }
        router.register(Self.servicePrefix + "Approve", callers: Self.callers) {
            (context: CallContext, message: InboxV1.ApproveAuthorizationRequest) in
            let outcome = try self.decide(context, .approve, id: message.id, reason: message.reason) {
                try Actor(caller: Self.callerKind(context), role: .supplier, id: message.supplierId)
            }
            return InboxV1.ApproveAuthorizationResponse(request: outcome)
        }
        router.register(Self.servicePrefix + "Reject", callers: Self.callers) {
            (context: CallContext, message: InboxV1.RejectAuthorizationRequest) in
            let outcome = try self.decide(context, .reject, id: message.id, reason: message.reason) {
                try Actor(caller: Self.callerKind(context), role: .supplier, id: message.supplierId)
            }
            return InboxV1.RejectAuthorizationResponse(request: outcome)
        }
        router.register(Self.servicePrefix + "Revoke", callers: Self.callers) {
            (context: CallContext, message: InboxV1.RevokeAuthorizationRequest) in
            let outcome = try self.decide(context, .revoke, id: message.id, reason: message.reason) {
                let caller = Self.callerKind(context)
                return caller == .operator
                    ? try Actor(caller: caller, role: .operator, id: message.operatorId)
                    : try Actor(caller: caller, role: .supplier, id: message.supplierId)
            }
            return InboxV1.RevokeAuthorizationResponse(request: outcome)
        }
        router.register(Self.servicePrefix + "ListInbox", callers: Self.callers, idempotent: true) {
            (context: CallContext, message: InboxV1.ListInboxRequest) in
            let (rows, token) = try self.list(
                context, owner: .supplier(message.supplierId), statuses: message.statuses,
                productId: message.productId, pageSize: message.pageSize, pageToken: message.pageToken)
            return InboxV1.ListInboxResponse(requests: rows, nextPageToken: token)
        }
        router.register(Self.servicePrefix + "ListMine", callers: Self.callers, idempotent: true) {
            (context: CallContext, message: InboxV1.ListMineRequest) in
            let (rows, token) = try self.list(
                context, owner: .seller(message.sellerId), statuses: message.statuses,
                productId: message.productId, pageSize: message.pageSize, pageToken: message.pageToken)
            return InboxV1.ListMineResponse(requests: rows, nextPageToken: token)
        }
        router.register(Self.servicePrefix + "Get", callers: Self.callers, idempotent: true) {
            (context: CallContext, message: InboxV1.GetAuthorizationRequest) in
            try self.get(context, message)
        }
        router.register(Self.servicePrefix + "InboxSize", callers: Self.callers, idempotent: true) {
            (context: CallContext, message: InboxV1.InboxSizeRequest) in
            try self.guarded(context, action: nil) { _ in
                let actor = try Self.readerActor(context, role: .supplier, id: message.supplierId)
                try ActorRule.authorizeListing(of: .supplier(message.supplierId), by: actor)
                let pending = try store.inboxSize(supplierId: message.supplierId, deadline: context.deadline)
                return InboxV1.InboxSizeResponse(pending: pending)
            }
        }
    }

    // MARK: - Writes

    private func request(
        _ context: CallContext, _ message: InboxV1.RequestAuthorizationRequest
    ) throws(RPCError) -> InboxV1.RequestAuthorizationResponse {
        try guarded(context, action: .request) { settings in
            let actor = try Actor(caller: Self.callerKind(context), role: .seller, id: message.sellerId)
            try ActorRule.authorizeRequest(by: actor, sellerId: actor.id)
            let productId = try CatalogID.validate(message.productId, field: "product_id")
            let command = NewRequest(
                sellerId: actor.id, productId: productId,
                idempotencyKey: try IdempotencyKey(validating: message.idempotencyKey),
                note: try RequestNote(validating: message.note), caller: actor.caller.rawValue)
            let outcome = try store.request(command, rules: settings.rules, deadline: context.deadline)
            if let outboxID = outcome.outboxID {
                metrics.succeeded(.request)
                let cached = writeThrough(outcome.request, outboxID: outboxID, settings: settings, context: context)
                logDecision(context, .request, from: nil, request: outcome.request, actor: actor, cache: cached)
            } else {
                context.logger.info("inbox.request.replayed", metadata: [
                    "request.id": "\(outcome.request.id)", "seller": "\(actor.id)",
                    "idempotency_key": "\(command.idempotencyKey)",
                ])
            }
            return InboxV1.RequestAuthorizationResponse(
                request: InboxWireMapping.wire(outcome.request, cooldown: settings.rules.cooldown),
                replayed: outcome.replayed)
        }
    }

    /// Cancel, approve, reject and revoke.
    private func decide(
        _ context: CallContext, _ action: InboxAction, id: String, reason: String, actor makeActor: () throws -> Actor
    ) throws(RPCError) -> InboxV1.AuthorizationRequest {
        try guarded(context, action: action) { settings in
            let actor = try makeActor()
            let requestID = try RequestID(parsing: id)
            // Cancel carries no reason field; DecisionReason refuses one for cancel anyway.
            let decisionReason: DecisionReason? =
                action == .cancel ? nil : try DecisionReason(validating: reason, for: action)
            let outcome = try store.transition(
                TransitionCommand(action: action, id: requestID, actor: actor, reason: decisionReason),
                rules: settings.rules, deadline: context.deadline)
            metrics.succeeded(action)
            let cached = writeThrough(outcome.request, outboxID: outcome.outboxID, settings: settings, context: context)
            logDecision(context, action, from: outcome.from, request: outcome.request, actor: actor, cache: cached)
            return InboxWireMapping.wire(outcome.request, cooldown: settings.rules.cooldown)
        }
    }

    /// After COMMIT: the new state into Redis; on success the outbox row is
    /// marked applied by the relay's next pass (``OutboxMarks``). Never
    /// throws: a failure leaves the row pending for the relay to apply.
    private func writeThrough(
        _ request: StoredRequest, outboxID: Int64, settings: InboxSettings, context: CallContext
    ) -> AuthorizationCacheWriter.Outcome {
        let outcome = cache.writeThrough(
            seller: request.sellerId, product: request.productId, state: request.cacheState,
            ttl: settings.cacheTTL, deadline: context.deadline)
        if outcome != .pending { marks.record(outboxID) }
        return outcome
    }

    private func logDecision(
        _ context: CallContext, _ action: InboxAction, from: AuthorizationStatus?, request: StoredRequest, actor: Actor,
        cache: AuthorizationCacheWriter.Outcome
    ) {
        context.logger.info("inbox.decision", metadata: [
            "action": "\(action)", "request.id": "\(request.id)", "seller": "\(request.sellerId)",
            "product": "\(request.productId)", "supplier": "\(request.supplierId)",
            "from": "\(from?.rawValue ?? "none")", "to": "\(request.status)", "version": "\(request.version)",
            "actor.role": "\(actor.role)", "actor.id": "\(actor.id)", "cache": "\(cache)",
        ])
    }

    // MARK: - Reads

    private func list(
        _ context: CallContext, owner: InboxListing.Owner, statuses: [InboxV1.AuthorizationStatus], productId: String,
        pageSize: Int32, pageToken: String
    ) throws(RPCError) -> ([InboxV1.AuthorizationRequest], String) {
        try guarded(context, action: nil) { settings in
            let actor: Actor =
                switch owner {
                case .supplier(let id): try Self.readerActor(context, role: .supplier, id: id)
                case .seller(let id): try Self.readerActor(context, role: .seller, id: id)
                }
            var filter: [AuthorizationStatus] = []
            for status in statuses { filter.append(try InboxWireMapping.core(status)) }
            let listing = try InboxListing(owner: owner, statuses: filter, productId: productId)
            try ActorRule.authorizeListing(of: listing.owner, by: actor)
            let size = try PageSize(requested: pageSize).value
            let cursor = try InboxCursor.decode(pageToken, for: listing)
            let rows = try store.list(listing, after: cursor?.after, limit: size + 1, deadline: context.deadline)
            let page = rows.prefix(size)
            var token = ""
            if rows.count > size, let last = page.last {
                token = InboxCursor(after: try last.sortKey(), listing: listing).token
            }
            return (page.map { InboxWireMapping.wire($0, cooldown: settings.rules.cooldown) }, token)
        }
    }

    private func get(
        _ context: CallContext, _ message: InboxV1.GetAuthorizationRequest
    ) throws(RPCError) -> InboxV1.GetAuthorizationResponse {
        try guarded(context, action: nil) { settings in
            let caller = Self.callerKind(context)
            let actor: Actor
            if caller == .operator {
                actor = try Actor(caller: caller, role: .operator, id: Self.operatorReader)
            } else if !message.sellerId.isEmpty, message.supplierId.isEmpty {
                actor = try Actor(caller: caller, role: .seller, id: message.sellerId)
            } else if !message.supplierId.isEmpty, message.sellerId.isEmpty {
                actor = try Actor(caller: caller, role: .supplier, id: message.supplierId)
            } else {
                throw InboxError.invalidArgument(field: "seller_id", "give exactly one of seller_id or supplier_id")
            }
            let id = try RequestID(parsing: message.id)
            guard let (request, events) = try store.get(id: id, deadline: context.deadline) else {
                throw InboxError.notFound("id: no authorization request \(id)")
            }
            try ActorRule.authorizeView(by: actor, of: request.parties)
            return InboxV1.GetAuthorizationResponse(
                request: InboxWireMapping.wire(request, cooldown: settings.rules.cooldown),
                events: events.map(InboxWireMapping.wire))
        }
    }

    // MARK: - Plumbing

    /// The flag check, the latency metric of write actions, and error mapping
    /// (with the limit and cooldown counters).
    private func guarded<Response>(
        _ context: CallContext, action: InboxAction?, _ body: (InboxSettings) throws -> Response
    ) throws(RPCError) -> Response {
        let settings = self.settings.current
        guard settings.enabled else {
            throw RPCError(
                .unimplemented,
                "ENABLE_SELLER_AUTHORIZATION is off: seller authorization is not enabled (\(context.method))")
        }
        let started = Deadline.now()
        defer {
            if let action {
                let elapsed = Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds
                metrics.duration(action, nanoseconds: Int64(clamping: elapsed))
            }
        }
        do {
            return try body(settings)
        } catch {
            if let refusal = error as? InboxError {
                if refusal.code == .resourceExhausted { metrics.limitRejections.increment() }
                if refusal.retryAfterUnixMicros != nil { metrics.cooldownBlocks.increment() }
            }
            let mapped = InboxWireMapping.rpcError(error)
            if mapped.code == .internal || mapped.code == .unavailable {
                context.logger.error("inbox.call.failed", metadata: [
                    "code": "\(mapped.code)", "error": "\(mapped.cause.map { "\($0)" } ?? mapped.message)",
                ])
            }
            throw mapped
        }
    }

    static func callerKind(_ context: CallContext) -> CallerKind {
        CallerKind(rawValue: context.caller?.rawValue ?? "")
    }

    /// Readers: operators read everything; the portal reads as the seller or supplier named.
    static func readerActor(_ context: CallContext, role: ActorRole, id: String) throws(InboxError) -> Actor {
        let caller = callerKind(context)
        return caller == .operator
            ? try Actor(caller: caller, role: .operator, id: operatorReader)
            : try Actor(caller: caller, role: role, id: id)
    }
}
