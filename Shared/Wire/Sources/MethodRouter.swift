public import Proto

/// One callable method: its name, who may call it, and its handler over bytes.
public struct MethodDescriptor: Sendable {
    /// Who may call the method; nil means anyone, even without a credential (health only).
    public var allowedCallers: Set<Caller>?
    /// Whether a client may retry the call on UNAVAILABLE (the method is safe to repeat).
    public var idempotent: Bool
    /// Decodes the request, runs the handler, encodes the response.
    public var handler: @Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8]
}

/// The methods a server exposes, by full name. Handlers are synchronous and
/// run on the server's worker threads (never Swift's cooperative pool), so
/// they may block on PostgreSQL or Redis within the call's deadline.
public struct MethodRouter: Sendable {
    private(set) var methods: [String: MethodDescriptor] = [:]

    public init() {}

    /// Registers a typed unary method.
    ///
    /// - Parameters:
    ///   - method: the full name, `/package.Service/Method`.
    ///   - callers: who may call it; pass nil for methods open to all.
    ///   - idempotent: true when repeating the call cannot change the outcome.
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String,
        callers: Set<Caller>?,
        idempotent: Bool = false,
        _ handler: @escaping @Sendable (CallContext, Request) throws -> Response
    ) {
        precondition(methods[method] == nil, "method \(method) registered twice")
        precondition(method.hasPrefix("/") && method.dropFirst().contains("/"), "method name must be /pkg.Service/Method")
        methods[method] = MethodDescriptor(allowedCallers: callers, idempotent: idempotent) {
            context, bytes throws(RPCError) in
            let request: Request
            do throws(ProtoDecodingError) {
                request = try Request(serializedBytes: bytes)
            } catch {
                throw RPCError(.invalidArgument, "request is not a valid \(error.messageName) message")
            }
            do {
                return try handler(context, request).serializedBytes()
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(.internal, "internal error", cause: error)
            }
        }
    }

    /// The descriptor of `method`, if registered.
    public func descriptor(for method: String) -> MethodDescriptor? {
        methods[method]
    }

    /// Every registered method name, sorted.
    public var methodNames: [String] { methods.keys.sorted() }
}
