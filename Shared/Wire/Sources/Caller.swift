import Glibc

/// Who is calling: each client system presents its own credential.
public struct Caller: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The checkout: gate checks for every cart item.
    public static let checkout = Caller(rawValue: "checkout")
    /// The settlement batch: policy resolution and commission recording.
    public static let settlement = Caller(rawValue: "settlement")
    /// The supplier portal backend: inbox requests and decisions.
    public static let supplierPortal = Caller(rawValue: "supplier-portal")
    /// Operators: admin RPCs, runtime flags.
    public static let `operator` = Caller(rawValue: "operator")

    public var description: String { rawValue }
}

/// The configured credentials, one secret per caller. Loaded from
/// configuration (a file outside the repo), never compiled in.
public struct CredentialStore: Sendable {
    private let entries: [(caller: Caller, secret: [UInt8])]

    /// A store from caller → secret. Secrets shorter than 16 bytes are refused.
    public init(_ secrets: [Caller: String]) throws(CredentialError) {
        var entries: [(caller: Caller, secret: [UInt8])] = []
        for (caller, secret) in secrets.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard secret.utf8.count >= 16 else {
                throw CredentialError("credential for caller \(caller) is shorter than 16 bytes")
            }
            entries.append((caller, Array(secret.utf8)))
        }
        self.entries = entries
    }

    /// Parses the credentials file format: one `caller:secret` per line; blank
    /// lines and lines starting with `#` are ignored.
    public init(fileContents: String) throws(CredentialError) {
        var secrets: [Caller: String] = [:]
        for (number, rawLine) in fileContents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingASCIIWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw CredentialError("credentials line \(number + 1): expected caller:secret")
            }
            let caller = Caller(rawValue: String(line[..<colon]))
            guard secrets[caller] == nil else {
                throw CredentialError("credentials line \(number + 1): caller \(caller) appears twice")
            }
            secrets[caller] = String(line[line.index(after: colon)...])
        }
        try self.init(secrets)
    }

    /// The callers this store knows.
    public var callers: [Caller] { entries.map(\.caller) }

    /// The caller whose secret equals `presented`, compared in constant time:
    /// every configured secret is compared in full, whatever matches.
    public func authenticate(_ presented: String) -> Caller? {
        let presentedBytes = Array(presented.utf8)
        var found: Caller?
        for entry in entries where Self.constantTimeEquals(entry.secret, presentedBytes) {
            found = entry.caller
        }
        return found
    }

    /// The secret configured for `caller`, for clients that present it.
    public func secret(for caller: Caller) -> String? {
        entries.first { $0.caller == caller }.map { String(decoding: $0.secret, as: UTF8.self) }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// The credentials configuration is unusable.
public struct CredentialError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return Substring("") }
        let last = lastIndex(where: { !isSpace($0) })!
        return Substring(self[first...last])
    }
}
