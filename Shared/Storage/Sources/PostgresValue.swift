/// A statement parameter. Pass `nil` (as `PostgresValue?`) for SQL NULL.
///
/// Every parameter travels in PostgreSQL's text format and the server infers its type from
/// the statement, so `.int64(5)` works for an `int4` column and `.text` for `text`, `uuid`,
/// `numeric` or an enum. Add a cast (`$1::int8`) where the statement leaves a type open.
public enum PostgresValue: Sendable, Hashable {
    /// Text (any type whose input syntax the caller writes, e.g. `numeric` or `uuid`).
    case text(String)
    /// A 64-bit integer (`int8`, also accepted by `int2`/`int4` columns when in range).
    case int64(Int64)
    /// A 32-bit integer.
    case int32(Int32)
    /// A boolean.
    case bool(Bool)
    /// A `timestamptz` instant as microseconds since the Unix epoch (UTC).
    case timestamp(unixMicros: Int64)
    /// Raw bytes for a `bytea` parameter.
    case bytes([UInt8])

    /// The text-format representation sent to the server.
    var textRepresentation: String {
        switch self {
        case .text(let value): return value
        case .int64(let value): return String(value)
        case .int32(let value): return String(value)
        case .bool(let value): return value ? "t" : "f"
        case .timestamp(let micros): return PostgresTimestamp(unixMicros: micros).isoText
        case .bytes(let bytes):
            // bytea hex input format: `\x` followed by two hex digits per byte.
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
            text.reserveCapacity(2 + bytes.count * 2)
            for byte in bytes {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension PostgresValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int64(value) }
}

extension PostgresValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// An instant read from or written to a `timestamptz` column, in microseconds since the
/// Unix epoch (UTC) — PostgreSQL's own resolution, so nothing is lost on a round trip.
public struct PostgresTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var unixMicros: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    public init(unixMicros: Int64) { self.unixMicros = unixMicros }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.unixMicros < rhs.unixMicros }

    public var description: String { isoText }

    private static let microsPerDay: Int64 = 86_400_000_000

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, PostgreSQL's ISO input syntax in UTC.
    var isoText: String {
        let days = CivilCalendar.floorDivide(unixMicros, Self.microsPerDay)
        let microsOfDay = unixMicros - days * Self.microsPerDay
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        // Years before 1 AD would need PostgreSQL's `BC` suffix; they never occur in this domain.
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) "
            + "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
            + ".\(pad(fraction, 6))+00"
    }

    /// Parses PostgreSQL's ISO output (`DateStyle = ISO`), e.g. `2026-11-23 12:34:56.5+00`,
    /// `2026-11-23 14:04:56+01:30` or, for `timestamp` without zone, no offset (read as UTC).
    init?(isoText text: String) {
        var bytes = Array(text.utf8)[...]
        func number(_ count: Int) -> Int64? {
            guard bytes.count >= count else { return nil }
            var value: Int64 = 0
            for byte in bytes.prefix(count) {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            bytes = bytes.dropFirst(count)
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard let ascii = character.asciiValue, bytes.first == ascii else { return false }
            bytes = bytes.dropFirst()
            return true
        }
        // Years have at least four digits; longer ones (> 9999) run until the dash.
        let yearDigits = bytes.prefix(while: { $0 != UInt8(ascii: "-") }).count
        guard yearDigits >= 4, let year = number(yearDigits), expect("-"),
              let month = number(2), expect("-"), let day = number(2),
              expect(" ") || expect("T"),
              let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var micros: Int64 = 0
        if expect(".") {
            let digits = bytes.prefix(while: { $0 >= 0x30 && $0 <= 0x39 }).count
            guard digits > 0, digits <= 6, let fraction = number(digits) else { return nil }
            micros = fraction * Self.powerOfTen(6 - digits)
        }
        var offsetSeconds: Int64 = 0
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
            guard let hours = number(2) else { return nil }
            var total = hours * 3600
            if expect(":") {
                guard let minutes = number(2) else { return nil }
                total += minutes * 60
                if expect(":") {
                    guard let seconds = number(2) else { return nil }
                    total += seconds
                }
            }
            offsetSeconds = sign == UInt8(ascii: "-") ? -total : total
        }
        guard bytes.isEmpty else { return nil }
        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let localSeconds = days * 86_400 + hour * 3600 + minute * 60 + second
        self.unixMicros = (localSeconds - offsetSeconds) * 1_000_000 + micros
    }

    private static func powerOfTen(_ exponent: Int) -> Int64 {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }
}
