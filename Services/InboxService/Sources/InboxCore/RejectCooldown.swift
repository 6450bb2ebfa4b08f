/// `SELLER_REJECT_COOLDOWN_DAYS`: after a rejection, the seller may not ask
/// for the same product again until the cooldown has passed.
///
/// Boundary: blocked while `now < rejected_at + days × 86,400 s`; allowed
/// from `rejected_at + days × 86,400 s` on (exactly 30 days later is allowed).
/// Days are fixed 86,400-second UTC days, not calendar days, so the rule
/// does not depend on a time zone. Times are unix microseconds; the store
/// passes PostgreSQL's `now()` and the pair's latest `decided_at` of a
/// REJECTED row, read inside the seller-locked transaction.
public struct RejectCooldown: Sendable, Hashable {
    /// The seed's default (`SELLER_REJECT_COOLDOWN_DAYS=30`).
    public static let defaultDays = 30
    /// The longest cooldown accepted from configuration (ten years).
    public static let maximumDays = 3_650
    /// Microseconds in one cooldown day.
    public static let microsPerDay: Int64 = 86_400 * 1_000_000

    /// The outcome of a cooldown check.
    public enum Decision: Sendable, Hashable {
        /// No rejection in force.
        case allowed
        /// Blocked until this instant (unix microseconds): the first allowed moment.
        case blocked(untilUnixMicros: Int64)
    }

    /// The cooldown length in days; 0 disables it.
    public let days: Int

    /// A cooldown of `days`.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `SELLER_REJECT_COOLDOWN_DAYS` outside 0...``maximumDays``.
    public init(days: Int = RejectCooldown.defaultDays) throws(InboxError) {
        guard (0...Self.maximumDays).contains(days) else {
            throw .invalidArgument(
                field: "SELLER_REJECT_COOLDOWN_DAYS",
                "must be 0 to \(Self.maximumDays), got \(days)"
            )
        }
        self.days = days
    }

    /// The cooldown length in microseconds.
    public var durationMicros: Int64 { Int64(days) * Self.microsPerDay }

    /// The first instant a new request is accepted after a rejection at `rejectedAtUnixMicros`.
    public func endOfCooldown(rejectedAtUnixMicros: Int64) -> Int64 {
        let (sum, overflow) = rejectedAtUnixMicros.addingReportingOverflow(durationMicros)
        return overflow ? .max : sum
    }

    /// May the seller ask again, given its latest rejection for the pair (`nil` when never rejected)?
    public func decide(lastRejectedAtUnixMicros: Int64?, nowUnixMicros: Int64) -> Decision {
        guard let rejectedAt = lastRejectedAtUnixMicros else { return .allowed }
        let until = endOfCooldown(rejectedAtUnixMicros: rejectedAt)
        return nowUnixMicros < until ? .blocked(untilUnixMicros: until) : .allowed
    }

    /// ``decide(lastRejectedAtUnixMicros:nowUnixMicros:)`` as a throwing check.
    ///
    /// - Throws: `FAILED_PRECONDITION` with ``InboxError/retryAfterUnixMicros``
    ///   set and the message ending in `retry_after_unix_micros=<n>`.
    public func check(
        sellerId: String,
        productId: String,
        lastRejectedAtUnixMicros: Int64?,
        nowUnixMicros: Int64
    ) throws(InboxError) {
        guard
            case .blocked(let until) = decide(
                lastRejectedAtUnixMicros: lastRejectedAtUnixMicros,
                nowUnixMicros: nowUnixMicros
            )
        else { return }
        throw InboxError(
            code: .failedPrecondition,
            message: "SELLER_REJECT_COOLDOWN_DAYS: seller \(sellerId) was rejected for product \(productId); "
                + "may request again from \(UTCFormat.iso8601(unixMicros: until)) "
                + "(\(days)-day cooldown) retry_after_unix_micros=\(until)",
            retryAfterUnixMicros: until
        )
    }
}
