/// Why the gate answered as it did (mirrors `gate.v1.Reason`).
public enum GateReason: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Allowed: an APPROVED authorization holds at the judged instant.
    case approved = "APPROVED"
    /// Denied: the seller never requested the product.
    case notRequested = "NOT_REQUESTED"
    /// Denied: a request waits for the supplier's decision.
    case pending = "PENDING"
    /// Denied: the supplier rejected the latest request.
    case rejected = "REJECTED"
    /// Denied: the approval was revoked at or before the judged instant.
    case revoked = "REVOKED"
    /// Denied: the seller withdrew the latest request.
    case cancelled = "CANCELLED"
    /// Allowed without a lookup: the rollout does not cover the product.
    case outsideRollout = "OUTSIDE_ROLLOUT"
    /// Allowed: SHADOW mode saw that enforcement would deny.
    case shadowWouldDeny = "SHADOW_WOULD_DENY"
    /// Allowed without a lookup: the kill switch is off.
    case featureOff = "FEATURE_OFF"
    /// Denied (fail closed): no tier could say.
    case unavailable = "UNAVAILABLE"
    /// Denied, settlement with an order time: the current authorization began
    /// after the order was placed.
    case notAuthorizedAtOrderTime = "NOT_AUTHORIZED_AT_ORDER_TIME"
    /// Allowed, settlement with an order time: approved when the order was
    /// placed, revoked since.
    case approvedAtOrderTime = "APPROVED_AT_ORDER_TIME"

    /// The wire spelling without the `REASON_` prefix, used in logs.
    public var description: String { rawValue }
}
