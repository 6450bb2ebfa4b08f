/// An error from PostgreSQL or from talking to it.
///
/// `kind` says what went wrong on our side of the wire; for errors the server reported
/// (`kind == .server`) `code` carries the SQLSTATE so callers can map precise conditions,
/// e.g. `23505` (unique violation) to ALREADY_EXISTS or `40001` (serialization failure) to a retry.
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of failure. Extensible: new kinds may be added, so `switch` with a default.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Opening a connection failed (unreachable server, authentication, unknown database).
        public static let connectionFailed = Kind("connectionFailed")
        /// The connection is unusable (server gone, protocol out of sync); open a new one.
        public static let connectionBroken = Kind("connectionBroken")
        /// The deadline passed: a running statement was cancelled, or no connection freed up.
        public static let timeout = Kind("timeout")
        /// The server rejected the statement; see `code` (SQLSTATE).
        public static let server = Kind("server")
        /// A result value could not be read as the requested Swift type, or was NULL.
        public static let decoding = Kind("decoding")
        /// The call was misused (bad argument, nested transaction, unknown column).
        public static let invalidUsage = Kind("invalidUsage")
        /// The pool was closed.
        public static let poolClosed = Kind("poolClosed")

        public var description: String { name }
    }

    /// Well-known SQLSTATE codes (PostgreSQL Appendix A) callers commonly branch on.
    public enum SQLState {
        /// `23505`: a unique constraint or index was violated.
        public static let uniqueViolation = "23505"
        /// `23503`: a foreign key was violated.
        public static let foreignKeyViolation = "23503"
        /// `23514`: a check constraint was violated.
        public static let checkViolation = "23514"
        /// `40001`: serialization failure under REPEATABLE READ / SERIALIZABLE; retry the transaction.
        public static let serializationFailure = "40001"
        /// `40P01`: deadlock detected; retry the transaction.
        public static let deadlockDetected = "40P01"
        /// `55P03`: `NOWAIT` or `lock_timeout` could not get a lock.
        public static let lockNotAvailable = "55P03"
        /// `57014`: the statement was cancelled (our deadline, or `statement_timeout`).
        public static let queryCanceled = "57014"
    }

    /// What went wrong.
    public var kind: Kind
    /// The SQLSTATE reported by the server (`kind == .server`), e.g. `"23505"`; `nil` otherwise.
    public var code: String?
    /// The primary human-readable message.
    public var message: String
    /// The server's DETAIL line, if any (e.g. which key value already exists).
    public var detail: String?
    /// The name of the violated constraint, if the error concerns one.
    public var constraint: String?
    /// The table the error concerns, if any.
    public var table: String?
    /// The column the error concerns, if any.
    public var column: String?

    /// Creates an error.
    public init(
        kind: Kind,
        code: String? = nil,
        message: String,
        detail: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    /// Whether a unique constraint was violated (SQLSTATE 23505).
    public var isUniqueViolation: Bool { code == SQLState.uniqueViolation }

    /// Whether re-running the whole transaction may succeed (SQLSTATE 40001 or 40P01).
    public var isRetryableTransactionFailure: Bool {
        code == SQLState.serializationFailure || code == SQLState.deadlockDetected
    }

    /// Whether a lock could not be taken (SQLSTATE 55P03).
    public var isLockNotAvailable: Bool { code == SQLState.lockNotAvailable }

    public var description: String {
        var text = "PostgresError(\(kind)"
        if let code { text += " \(code)" }
        text += "): \(message)"
        if let detail { text += " (detail: \(detail))" }
        if let constraint { text += " [constraint \(constraint)]" }
        return text
    }
}
