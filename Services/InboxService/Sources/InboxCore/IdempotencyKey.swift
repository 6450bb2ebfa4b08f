/// The seller's key that makes Request safe to retry: the first call with a
/// key creates the row, every later call with the same key (for the same
/// seller) returns that row and creates nothing. Unique per seller in
/// PostgreSQL (`UNIQUE (seller_id, idempotency_key)`), kept for good.
///
/// Required, 1 to 128 characters of `[A-Za-z0-9._:-]`: enough for UUIDs,
/// ULIDs and `<client>:<counter>` schemes, and nothing that needs escaping
/// in logs or metadata.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// The longest key accepted.
    public static let maximumLength = 128

    /// The key as given.
    public let rawValue: String

    /// Validates `raw`.
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `idempotency_key`.
    public init(validating raw: String) throws(InboxError) {
        let bytes = raw.utf8
        guard !bytes.isEmpty else {
            throw .invalidArgument(field: "idempotency_key", "required (1 to \(Self.maximumLength) characters)")
        }
        guard bytes.count <= Self.maximumLength else {
            throw .invalidArgument(field: "idempotency_key", "longer than \(Self.maximumLength) characters")
        }
        if let offset = bytes.firstIndex(where: { !Self.isAllowed($0) }).map({ bytes.distance(from: bytes.startIndex, to: $0) }) {
            throw .invalidArgument(
                field: "idempotency_key",
                "character at offset \(offset) is outside [A-Za-z0-9._:-]"
            )
        }
        self.rawValue = raw
    }

    public var description: String { rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
