/// One legal step of the request state machine.
///
/// ```
/// (new) --request--> REQUESTED --approve--> APPROVED --revoke--> REVOKED
///                    REQUESTED --reject---> REJECTED
///                    REQUESTED --cancel---> CANCELLED
/// ```
/// Terminal states (REJECTED, CANCELLED, REVOKED) never change. Every
/// transition produces one audit event and one version bump of the pair.
public struct AuthorizationTransition: Sendable, Hashable, CustomStringConvertible {
    /// What the actor did.
    public let action: InboxAction
    /// The state before; `nil` for the creating ``request`` transition.
    public let from: AuthorizationStatus?
    /// The state after.
    public let to: AuthorizationStatus

    private init(action: InboxAction, from: AuthorizationStatus?, to: AuthorizationStatus) {
        self.action = action
        self.from = from
        self.to = to
    }

    /// The creation of a new request row.
    public static let request = AuthorizationTransition(action: .request, from: nil, to: .requested)

    /// Every legal transition, the creation first.
    public static let all: [AuthorizationTransition] = [
        .request,
        AuthorizationTransition(action: .approve, from: .requested, to: .approved),
        AuthorizationTransition(action: .reject, from: .requested, to: .rejected),
        AuthorizationTransition(action: .cancel, from: .requested, to: .cancelled),
        AuthorizationTransition(action: .revoke, from: .approved, to: .revoked),
    ]

    /// The one transition a decision (approve, reject, cancel, revoke) makes;
    /// nil for `.request`, which creates a row instead. Each decision applies
    /// from exactly one state, so a store can write it as a guarded update
    /// (`WHERE status = from`) and explain a refusal afterwards with
    /// ``applying(_:to:)``.
    public static func decision(_ action: InboxAction) -> AuthorizationTransition? {
        guard action != .request else { return nil }
        return all.first { $0.action == action }
    }

    /// The transition `action` makes from `current`.
    ///
    /// - Throws: `FAILED_PRECONDITION` naming the current state when the
    ///   action is not legal there, e.g. `cannot approve: request is REJECTED (terminal)`.
    public static func applying(
        _ action: InboxAction,
        to current: AuthorizationStatus
    ) throws(InboxError) -> AuthorizationTransition {
        if let legal = all.first(where: { $0.action == action && $0.from == current }) {
            return legal
        }
        let detail: String
        if current.isTerminal {
            detail = "request is \(current) (terminal); a new request is a new row"
        } else if action == .request {
            detail = "request is \(current); a pair holds one open request at a time"
        } else {
            let legalFrom = all.filter { $0.action == action }.compactMap(\.from).map(\.rawValue)
            detail = "request is \(current); \(action) applies only to \(legalFrom.joined(separator: " or "))"
        }
        throw .failedPrecondition("cannot \(action): \(detail)")
    }

    public var description: String {
        "\(from?.rawValue ?? "(new)") --\(action)--> \(to)"
    }
}
