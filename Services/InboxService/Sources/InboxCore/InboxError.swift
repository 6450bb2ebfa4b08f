/// A per-call refusal from the inbox domain: a status code the wire carries
/// unchanged and a message naming the field or rule at fault.
///
/// The codes are gRPC's (same numbers), so the service maps them one to one
/// onto the wire's status codes; the core itself depends on nothing.
public struct InboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wire status code of a refusal. Extensible: new codes are new
    /// static members, never a new enum case that breaks exhaustive switches.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The gRPC status number (3 = INVALID_ARGUMENT, ...).
        public let rawValue: Int
        /// The gRPC status name, e.g. `FAILED_PRECONDITION`.
        public let name: String

        private init(_ rawValue: Int, _ name: String) {
            self.rawValue = rawValue
            self.name = name
        }

        /// A field is missing, malformed or out of range.
        public static let invalidArgument = Code(3, "INVALID_ARGUMENT")
        /// The named request, seller or product does not exist.
        public static let notFound = Code(5, "NOT_FOUND")
        /// The actor may not act on this entity (another supplier's product,
        /// another seller's request) or the caller may not use this method.
        public static let permissionDenied = Code(7, "PERMISSION_DENIED")
        /// The seller's product limit (`SELLER_PRODUCT_LIMIT`).
        public static let resourceExhausted = Code(8, "RESOURCE_EXHAUSTED")
        /// The entity's state forbids the action: an illegal transition, an
        /// open request already held for the pair, the reject cooldown.
        public static let failedPrecondition = Code(9, "FAILED_PRECONDITION")

        public var description: String { name }
    }

    /// What kind of refusal this is.
    public var code: Code
    /// Human-readable detail that names the field or rule, e.g.
    /// `reason: required to reject`.
    public var message: String
    /// Cooldown refusals only: the first instant (unix microseconds, UTC) at
    /// which a new request is accepted. The message repeats it as
    /// `retry_after_unix_micros=<n>` because the wire carries no error payload.
    public var retryAfterUnixMicros: Int64?

    /// An error with the given code and message.
    public init(code: Code, message: String, retryAfterUnixMicros: Int64? = nil) {
        self.code = code
        self.message = message
        self.retryAfterUnixMicros = retryAfterUnixMicros
    }

    public var description: String { "\(code.name): \(message)" }

    /// `INVALID_ARGUMENT` with the message `<field>: <detail>`.
    public static func invalidArgument(field: String, _ detail: String) -> InboxError {
        InboxError(code: .invalidArgument, message: "\(field): \(detail)")
    }

    /// `PERMISSION_DENIED` with the given message.
    public static func permissionDenied(_ message: String) -> InboxError {
        InboxError(code: .permissionDenied, message: message)
    }

    /// `FAILED_PRECONDITION` with the given message.
    public static func failedPrecondition(_ message: String) -> InboxError {
        InboxError(code: .failedPrecondition, message: message)
    }

    /// `NOT_FOUND` with the given message.
    public static func notFound(_ message: String) -> InboxError {
        InboxError(code: .notFound, message: message)
    }
}
