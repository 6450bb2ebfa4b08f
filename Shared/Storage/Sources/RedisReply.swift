/// A Redis (RESP2) reply, copied out of hiredis's reply object.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string: arbitrary bytes.
    case bytes([UInt8])
    /// A status line such as `OK` or `PONG`.
    case status(String)
    /// An integer.
    case integer(Int64)
    /// An array of replies (e.g. `MGET`, `EXEC`, script results).
    case array([RedisReply])
    /// The nil bulk string or nil array (a missing key).
    case null
    /// An error reply such as `WRONGTYPE ...` or `NOSCRIPT ...`. Error replies concern one
    /// command only; the connection stays usable.
    case error(String)

    /// A bulk string decoded as UTF-8, or a status line; `nil` otherwise.
    public var stringValue: String? {
        switch self {
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let status): return status
        default: return nil
        }
    }

    /// The bytes of a bulk string; `nil` otherwise.
    public var bytesValue: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }

    /// An integer reply, or a bulk string holding a decimal integer (as `GET` of a counter returns).
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .bytes(let bytes): return Int64(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    /// The elements of an array reply; `nil` otherwise.
    public var arrayValue: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the nil reply.
    public var isNull: Bool { self == .null }

    /// The message of an error reply; `nil` otherwise.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// Returns the reply, or throws it as a `RedisError` of kind `.server` when it is an error reply.
    @discardableResult
    public func throwingServerError() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw RedisError(kind: .server, message: message) }
        return self
    }
}
