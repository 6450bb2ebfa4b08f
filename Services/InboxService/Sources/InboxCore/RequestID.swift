/// The id of an authorization request: a UUID, as PostgreSQL's `uuid` type
/// stores it (16 bytes, compared byte by byte).
///
/// Parsing on input keeps malformed ids away from PostgreSQL (where a bad
/// `::uuid` cast would be an INTERNAL error instead of INVALID_ARGUMENT).
/// The order is PostgreSQL's uuid order, so it breaks ties in the listing
/// order exactly as the database does.
public struct RequestID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Bytes 0...7, big-endian.
    public let high: UInt64
    /// Bytes 8...15, big-endian.
    public let low: UInt64

    /// The id made of these two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
    /// (hex digits in either case).
    ///
    /// - Parameter field: the wire field name used in errors (`id`, `request_id`).
    /// - Throws: `INVALID_ARGUMENT` naming `field`.
    public init(parsing text: String, field: String = "id") throws(InboxError) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else {
            throw .invalidArgument(field: field, "must be a UUID (36 characters, got \(utf8.count))")
        }
        var value: (UInt64, UInt64) = (0, 0)
        var digits = 0
        for (index, byte) in utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else {
                    throw .invalidArgument(field: field, "must be a UUID (hyphen expected at offset \(index))")
                }
                continue
            }
            guard let nibble = Self.hexValue(byte) else {
                throw .invalidArgument(field: field, "must be a UUID (non-hex character at offset \(index))")
            }
            if digits < 16 {
                value.0 = value.0 << 4 | UInt64(nibble)
            } else {
                value.1 = value.1 << 4 | UInt64(nibble)
            }
            digits += 1
        }
        self.init(high: value.0, low: value.1)
    }

    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// The id made of 16 big-endian bytes; `nil` when `bytes` is not 16 long.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// The canonical lowercase text form, as PostgreSQL prints a `uuid`.
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    public static func < (lhs: RequestID, rhs: RequestID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
