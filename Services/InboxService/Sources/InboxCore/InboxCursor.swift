/// The opaque `page_token` of ListInbox and ListMine: where the previous page
/// ended, bound to the listing that issued it.
///
/// Keyset pagination: the next page is the rows strictly after ``after`` in
/// ``InboxSortKey`` order (`(status_rank, created_at, id) > ($1, $2, $3)`),
/// never an offset, so rows inserted while a client pages never shift or
/// repeat rows on later pages.
///
/// Token layout, version 1 (38 bytes, then unpadded base64url, 51 characters):
///
/// | bytes | field |
/// | ---: | --- |
/// | 0 | format version (1) |
/// | 1 | status rank (0 or 1) |
/// | 2...9 | created_at, unix microseconds, big-endian two's complement |
/// | 10...25 | request id, 16 UUID bytes |
/// | 26...33 | ``InboxListing/fingerprint``, big-endian |
/// | 34...37 | FNV-1a 32 of bytes 0...33, big-endian |
///
/// The checksum catches truncated, corrupted and hand-edited tokens; it is
/// not a secret-keyed MAC and need not be: every listing is already scoped to
/// the authorized supplier or seller, so a forged token can only move the
/// caller within rows it may read anyway.
public struct InboxCursor: Sendable, Hashable {
    /// The format version this code writes and reads.
    public static let formatVersion: UInt8 = 1
    static let encodedLength = 38

    /// The last row of the previous page.
    public let after: InboxSortKey
    /// The fingerprint of the listing that issued the token.
    public let listingFingerprint: UInt64

    /// A cursor after `after` in `listing`.
    public init(after: InboxSortKey, listing: InboxListing) {
        self.after = after
        self.listingFingerprint = listing.fingerprint
    }

    /// The opaque token to hand to the client as `next_page_token`.
    public var token: String {
        var bytes: [UInt8] = [Self.formatVersion, UInt8(truncatingIfNeeded: after.statusRank)]
        bytes += Self.bigEndian(UInt64(bitPattern: after.createdAtUnixMicros))
        bytes += after.requestID.bytes
        bytes += Self.bigEndian(listingFingerprint)
        let checksum = FNV1a.hash32(bytes)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: checksum >> (24 - 8 * $0)) }
        return Base64URL.encode(bytes)
    }

    /// Decodes `token` for `listing`; an empty token means the first page (`nil`).
    ///
    /// - Throws: `INVALID_ARGUMENT` naming `page_token` when the token is not
    ///   base64url, has the wrong length or version, fails its checksum, holds
    ///   impossible values, or was issued for another listing.
    public static func decode(_ token: String, for listing: InboxListing) throws(InboxError) -> InboxCursor? {
        if token.isEmpty { return nil }
        guard let bytes = Base64URL.decode(token) else {
            throw .invalidArgument(field: "page_token", "not a token issued by this service (bad encoding)")
        }
        guard let version = bytes.first, version == formatVersion else {
            throw .invalidArgument(field: "page_token", "unsupported token version; restart from the first page")
        }
        guard bytes.count == encodedLength else {
            throw .invalidArgument(field: "page_token", "truncated or altered (wrong length)")
        }
        let checksum = UInt32(truncatingIfNeeded: readBigEndian(bytes[34..<38]))
        guard FNV1a.hash32(bytes[0..<34]) == checksum else {
            throw .invalidArgument(field: "page_token", "truncated or altered (checksum mismatch)")
        }
        let rank = Int(bytes[1])
        guard rank == 0 || rank == 1 else {
            throw .invalidArgument(field: "page_token", "holds an impossible status rank")
        }
        let createdAt = Int64(bitPattern: readBigEndian(bytes[2..<10]))
        guard createdAt >= 0, let id = RequestID(bytes: bytes[10..<26]) else {
            throw .invalidArgument(field: "page_token", "holds an impossible position")
        }
        let fingerprint = readBigEndian(bytes[26..<34])
        guard fingerprint == listing.fingerprint else {
            throw .invalidArgument(
                field: "page_token",
                "issued for a different listing; keep supplier_id, seller_id, statuses and product_id unchanged"
            )
        }
        return InboxCursor(
            after: InboxSortKey(statusRank: rank, createdAtUnixMicros: createdAt, requestID: id),
            fingerprint: fingerprint
        )
    }

    private init(after: InboxSortKey, fingerprint: UInt64) {
        self.after = after
        self.listingFingerprint = fingerprint
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    private static func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
