/// The reason a supplier or operator gives for a decision.
///
/// Required (non-blank) for reject and revoke, because the seller sees it and
/// the audit keeps it; optional for approve; never accepted for request or
/// cancel (those carry a note or nothing).
public struct DecisionReason: Sendable, Hashable, CustomStringConvertible {
    /// The longest reason accepted, in characters, after trimming.
    public static let maximumLength = 500

    /// The trimmed text; empty only for an approve without a reason.
    public let text: String

    /// Validates `raw` as the reason for `action`.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `reason`: blank for reject or
    ///   revoke, longer than ``maximumLength``, control characters, or a
    ///   reason given for request or cancel.
    public init(validating raw: String, for action: InboxAction) throws(InboxError) {
        let text = try FreeText.validate(raw, field: "reason", maximumLength: Self.maximumLength)
        switch action {
        case .reject, .revoke:
            guard !text.isEmpty else {
                throw .invalidArgument(field: "reason", "required to \(action)")
            }
        case .approve:
            break
        case .request, .cancel:
            guard text.isEmpty else {
                throw .invalidArgument(field: "reason", "not accepted for \(action)")
            }
        }
        self.text = text
    }

    public var description: String { text }
}
