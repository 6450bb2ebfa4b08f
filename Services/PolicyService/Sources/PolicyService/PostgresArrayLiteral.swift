import Storage

/// Builds PostgreSQL array literals (`{"a","b",NULL}`) so that a whole batch
/// travels as one parameter (`= ANY($1::text[])`, `unnest($1::int8[])`): one
/// statement per batch instead of one per item, whatever the batch size.
///
/// Every text element is double-quoted with `\` and `"` escaped, so opaque ids
/// containing commas, braces, quotes or spaces survive intact; nil is `NULL`.
enum PostgresArrayLiteral {
    /// A `text[]` literal.
    static func text(_ values: some Sequence<String?>) -> PostgresValue {
        var literal = "{"
        var first = true
        for value in values {
            if !first { literal.append(",") }
            first = false
            guard let value else {
                literal.append("NULL")
                continue
            }
            literal.append("\"")
            for character in value.unicodeScalars {
                if character == "\\" || character == "\"" { literal.unicodeScalars.append("\\") }
                literal.unicodeScalars.append(character)
            }
            literal.append("\"")
        }
        literal.append("}")
        return .text(literal)
    }

    /// A `text[]` literal of non-optional values.
    static func text(_ values: some Sequence<String>) -> PostgresValue {
        text(values.lazy.map { Optional($0) })
    }

    /// An `int8[]` literal.
    static func int64(_ values: some Sequence<Int64?>) -> PostgresValue {
        var literal = "{"
        var first = true
        for value in values {
            if !first { literal.append(",") }
            first = false
            literal.append(value.map(String.init) ?? "NULL")
        }
        literal.append("}")
        return .text(literal)
    }
}
