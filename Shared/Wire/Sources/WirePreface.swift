/// The 8 bytes each side sends first on a new connection: the magic "O4OW",
/// a protocol version byte, and three reserved zero bytes.
///
/// A server that reads anything else closes the connection at once, so an
/// HTTP client or a port scanner never reaches the frame decoder.
public enum WirePreface {
    /// The protocol version this build speaks.
    public static let version: UInt8 = 1
    /// The full preface: `4F 34 4F 57 01 00 00 00`.
    public static let bytes: [UInt8] = [0x4F, 0x34, 0x4F, 0x57, version, 0, 0, 0]

    /// What the first bytes of a connection say.
    public enum Verdict: Sendable, Equatable {
        /// Not enough bytes yet to decide.
        case incomplete
        case accepted
        /// The magic matched but the version is one this build does not speak.
        case unsupportedVersion(UInt8)
        /// Not our protocol at all; `looksLikeHTTP` lets the server answer with a
        /// plain HTTP 400 so curl users see why.
        case rejected(looksLikeHTTP: Bool)
    }

    /// Judges the first bytes received on a connection.
    public static func check(_ received: some Collection<UInt8>) -> Verdict {
        let prefix = Array(received.prefix(bytes.count))
        for (index, byte) in prefix.enumerated() where index < 4 && byte != bytes[index] {
            let text = String(decoding: prefix, as: UTF8.self)
            let methods = ["GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC", "PRI "]
            return .rejected(looksLikeHTTP: methods.contains { $0.hasPrefix(text) || text.hasPrefix($0) })
        }
        guard prefix.count == bytes.count else { return .incomplete }
        if prefix[4] != version { return .unsupportedVersion(prefix[4]) }
        if prefix[5] != 0 || prefix[6] != 0 || prefix[7] != 0 { return .rejected(looksLikeHTTP: false) }
        return .accepted
    }
}
