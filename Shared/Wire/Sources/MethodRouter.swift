public import Proto

/// One callable method: its name, who may call it, and its handler over bytes.
public struct MethodDescriptor: Sendable {
    /// Who may call the method; nil means anyone, even without a credential (health only).
    public var allowedCallers: Set<Caller>?
    /// Whether a client may retry the call on UNAVAILABLE (the method is safe to repeat).
    public var idempotent: Bool
    /// Decodes the request, runs the handler, encodes the response.
    public var handler: @Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8]
    /// Runs several calls of this method at once, one result per call in order.
    /// The server uses it for calls of the method that arrive together (from
    /// any connections), so their storage work can share round trips; nil runs
    /// each call alone through `handler`.
    public var coalescedHandler: (@Sendable ([CallContext], [[UInt8]]) -> [Result<[UInt8], RPCError>])?

    public init(
        allowedCallers: Set<Caller>?, idempotent: Bool,
        handler: @escaping @Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8],
        coalescedHandler: (@Sendable ([CallContext], [[UInt8]]) -> [Result<[UInt8], RPCError>])? = nil
    ) {
        self.allowedCallers = allowedCallers
        self.idempotent = idempotent
        self.handler = handler
        self.coalescedHandler = coalescedHandler
    }
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
        checkNew(method)
        methods[method] = MethodDescriptor(allowedCallers: callers, idempotent: idempotent) {
            context, bytes throws(RPCError) in
            let request: Request = try Self.decode(bytes)
            do {
                return try handler(context, request).serializedBytes()
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(.internal, "internal error", cause: error)
            }
        }
    }

    /// Registers a typed unary method whose calls the server may run together.
    ///
    /// `coalesced` receives the calls that arrived together (already decoded and
    /// authorized, each with its own context and deadline) and returns one
    /// result per call, in order. A single call goes through `coalesced` too,
    /// so both paths share one implementation. Calls whose request does not
    /// decode fail alone with INVALID_ARGUMENT and are not passed on.
    public mutating func registerCoalescing<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String,
        callers: Set<Caller>?,
        idempotent: Bool = false,
        _ coalesced: @escaping @Sendable ([CallContext], [Request]) -> [Result<Response, RPCError>]
    ) {
        checkNew(method)
        let runAll: @Sendable ([CallContext], [[UInt8]]) -> [Result<[UInt8], RPCError>] = { contexts, payloads in
            var results = [Result<[UInt8], RPCError>?](repeating: nil, count: payloads.count)
            var decodedIndices: [Int] = []
            var decodedContexts: [CallContext] = []
            var requests: [Request] = []
            decodedIndices.reserveCapacity(payloads.count)
            for (index, payload) in payloads.enumerated() {
                do throws(RPCError) {
                    requests.append(try Self.decode(payload))
                    decodedIndices.append(index)
                    decodedContexts.append(contexts[index])
                } catch {
                    results[index] = .failure(error)
                }
            }
            if !requests.isEmpty {
                let answers = coalesced(decodedContexts, requests)
                for (position, index) in decodedIndices.enumerated() {
                    results[index] = position < answers.count
                        ? answers[position].map { $0.serializedBytes() }
                        : .failure(RPCError(.internal, "\(method) returned \(answers.count) results for \(requests.count) calls"))
                }
            }
            return results.map { $0 ?? .failure(RPCError(.internal, "no result")) }
        }
        methods[method] = MethodDescriptor(
            allowedCallers: callers, idempotent: idempotent,
            handler: { context, bytes throws(RPCError) in try runAll([context], [bytes])[0].get() },
            coalescedHandler: runAll
        )
    }

    /// A programming error, caught at start-up: a name registered twice or not `/pkg.Service/Method`.
    private func checkNew(_ method: String) {
        precondition(methods[method] == nil, "method \(method) registered twice")
        precondition(method.hasPrefix("/") && method.dropFirst().contains("/"), "method name must be /pkg.Service/Method")
    }

    private static func decode<Request: ProtoMessage>(_ bytes: [UInt8]) throws(RPCError) -> Request {
        do throws(ProtoDecodingError) {
            return try Request(serializedBytes: bytes)
        } catch {
            throw RPCError(.invalidArgument, "request is not a valid \(error.messageName) message")
        }
    }

    /// The descriptor of `method`, if registered.
    public func descriptor(for method: String) -> MethodDescriptor? {
        methods[method]
    }

    /// Every registered method name, sorted.
    public var methodNames: [String] { methods.keys.sorted() }
}
