/// An error from Redis or from talking to it.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of failure. Extensible: new kinds may be added, so `switch` with a default.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Opening (or re-opening) the connection failed.
        public static let connectionFailed = Kind("connectionFailed")
        /// The connection failed mid-command (reset, EOF, protocol error); it reconnects on next use.
        public static let connectionBroken = Kind("connectionBroken")
        /// No reply before the deadline (or the command timeout), or no free pooled connection.
        public static let timeout = Kind("timeout")
        /// Redis answered with an error reply (e.g. `WRONGTYPE`, `NOSCRIPT`); see `message`.
        public static let server = Kind("server")
        /// The reply did not have the expected shape.
        public static let unexpectedReply = Kind("unexpectedReply")
        /// The call was misused (e.g. an empty command).
        public static let invalidUsage = Kind("invalidUsage")
        /// The pool was closed.
        public static let poolClosed = Kind("poolClosed")

        public var description: String { name }
    }

    /// What went wrong.
    public var kind: Kind
    /// A human-readable explanation; for `.server`, Redis's own error line (`WRONGTYPE ...`).
    public var message: String

    /// Creates an error.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "RedisError(\(kind)): \(message)" }
}
