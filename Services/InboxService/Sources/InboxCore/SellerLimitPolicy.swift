/// `SELLER_PRODUCT_LIMIT`: how many products one seller may hold.
///
/// **Pending requests count.** A seller holds a product from the moment it
/// asks (REQUESTED) until the request ends (REJECTED, CANCELLED, REVOKED), so
/// the limit is enforced when the seller asks: approved + pending must stay
/// at or below the limit. This keeps every supplier's inbox free of requests
/// that could never be approved, and an approval can never overshoot.
///
/// **Approval re-checks.** The limit is a runtime flag and can be lowered
/// while requests wait, so approval checks again: the seller's *other*
/// approved authorizations must be fewer than the limit. Pending requests do
/// not block an approval (the request being approved is itself one of them).
///
/// Requests run inside the transaction that holds the seller's lock row
/// (`inbox.seller_locks`), on counts read under that lock, so concurrent
/// requests of one seller serialize and no count-then-insert race exists.
///
/// **Approvals without the lock.** An approval turns a pending request into
/// an approved one: it never changes approved + pending. Only a request
/// raises that sum, and only while it stays within the limit (under the
/// lock). So when the seller's approved + pending, read in any snapshot,
/// is within the limit, it stays within it, and the approval cannot
/// overshoot whatever else commits meanwhile: it needs no lock
/// (``approvalIsSafeWithoutLock(holding:)``). Only when the limit was lowered
/// below what the seller holds does an approval take the lock and re-check
/// the approved count (``decideApproval(approvedOthers:)``). While instances
/// disagree on the limit (the 2 s a flag change takes to reach every
/// instance), a seller holds at most the highest limit in force, as with a
/// lock on every approval.
public struct SellerLimitPolicy: Sendable, Hashable {
    /// The seed's default (`SELLER_PRODUCT_LIMIT=10`).
    public static let defaultLimit = 10
    /// The largest limit accepted from configuration.
    public static let maximumLimit = 10_000

    /// The outcome of a limit check.
    public enum Decision: Sendable, Hashable {
        /// Within the limit.
        case allowed
        /// Refused: the seller already holds `holding` of `limit`.
        case refused(limit: Int, holding: Int)
    }

    /// At most this many products per seller. 0 freezes new requests and approvals.
    public let limit: Int

    /// A policy with the given limit.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `SELLER_PRODUCT_LIMIT` outside 0...``maximumLimit``.
    public init(limit: Int = SellerLimitPolicy.defaultLimit) throws(InboxError) {
        guard (0...Self.maximumLimit).contains(limit) else {
            throw .invalidArgument(field: "SELLER_PRODUCT_LIMIT", "must be 0 to \(Self.maximumLimit), got \(limit)")
        }
        self.limit = limit
    }

    /// May a seller holding `approved` authorizations and `pending` requests ask for one more?
    public func decideRequest(approved: Int, pending: Int) -> Decision {
        let holding = max(0, approved) + max(0, pending)
        return holding < limit ? .allowed : .refused(limit: limit, holding: holding)
    }

    /// May a request be approved for a seller already holding `approvedOthers`
    /// approved authorizations (not counting the request being approved)?
    public func decideApproval(approvedOthers: Int) -> Decision {
        let holding = max(0, approvedOthers)
        return holding < limit ? .allowed : .refused(limit: limit, holding: holding)
    }

    /// Whether an approval may skip the seller lock: the seller's approved +
    /// pending requests (`holding`, the request being approved included),
    /// read in any snapshot, are within the limit, so no interleaving of
    /// approvals can take the approved count past it (see the type's notes).
    public func approvalIsSafeWithoutLock(holding: Int) -> Bool {
        holding <= limit
    }

    /// ``decideRequest(approved:pending:)`` as a throwing check.
    ///
    /// - Throws: `RESOURCE_EXHAUSTED` naming the limit, e.g.
    ///   `SELLER_PRODUCT_LIMIT: seller s-1 holds 10 of 10 products (7 approved, 3 pending)`.
    public func checkRequest(sellerId: String, approved: Int, pending: Int) throws(InboxError) {
        if case .refused(let limit, let holding) = decideRequest(approved: approved, pending: pending) {
            throw InboxError(
                code: .resourceExhausted,
                message: "SELLER_PRODUCT_LIMIT: seller \(sellerId) holds \(holding) of \(limit) products "
                    + "(\(approved) approved, \(pending) pending); pending requests count toward the limit"
            )
        }
    }

    /// ``decideApproval(approvedOthers:)`` as a throwing check.
    ///
    /// - Throws: `RESOURCE_EXHAUSTED` naming the limit.
    public func checkApproval(sellerId: String, approvedOthers: Int) throws(InboxError) {
        if case .refused(let limit, let holding) = decideApproval(approvedOthers: approvedOthers) {
            throw InboxError(
                code: .resourceExhausted,
                message: "SELLER_PRODUCT_LIMIT: seller \(sellerId) already holds \(holding) approved products "
                    + "of \(limit)"
            )
        }
    }
}
