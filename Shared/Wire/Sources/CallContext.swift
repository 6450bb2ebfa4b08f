public import Storage
public import Logging
import Proto

/// What a handler knows about the call it serves.
///
/// The request id, the metadata dictionary and the call's logger are built
/// only when a handler asks for them: most calls never log, and building them
/// for every call was a measurable share of a cache-hit Check.
public struct CallContext: Sendable {
    /// The full method name, e.g. `/gate.v1.GateService/Check`.
    public var method: String
    /// The authenticated caller; nil only for methods open to everyone (health).
    public var caller: Caller?
    /// When the caller stops waiting. Storage calls made for this call are bounded by it.
    public var deadline: Deadline

    private let entries: [WireV1.Metadata]
    private let baseLogger: Logger
    /// The request id given at init, if any (else the caller's or a server-made one).
    private let givenRequestID: String?
    /// Numbers server-made request ids; 0 for contexts made through the public init.
    private let sequence: UInt64
    /// False when `baseLogger` is already the call's logger (public init).
    private let decoratesLogger: Bool

    public init(
        method: String, caller: Caller?, requestID: String, deadline: Deadline,
        metadata: [String: String] = [:], logger: Logger
    ) {
        self.method = method
        self.caller = caller
        self.deadline = deadline
        self.entries = metadata.map { WireV1.Metadata(key: $0.key, value: $0.value) }
        self.baseLogger = logger
        self.givenRequestID = requestID
        self.sequence = 0
        self.decoratesLogger = false
    }

    /// The server's context: metadata as it came on the wire; request id and
    /// logger made on first use.
    init(method: String, caller: Caller?, deadline: Deadline, entries: [WireV1.Metadata], serverLogger: Logger, sequence: UInt64) {
        self.method = method
        self.caller = caller
        self.deadline = deadline
        self.entries = entries
        self.baseLogger = serverLogger
        self.givenRequestID = nil
        self.sequence = sequence
        self.decoratesLogger = true
    }

    /// The caller's `x-request-id`, or one the server made up (unique per process start).
    public var requestID: String {
        if let givenRequestID { return givenRequestID }
        return Self.value(of: MetadataKey.requestID, in: entries) ?? "srv-\(Self.processTag)-\(sequence)"
    }

    /// The request metadata, keys lowercase.
    public var metadata: [String: String] {
        var result: [String: String] = [:]
        for entry in entries { result[entry.key.lowercased()] = entry.value }
        return result
    }

    /// A logger carrying `request.id`, `caller` and `method`.
    public var logger: Logger {
        guard decoratesLogger else { return baseLogger }
        var logger = baseLogger
        logger[metadataKey: "request.id"] = "\(requestID)"
        logger[metadataKey: "method"] = "\(method)"
        if let caller { logger[metadataKey: "caller"] = "\(caller)" }
        return logger
    }

    /// Throws DEADLINE_EXCEEDED once the deadline has passed; handlers call it
    /// between steps so expired work stops early.
    public func checkDeadline() throws(RPCError) {
        if deadline.isExpired { throw RPCError(.deadlineExceeded, "deadline expired before \(method) finished") }
    }

    /// The value of metadata `key` (lowercase), matching keys case-insensitively.
    static func value(of key: String, in entries: [WireV1.Metadata]) -> String? {
        for entry in entries where entry.key == key || entry.key.lowercased() == key {
            return entry.value
        }
        return nil
    }

    /// Random per process start, so server-made request ids differ across instances and restarts.
    private static let processTag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
}

/// Metadata keys the servers read. Keys are lowercase ASCII.
public enum MetadataKey {
    /// `Bearer <secret>`: the caller's credential.
    public static let authorization = "authorization"
    /// A caller-chosen id that appears in every log line of the call.
    public static let requestID = "x-request-id"
}
