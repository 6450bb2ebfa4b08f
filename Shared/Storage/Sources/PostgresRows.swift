public import Foundation

/// The rows a statement returned, copied out of libpq's result so they outlive it.
///
/// Values are kept in PostgreSQL's text format (we request text results) and parsed by the
/// typed getters on `PostgresRow`; that keeps every column type readable as a `String` and
/// makes results independent of the server's binary layouts. The copy costs one small
/// allocation per non-NULL cell, negligible next to a network round trip.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names in result order.
    public let columns: [String]
    /// Rows affected by INSERT/UPDATE/DELETE/MERGE/SELECT (PostgreSQL's command tag count); 0 if none.
    public let affectedRows: Int
    /// Row-major cell texts; `nil` is SQL NULL.
    let cells: [String?]
    let rowCount: Int

    init(columns: [String], cells: [String?], rowCount: Int, affectedRows: Int) {
        self.columns = columns
        self.cells = cells
        self.rowCount = rowCount
        self.affectedRows = affectedRows
    }

    /// A result with no rows and no columns (for statements that return nothing).
    static let empty = PostgresRows(columns: [], cells: [], rowCount: 0, affectedRows: 0)

    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }

    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row \(position) out of range 0..<\(count)")
        return PostgresRow(rows: self, index: position)
    }

    /// The position of a column by name (first match), or `nil`.
    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex(of: name)
    }
}

/// One row of `PostgresRows`. Read cells by column position or name with typed getters:
/// `row.decode(Int64.self, "id")`, `row.decodeIfPresent(String.self, "note")`, or the
/// shorthands `row.string("name")`, `row.int64(0)`.
///
/// Getters throw a `PostgresError` of kind `.decoding` that names the column when the value
/// is NULL (for non-optional getters) or not valid text for the type, and `.invalidUsage`
/// for a column that does not exist.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// The column names of this row.
    public var columns: [String] { rows.columns }

    /// The raw text of a cell, `nil` for NULL.
    public func text(_ column: Int) throws(PostgresError) -> String? {
        try checkedColumn(column)
        return rows.cells[index * rows.columns.count + column]
    }

    /// The raw text of a cell by column name, `nil` for NULL.
    public func text(_ column: String) throws(PostgresError) -> String? {
        try text(try position(of: column))
    }

    /// Whether the cell is SQL NULL.
    public func isNull(_ column: Int) throws(PostgresError) -> Bool { try text(column) == nil }

    /// Whether the cell is SQL NULL.
    public func isNull(_ column: String) throws(PostgresError) -> Bool { try text(column) == nil }

    /// Reads a non-NULL cell as `type`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws(PostgresError) -> T {
        guard let value = try decodeIfPresent(type, column) else {
            throw PostgresError(kind: .decoding, message: "column \(name(of: column)) is NULL, expected \(T.self)")
        }
        return value
    }

    /// Reads a non-NULL cell as `type`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws(PostgresError) -> T {
        try decode(type, try position(of: column))
    }

    /// Reads a cell as `type`, `nil` for NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws(PostgresError) -> T? {
        guard let text = try text(column) else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(
                kind: .decoding,
                message: "column \(name(of: column)) holds \"\(text.prefix(64))\", which is not a valid \(T.self)"
            )
        }
        return value
    }

    /// Reads a cell as `type`, `nil` for NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws(PostgresError) -> T? {
        try decodeIfPresent(type, try position(of: column))
    }

    /// Shorthand for `decode(String.self, column)`.
    public func string(_ column: String) throws(PostgresError) -> String { try decode(String.self, column) }
    /// Shorthand for `decode(String.self, column)`.
    public func string(_ column: Int) throws(PostgresError) -> String { try decode(String.self, column) }
    /// Shorthand for `decode(Int64.self, column)`.
    public func int64(_ column: String) throws(PostgresError) -> Int64 { try decode(Int64.self, column) }
    /// Shorthand for `decode(Int64.self, column)`.
    public func int64(_ column: Int) throws(PostgresError) -> Int64 { try decode(Int64.self, column) }
    /// Shorthand for `decode(Int32.self, column)`.
    public func int32(_ column: String) throws(PostgresError) -> Int32 { try decode(Int32.self, column) }
    /// Shorthand for `decode(Int32.self, column)`.
    public func int32(_ column: Int) throws(PostgresError) -> Int32 { try decode(Int32.self, column) }
    /// Shorthand for `decode(Bool.self, column)`.
    public func bool(_ column: String) throws(PostgresError) -> Bool { try decode(Bool.self, column) }
    /// Shorthand for `decode(Bool.self, column)`.
    public func bool(_ column: Int) throws(PostgresError) -> Bool { try decode(Bool.self, column) }
    /// A `timestamptz` cell as microseconds since the Unix epoch.
    public func unixMicros(_ column: String) throws(PostgresError) -> Int64 {
        try decode(PostgresTimestamp.self, column).unixMicros
    }
    /// A `timestamptz` cell as microseconds since the Unix epoch.
    public func unixMicros(_ column: Int) throws(PostgresError) -> Int64 {
        try decode(PostgresTimestamp.self, column).unixMicros
    }

    private func checkedColumn(_ column: Int) throws(PostgresError) {
        guard rows.columns.indices.contains(column) else {
            throw PostgresError(
                kind: .invalidUsage,
                message: "column index \(column) out of range; the result has \(rows.columns.count) columns"
            )
        }
    }

    private func position(of column: String) throws(PostgresError) -> Int {
        guard let position = rows.columnIndex(named: column) else {
            throw PostgresError(
                kind: .invalidUsage,
                message: "no column named \"\(column)\"; the result has \(rows.columns)"
            )
        }
        return position
    }

    private func name(of column: Int) -> String {
        rows.columns.indices.contains(column) ? "\"\(rows.columns[column])\" (#\(column))" : "#\(column)"
    }
}

/// A Swift type readable from PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Parses the text PostgreSQL sends for a non-NULL value; `nil` when it is not valid.
    init?(postgresText: String)
}

extension String: PostgresDecodable {
    public init?(postgresText: String) { self = postgresText }
}

extension Int64: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t": self = true
        case "f": self = false
        default: return nil
        }
    }
}

extension PostgresTimestamp: PostgresDecodable {
    public init?(postgresText: String) { self.init(isoText: postgresText) }
}

extension Date: PostgresDecodable {
    /// Reads a `timestamptz`; prefer `PostgresTimestamp` where microseconds must survive exactly.
    public init?(postgresText: String) {
        guard let timestamp = PostgresTimestamp(isoText: postgresText) else { return nil }
        self.init(timeIntervalSince1970: Double(timestamp.unixMicros) / 1_000_000)
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Reads a `bytea` in hex output format (`\x0a1b…`, the default since PostgreSQL 9.0).
    public init?(postgresText: String) {
        let text = Array<UInt8>(postgresText.utf8)
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"),
              text.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var i = 2
        while i < text.count {
            guard let high = nibble(text[i]), let low = nibble(text[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        self = bytes
    }
}
