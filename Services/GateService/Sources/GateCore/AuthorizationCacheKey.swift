/// The Redis key of a pair's cached authorization: `sa:v1:{<seller>}:<product>`.
///
/// The braces are a Redis Cluster hash tag: every key of one seller lands in
/// the same slot, so a cart's items (one seller) are fetched with one MGET.
/// `v1` versions the value format (``AuthorizationCacheEntry``); a format
/// change moves to `sa:v2:` rather than reinterpreting old values.
///
/// Ids are opaque text. To keep the key injective whatever they contain,
/// `%` and `}` in the seller id are percent-escaped (`%25`, `%7D`): the
/// first `}` then always ends the seller. Ids without those characters
/// (every UUID) appear verbatim. The product id is the key's tail and needs
/// no escaping.
public enum AuthorizationCacheKey {
    /// The key prefix, up to and including the version.
    public static let prefix = "sa:v1:"

    /// The key for the pair (`seller`, `product`).
    public static func make(seller: String, product: String) -> String {
        "\(prefix){\(escapeSeller(seller))}:\(product)"
    }

    static func escapeSeller(_ seller: String) -> String {
        guard seller.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "}") }) else {
            return seller
        }
        var escaped = ""
        escaped.reserveCapacity(seller.utf8.count + 4)
        for character in seller.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case "}": escaped += "%7D"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
