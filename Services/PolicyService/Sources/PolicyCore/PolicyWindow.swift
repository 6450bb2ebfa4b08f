/// A policy's validity window: half-open `[start, end)` in unix microseconds
/// (UTC). A nil end is open: no start means "since always", no end "forever".
///
/// Half-open windows tile without gaps or double coverage: a policy valid
/// until midnight and its successor valid from midnight never both apply.
public struct PolicyWindow: Hashable, Sendable, CustomStringConvertible {
    /// The first instant the policy applies (inclusive), or nil.
    public let start: Int64?
    /// The first instant the policy no longer applies (exclusive), or nil.
    public let end: Int64?

    /// The window without ends.
    public static let unbounded = PolicyWindow(uncheckedStart: nil, end: nil)

    /// Creates a window.
    /// - Throws: ``PolicyError/Code/invalidWindow`` naming `valid_until_unix_micros`
    ///   when the end is at or before the start (an empty window is always a mistake).
    public init(start: Int64?, end: Int64?) throws(PolicyError) {
        if let start, let end, end <= start {
            throw PolicyError(.invalidWindow, field: "valid_until_unix_micros",
                              "must be after valid_from_unix_micros (\(start)), got \(end)")
        }
        self.init(uncheckedStart: start, end: end)
    }

    private init(uncheckedStart start: Int64?, end: Int64?) {
        self.start = start
        self.end = end
    }

    /// True when `start <= instant < end`.
    @inline(__always)
    public func contains(_ instant: Int64) -> Bool {
        if let start, instant < start { return false }
        if let end, instant >= end { return false }
        return true
    }

    /// True when some instant lies in both windows. Windows that only touch
    /// (one ends where the other starts) do not overlap. The writer refuses
    /// two links of one scope, or two active DEFAULT policies, that overlap.
    public func overlaps(_ other: PolicyWindow) -> Bool {
        // [a, b) and [c, d) overlap iff a < d and c < b; a nil bound is infinite.
        let thisStartsBeforeOtherEnds = start.flatMap { s in other.end.map { s < $0 } } ?? true
        let otherStartsBeforeThisEnds = other.start.flatMap { s in end.map { s < $0 } } ?? true
        return thisStartsBeforeOtherEnds && otherStartsBeforeThisEnds
    }

    /// `[start, end)` with `-inf`/`+inf` for open ends.
    public var description: String {
        "[\(start.map(String.init) ?? "-inf"), \(end.map(String.init) ?? "+inf"))"
    }
}
