import InboxCore
import Proto
import Storage
import Wire

/// Conversions between the stored records and the `inbox.v1` messages.
enum InboxWireMapping {
    static func wire(_ status: AuthorizationStatus) -> InboxV1.AuthorizationStatus {
        switch status {
        case .requested: .requested
        case .approved: .approved
        case .rejected: .rejected
        case .cancelled: .cancelled
        case .revoked: .revoked
        }
    }

    /// A status filter entry; UNSPECIFIED (or a number this build does not know) is refused.
    static func core(_ status: InboxV1.AuthorizationStatus) throws(InboxError) -> AuthorizationStatus {
        switch status {
        case .requested: .requested
        case .approved: .approved
        case .rejected: .rejected
        case .cancelled: .cancelled
        case .revoked: .revoked
        case .unspecified:
            throw .invalidArgument(field: "statuses", "AUTHORIZATION_STATUS_UNSPECIFIED is not a status to filter by")
        }
    }

    static func wire(_ role: ActorRole) -> InboxV1.ActorRole {
        switch role {
        case .seller: .seller
        case .supplier: .supplier
        case .operator: .operator
        }
    }

    /// The wire form of a request; `cooldown` computes `cooldown_until` of a
    /// REJECTED row from its decision time and the setting in force now.
    static func wire(_ request: StoredRequest, cooldown: RejectCooldown) -> InboxV1.AuthorizationRequest {
        InboxV1.AuthorizationRequest(
            id: request.id, sellerId: request.sellerId, productId: request.productId, supplierId: request.supplierId,
            status: wire(request.status), version: request.version, createdAtUnixMicros: request.createdAtMicros,
            decidedAtUnixMicros: request.decidedAtMicros, revokedAtUnixMicros: request.revokedAtMicros,
            reason: request.reason,
            cooldownUntilUnixMicros: request.status == .rejected
                ? cooldown.endOfCooldown(rejectedAtUnixMicros: request.decidedAtMicros) : 0,
            note: request.note, decidedBy: request.actedBy, idempotencyKey: request.idempotencyKey)
    }

    static func wire(_ event: StoredAuditEvent) -> InboxV1.AuditEvent {
        InboxV1.AuditEvent(
            requestId: event.requestId, fromStatus: event.fromStatus.map(wire) ?? .unspecified,
            toStatus: wire(event.toStatus), actorRole: wire(event.actorRole), actorId: event.actorId,
            caller: event.caller, reason: event.reason, atUnixMicros: event.atMicros, version: event.version)
    }

    /// The wire status for any error a handler meets (PROTOCOL.md's mapping).
    static func rpcError(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as InboxError:
            let code = StatusCode(rawValue: UInt32(clamping: error.code.rawValue)) ?? .internal
            return RPCError(code, error.message, cause: error)
        case let error as PostgresError:
            return rpcError(postgres: error)
        case let error as InboxStoreInvariantError:
            return RPCError(.internal, "internal error", cause: error)
        default:
            return RPCError(.internal, "internal error", cause: error)
        }
    }

    private static func rpcError(postgres error: PostgresError) -> RPCError {
        if error.kind == .timeout || error.code == PostgresError.SQLState.queryCanceled {
            return RPCError(.deadlineExceeded, "PostgreSQL did not answer before the call's deadline", cause: error)
        }
        if error.kind == .connectionFailed || error.kind == .connectionBroken || error.kind == .poolClosed {
            return RPCError(.unavailable, "PostgreSQL unreachable", cause: error)
        }
        if error.isRetryableTransactionFailure || error.isLockNotAvailable {
            return RPCError(.aborted, "concurrent update conflict; retry the call", cause: error)
        }
        if error.code == PostgresError.SQLState.foreignKeyViolation {
            return RPCError(.notFound, "a referenced seller, product or supplier no longer exists", cause: error)
        }
        return RPCError(.internal, "internal error", cause: error)
    }
}
