/// The seller's optional note to the supplier on a new request.
public struct RequestNote: Sendable, Hashable, CustomStringConvertible {
    /// The longest note accepted, in characters, after trimming.
    public static let maximumLength = 1_000

    /// The trimmed text; may be empty.
    public let text: String

    /// Validates `raw`.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `note` when too long or holding
    ///   control characters other than line breaks and tabs.
    public init(validating raw: String) throws(InboxError) {
        self.text = try FreeText.validate(raw, field: "note", maximumLength: Self.maximumLength)
    }

    public var description: String { text }
}
