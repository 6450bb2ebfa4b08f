/// Builds PostgreSQL array literals (`{"a","b",NULL}`) so that a whole batch
/// travels as one parameter (`= ANY($1::text[])`, `unnest($1::int8[])`): one
/// statement per batch instead of one per item, whatever the batch size.
///
/// Every text element is double-quoted with `\` and `"` escaped, so opaque ids
/// containing commas, braces, quotes or spaces survive intact; nil is `NULL`.
///
/// The builders are `@inlinable` so that each caller's sequence type is
/// specialized: a 10,000-id policy batch builds its literal on every call.
public enum PostgresArrayLiteral {
    /// A `text[]` literal.
    ///
    /// Built as UTF-8 bytes: a 10,000-id batch makes a literal of ~200 KB on
    /// every call, and appending to a `String` scalar by scalar costs several
    /// times more than the query that reads it.
    @inlinable
    public static func text(_ values: some Sequence<String?>) -> PostgresValue {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.underestimatedCount * 24 + 2)
        var first = true
        for value in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            guard var value else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(quote)
            value.withUTF8 { utf8 in
                for byte in utf8 {
                    if byte == backslash || byte == quote { bytes.append(backslash) }
                    bytes.append(byte)
                }
            }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// A `text[]` literal of non-optional values.
    @inlinable
    public static func text(_ values: some Sequence<String>) -> PostgresValue {
        text(values.lazy.map { Optional($0) })
    }

    /// An `int8[]` literal.
    @inlinable
    public static func int64(_ values: some Sequence<Int64?>) -> PostgresValue {
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
