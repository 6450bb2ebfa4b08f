import Glibc
import Storage

/// Conversions between the wire's `int64 ..._unix_micros` (UTC) and the ISO 8601
/// text people type and read.
///
/// Hand-written rather than `ISO8601DateFormatter`: `Date` is a `Double` of
/// seconds and loses the last microsecond digits of present-day instants, while
/// settlement compares order times to the microsecond.
enum Timestamp {
    /// Parses an instant for a command-line option.
    ///
    /// Accepted spellings:
    /// - `2025-03-01T09:30:00Z`, `2025-03-01T09:30:00.123456Z`, `2025-03-01 09:30Z`
    ///   (1 to 9 fraction digits; beyond microseconds is truncated),
    /// - an offset instead of `Z`: `2025-03-01T18:30:00+09:00` (`+0900`, `+09` too),
    /// - a date alone, meaning midnight UTC: `2025-03-01`,
    /// - raw unix microseconds: `1740821400000000`,
    /// - `now`.
    ///
    /// - Throws: `CLIError` naming `field` and the accepted forms.
    static func parseMicros(_ text: String, field: String, now: () -> Int64 = currentMicros) throws(CLIError) -> Int64 {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "now" { return now() }
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit), let micros = Int64(trimmed) {
            return micros
        }
        guard let micros = parseISO8601(Array(trimmed.utf8)) else {
            throw CLIError(
                field: field,
                "expected an ISO 8601 instant such as 2025-03-01T09:30:00Z (or with an offset, a date, unix micros, now), got \"\(text)\""
            )
        }
        return micros
    }

    /// `2025-03-01T09:30:00.123456Z`: always UTC, always six fraction digits,
    /// so the text sorts like the instant and round-trips through `parseMicros`.
    static func iso8601(micros: Int64) -> String {
        let days = CivilCalendar.floorDivide(micros, 86_400_000_000)
        let microsOfDay = micros - days * 86_400_000_000
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(fraction, 6))Z"
    }

    /// The current instant in unix microseconds (wall clock).
    static func currentMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }

    // MARK: Parsing

    private static func parseISO8601(_ bytes: [UInt8]) -> Int64? {
        var reader = ByteReader(bytes: bytes)
        guard let year = reader.digits(exactly: 4), reader.consume("-"),
              let month = reader.digits(exactly: 2), reader.consume("-"),
              let day = reader.digits(exactly: 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var microsOfDay: Int64 = 0
        var offsetSeconds: Int64 = 0
        if !reader.isAtEnd {
            guard reader.consume("T") || reader.consume("t") || reader.consume(" "),
                  let hour = reader.digits(exactly: 2), reader.consume(":"),
                  let minute = reader.digits(exactly: 2),
                  hour < 24, minute < 60
            else { return nil }
            var second: Int64 = 0
            var fraction: Int64 = 0
            if reader.consume(":") {
                guard let parsed = reader.digits(exactly: 2), parsed < 60 else { return nil }
                second = parsed
                if reader.consume(".") || reader.consume(",") {
                    guard let (value, count) = reader.digits(between: 1...9) else { return nil }
                    // Scale to exactly six digits: pad short fractions, truncate nanoseconds.
                    fraction = count <= 6 ? value * power10(6 - count) : value / power10(count - 6)
                }
            }
            guard let offset = parseOffset(&reader), reader.isAtEnd else { return nil }
            offsetSeconds = offset
            microsOfDay = ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction
        }
        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let (product, overflow) = days.multipliedReportingOverflow(by: 86_400_000_000)
        guard !overflow else { return nil }
        return product + microsOfDay - offsetSeconds * 1_000_000
    }

    /// `Z`, `+09:00`, `+0900` or `+09`; the offset in seconds east of UTC.
    /// A time without any designator is refused: guessing the zone of an order
    /// time is how commissions end up a day off.
    private static func parseOffset(_ reader: inout ByteReader) -> Int64? {
        if reader.consume("Z") || reader.consume("z") { return 0 }
        let sign: Int64
        if reader.consume("+") {
            sign = 1
        } else if reader.consume("-") {
            sign = -1
        } else {
            return nil
        }
        guard let hours = reader.digits(exactly: 2), hours <= 23 else { return nil }
        var minutes: Int64 = 0
        if reader.consume(":") {
            guard let parsed = reader.digits(exactly: 2) else { return nil }
            minutes = parsed
        } else if let parsed = reader.digits(exactly: 2) {
            minutes = parsed
        }
        guard minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        mutating func consume(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digits(exactly count: Int) -> Int64? {
            guard let (value, read) = digits(between: count...count) else { return nil }
            return read == count ? value : nil
        }

        mutating func digits(between range: ClosedRange<Int>) -> (Int64, Int)? {
            var value: Int64 = 0
            var count = 0
            while index < bytes.count, count < range.upperBound, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                count += 1
                index += 1
            }
            return count >= range.lowerBound ? (value, count) : nil
        }
    }

    // MARK: Calendar arithmetic (days since the epoch: Storage's CivilCalendar)

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func power10(_ exponent: Int) -> Int64 {
        (0..<exponent).reduce(1) { result, _ in result * 10 }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
