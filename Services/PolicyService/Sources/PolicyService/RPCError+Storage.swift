import Storage
import Wire

extension RPCError {
    /// Maps an error thrown while talking to PostgreSQL to the wire status:
    /// unreachable → UNAVAILABLE, deadline → DEADLINE_EXCEEDED, anything else
    /// (including a stored row PolicyCore refuses) → INTERNAL. Call errors pass through.
    static func storage(_ error: any Error, while activity: String) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as ItemFailure:
            return error.rpcError
        case let error as PostgresError:
            switch error.kind {
            case .timeout:
                return RPCError(.deadlineExceeded, "\(activity) took longer than the call's deadline", cause: error)
            case .connectionFailed, .connectionBroken, .poolClosed:
                return RPCError(.unavailable, "\(activity): PostgreSQL unreachable", cause: error)
            default:
                return RPCError(.internal, "\(activity) failed", cause: error)
            }
        default:
            return RPCError(.internal, "\(activity) failed", cause: error)
        }
    }
}
