/// Shared checks for the free-text fields people type (reasons, notes).
enum FreeText {
    /// Trims surrounding whitespace and checks the length and characters.
    /// Line breaks and tabs are allowed (reasons are often several lines);
    /// other control characters are refused because they corrupt logs and UIs.
    static func validate(_ raw: String, field: String, maximumLength: Int) throws(InboxError) -> String {
        let text: String
        if let first = raw.firstIndex(where: { !$0.isWhitespace }),
            let last = raw.lastIndex(where: { !$0.isWhitespace })
        {
            text = String(raw[first...last])
        } else {
            text = ""
        }
        guard text.count <= maximumLength else {
            throw .invalidArgument(field: field, "longer than \(maximumLength) characters")
        }
        let forbidden = text.unicodeScalars.contains { scalar in
            scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\t"
        }
        guard !forbidden else {
            throw .invalidArgument(field: field, "contains control characters")
        }
        return text
    }
}
