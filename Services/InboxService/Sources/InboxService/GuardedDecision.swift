import InboxCore
import Storage

/// The parameters of one guarded decision (`inbox_transition`): what the
/// store binds alone, or as element k of `inbox_transition_batch`'s arrays.
struct GuardedDecision: Sendable, Hashable {
    var id: String
    var from: AuthorizationStatus
    var to: AuthorizationStatus
    var actorRole: String
    var actorId: String
    var caller: String
    /// '' when none.
    var reason: String
    /// The decision scope (`ActorRule.decisionScope`): nil admits any.
    var scopeSeller: String?
    var scopeSupplier: String?
    /// False when the scope admits nobody.
    var admitted: Bool
    /// `SELLER_PRODUCT_LIMIT` for an approval (the unlocked guard); nil otherwise.
    var holdingLimit: Int64?

    init(_ command: TransitionCommand, from: AuthorizationStatus, to: AuthorizationStatus, rules: InboxRules) {
        id = command.id.description
        self.from = from
        self.to = to
        actorRole = command.actor.role.rawValue
        actorId = command.actor.id
        caller = command.actor.caller.rawValue
        reason = command.reason?.text ?? ""
        switch ActorRule.decisionScope(command.action, by: command.actor) {
        case .nobody: (scopeSeller, scopeSupplier, admitted) = (nil, nil, false)
        case .seller(let seller): (scopeSeller, scopeSupplier, admitted) = (seller, nil, true)
        case .supplier(let supplier): (scopeSeller, scopeSupplier, admitted) = (nil, supplier, true)
        case .anyRequest: (scopeSeller, scopeSupplier, admitted) = (nil, nil, true)
        }
        holdingLimit = command.action == .approve ? Int64(rules.limit.limit) : nil
    }

    /// `inbox_transition`'s $1 … $10, plus $11 (the limit) for an approval.
    var singleParameters: [PostgresValue?] {
        var parameters: [PostgresValue?] = [
            .text(id), .text(from.rawValue), .text(to.rawValue), .text(actorRole), .text(actorId), .text(caller),
            .text(reason), scopeSeller.map { .text($0) }, scopeSupplier.map { .text($0) }, .bool(admitted),
        ]
        if let holdingLimit { parameters.append(.int64(holdingLimit)) }
        return parameters
    }

    /// `inbox_transition_batch`'s twelve arrays; item numbers are positions in `items`.
    static func batchParameters(_ items: [GuardedDecision]) -> [PostgresValue?] {
        func texts(_ value: (GuardedDecision) -> String?) -> PostgresValue {
            PostgresArrayLiteral.text(items.map(value))
        }
        return [
            PostgresArrayLiteral.text(items.indices.map { String($0) }),
            texts(\.id), texts(\.from.rawValue), texts(\.to.rawValue), texts(\.actorRole), texts(\.actorId),
            texts(\.caller), texts(\.reason), texts(\.scopeSeller), texts(\.scopeSupplier),
            texts { $0.admitted ? "t" : "f" }, texts { $0.holdingLimit.map(String.init) },
        ]
    }
}
