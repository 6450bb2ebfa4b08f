public import Storage
public import Logging

/// What a handler knows about the call it serves.
public struct CallContext: Sendable {
    /// The full method name, e.g. `/gate.v1.GateService/Check`.
    public var method: String
    /// The authenticated caller; nil only for methods open to everyone (health).
    public var caller: Caller?
    /// The caller's `x-request-id`, or one the server made up.
    public var requestID: String
    /// When the caller stops waiting. Storage calls made for this call are bounded by it.
    public var deadline: Deadline
    /// The request metadata, keys lowercase.
    public var metadata: [String: String]
    /// A logger carrying `request.id`, `caller` and `method`.
    public var logger: Logger

    public init(
        method: String, caller: Caller?, requestID: String, deadline: Deadline,
        metadata: [String: String] = [:], logger: Logger
    ) {
        self.method = method
        self.caller = caller
        self.requestID = requestID
        self.deadline = deadline
        self.metadata = metadata
        self.logger = logger
    }

    /// Throws DEADLINE_EXCEEDED once the deadline has passed; handlers call it
    /// between steps so expired work stops early.
    public func checkDeadline() throws(RPCError) {
        if deadline.isExpired { throw RPCError(.deadlineExceeded, "deadline expired before \(method) finished") }
    }
}

/// Metadata keys the servers read. Keys are lowercase ASCII.
public enum MetadataKey {
    /// `Bearer <secret>`: the caller's credential.
    public static let authorization = "authorization"
    /// A caller-chosen id that appears in every log line of the call.
    public static let requestID = "x-request-id"
}
