/// The Redis value of a pair's cached authorization, and its strict codec.
///
/// Format (ASCII, `|`-separated, exactly four fields):
///
///     <version>|<STATUS>|<approvedAtMicros>|<revokedAtMicros>
///
/// - `version`: the pair's version, decimal without leading zeros. It must
///   come first: ``AuthorizationCacheScript/compareAndSet`` reads it.
/// - `STATUS`: ``AuthorizationState/Status/token`` (`NOT_REQUESTED`,
///   `REQUESTED`, `APPROVED`, `REJECTED`, `REVOKED`, `CANCELLED`).
/// - `approvedAtMicros`: APPROVED and REVOKED only, else empty.
/// - `revokedAtMicros`: REVOKED only, else empty.
///
/// Examples: `0|NOT_REQUESTED||`, `7|REQUESTED||`,
/// `8|APPROVED|1763900000000000|`, `9|REVOKED|1763900000000000|1763990000000000`.
///
/// The parser accepts exactly what ``encoded`` writes: anything else (an
/// extra field, a sign, a leading zero, a state that breaks
/// ``AuthorizationState/isWellFormed``) decodes as nil, which readers treat
/// as a cache miss and answer from PostgreSQL.
public struct AuthorizationCacheEntry: Sendable, Hashable, CustomStringConvertible {
    /// The longest value the parser looks at; real values are under 60 bytes.
    public static let maximumEncodedLength = 96

    /// The cached state.
    public var state: AuthorizationState

    /// Wraps a state. Write only states that are
    /// ``AuthorizationState/isWellFormed``: readers drop the others.
    public init(state: AuthorizationState) {
        self.state = state
    }

    /// The Redis value.
    public var encoded: String {
        let (approvedAt, revokedAt): (Int64?, Int64?) =
            switch state.status {
            case .notRequested, .pending, .rejected, .cancelled: (nil, nil)
            case .approved(let since): (since, nil)
            case .revoked(let approved, let revoked): (approved, revoked)
            }
        return "\(state.version)|\(state.status.token)|\(approvedAt.map(String.init) ?? "")|\(revokedAt.map(String.init) ?? "")"
    }

    /// ``encoded``.
    public var description: String { encoded }

    /// Decodes a value read from Redis; nil for anything ``encoded`` would not write.
    public init?(encoded: String) {
        self.init(encodedBytes: encoded.utf8)
    }

    /// Decodes a value read from Redis as raw bytes; nil for anything
    /// ``encoded`` would not write.
    public init?<Bytes: Collection<UInt8>>(encodedBytes bytes: Bytes) {
        // Hot path (every cache hit): scan contiguous bytes in place, no
        // intermediate arrays or strings.
        let decoded =
            bytes.withContiguousStorageIfAvailable { Self.decode($0) }
            ?? Array(bytes).withUnsafeBufferPointer { Self.decode($0) }
        guard let decoded else { return nil }
        self.state = decoded
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> AuthorizationState? {
        guard bytes.count <= maximumEncodedLength else { return nil }
        // Exactly three separators: four fields.
        var separators = (0, 0, 0)
        var found = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "|") {
            switch found {
            case 0: separators.0 = index
            case 1: separators.1 = index
            case 2: separators.2 = index
            default: return nil
            }
            found += 1
        }
        guard found == 3 else { return nil }
        let versionField = UnsafeBufferPointer(rebasing: bytes[..<separators.0])
        let token = UnsafeBufferPointer(rebasing: bytes[(separators.0 + 1)..<separators.1])
        let approvedAt = UnsafeBufferPointer(rebasing: bytes[(separators.1 + 1)..<separators.2])
        let revokedAt = UnsafeBufferPointer(rebasing: bytes[(separators.2 + 1)...])
        guard let version = parseDecimal(versionField),
            let status = parseStatus(token: token, approvedAt: approvedAt, revokedAt: revokedAt)
        else { return nil }
        let state = AuthorizationState(version: version, status: status)
        return state.isWellFormed ? state : nil
    }

    /// Parses the status field with the two time fields it requires or forbids.
    private static func parseStatus(
        token: UnsafeBufferPointer<UInt8>, approvedAt: UnsafeBufferPointer<UInt8>, revokedAt: UnsafeBufferPointer<UInt8>
    ) -> AuthorizationState.Status? {
        if token.elementsEqual("APPROVED".utf8) {
            guard revokedAt.isEmpty, let since = parseDecimal(approvedAt) else { return nil }
            return .approved(sinceMicros: since)
        }
        if token.elementsEqual("REVOKED".utf8) {
            guard let approved = parseDecimal(approvedAt), let revoked = parseDecimal(revokedAt) else { return nil }
            return .revoked(approvedAtMicros: approved, revokedAtMicros: revoked)
        }
        // The remaining statuses carry no times.
        guard approvedAt.isEmpty, revokedAt.isEmpty else { return nil }
        if token.elementsEqual("REQUESTED".utf8) { return .pending }
        if token.elementsEqual("REJECTED".utf8) { return .rejected }
        if token.elementsEqual("CANCELLED".utf8) { return .cancelled }
        if token.elementsEqual("NOT_REQUESTED".utf8) { return .notRequested }
        return nil
    }

    /// A non-negative decimal `Int64` without sign or leading zeros; nil otherwise.
    static func parseDecimal<Field: Collection<UInt8>>(_ field: Field) -> Int64? {
        guard let first = field.first, field.count <= 19 else { return nil }
        if first == UInt8(ascii: "0") { return field.count == 1 ? 0 : nil }
        var value: Int64 = 0
        for byte in field {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
