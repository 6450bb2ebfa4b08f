/// A request's position in every listing: pending first, then oldest first,
/// the id breaking ties. PostgreSQL orders by
/// `(status_rank, created_at, id)` and the listing indexes hold those
/// columns in that order, so keyset pagination is one index range scan.
public struct InboxSortKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// ``AuthorizationStatus/inboxRank``: 0 for REQUESTED, 1 otherwise.
    public let statusRank: Int
    /// When the request was created (unix microseconds, PostgreSQL's precision).
    public let createdAtUnixMicros: Int64
    /// The request id.
    public let requestID: RequestID

    /// The key of a row with these values.
    public init(statusRank: Int, createdAtUnixMicros: Int64, requestID: RequestID) {
        self.statusRank = statusRank
        self.createdAtUnixMicros = createdAtUnixMicros
        self.requestID = requestID
    }

    /// The key of a request in `status`.
    public init(status: AuthorizationStatus, createdAtUnixMicros: Int64, requestID: RequestID) {
        self.init(statusRank: status.inboxRank, createdAtUnixMicros: createdAtUnixMicros, requestID: requestID)
    }

    public static func < (lhs: InboxSortKey, rhs: InboxSortKey) -> Bool {
        if lhs.statusRank != rhs.statusRank { return lhs.statusRank < rhs.statusRank }
        if lhs.createdAtUnixMicros != rhs.createdAtUnixMicros {
            return lhs.createdAtUnixMicros < rhs.createdAtUnixMicros
        }
        return lhs.requestID < rhs.requestID
    }

    public var description: String { "(\(statusRank), \(createdAtUnixMicros), \(requestID))" }
}
