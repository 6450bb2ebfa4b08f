/// Validation of the catalog's opaque ids (sellers, suppliers, products),
/// with the same bounds as the catalog schema (`id <> '' AND length(id) <= 128`),
/// so a malformed id is refused before it reaches PostgreSQL.
public enum CatalogID {
    /// The longest id the catalog accepts, in characters.
    public static let maximumLength = 128

    /// Returns `raw` when it is a usable id.
    ///
    /// - Parameter field: the wire field name used in the error, e.g. `seller_id`.
    /// - Throws: `INVALID_ARGUMENT` naming `field` when `raw` is empty, longer
    ///   than ``maximumLength`` or contains control characters or surrounding spaces.
    @discardableResult
    public static func validate(_ raw: String, field: String) throws(InboxError) -> String {
        guard !raw.isEmpty else {
            throw .invalidArgument(field: field, "must not be empty")
        }
        guard raw.count <= maximumLength else {
            throw .invalidArgument(field: field, "longer than \(maximumLength) characters")
        }
        if raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidArgument(field: field, "contains control characters")
        }
        if raw.first?.isWhitespace == true || raw.last?.isWhitespace == true {
            throw .invalidArgument(field: field, "has leading or trailing whitespace")
        }
        return raw
    }
}
