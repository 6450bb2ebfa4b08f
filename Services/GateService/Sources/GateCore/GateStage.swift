/// Where in an order's life a check happens.
///
/// CART and ORDER judge the authorization now. SETTLEMENT may pass the order
/// time and is then judged at that instant (see ``GateDecision``).
public enum GateStage: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// An item is put in or shown in a cart.
    case cart
    /// The order is placed.
    case order
    /// The settlement batch pays the order's commission.
    case settlement

    /// The metric label value: `cart`, `order`, `settlement`.
    public var description: String { rawValue }
}
