/// How many requests one listing page returns.
///
/// 0 (the proto default) means ``defaultSize``; values above ``maximum`` are
/// lowered to it (as Google's AIP-158 recommends, so clients written against
/// a larger maximum keep working); negative values are refused.
public struct PageSize: Sendable, Hashable {
    /// The size used when the caller leaves `page_size` at 0.
    public static let defaultSize = 50
    /// The largest page served.
    public static let maximum = 200

    /// The effective page size, 1...``maximum``.
    public let value: Int

    /// The effective size for a requested `page_size`.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `page_size` when negative.
    public init(requested: Int32) throws(InboxError) {
        guard requested >= 0 else {
            throw .invalidArgument(field: "page_size", "must not be negative, got \(requested)")
        }
        self.value = requested == 0 ? Self.defaultSize : min(Int(requested), Self.maximum)
    }
}
