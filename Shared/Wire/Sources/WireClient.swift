import Storage
import Glibc
public import Proto
import Synchronization

/// How a `WireClient` reaches a service.
public struct WireClientConfiguration: Sendable {
    /// Server addresses `host:port`; calls are spread round robin.
    public var addresses: [String]
    /// The caller's secret, sent as `authorization: Bearer <secret>`.
    public var credential: String?
    /// Connections kept per address (calls are multiplexed on each).
    public var connectionsPerAddress: Int = 1
    public var connectTimeout: Duration = .seconds(1)
    /// Deadline of a call that names none.
    public var defaultTimeout: Duration = .seconds(5)
    /// Attempts per call, the first included, while the deadline allows.
    public var maxAttempts: Int = 3
    public var maxFrameSize: Int = 4 * 1024 * 1024

    public init(addresses: [String], credential: String? = nil) {
        self.addresses = addresses
        self.credential = credential
    }
}

/// A client of the wire protocol: reuses connections, multiplexes concurrent
/// calls on them, spreads calls over several addresses, enforces deadlines, and
/// retries on UNAVAILABLE — any call the server never processed (GOAWAY,
/// refused connection), and calls marked idempotent otherwise.
public final class WireClient: @unchecked Sendable {
    // @unchecked: `connections` is a Mutex; configuration is immutable.
    public let configuration: WireClientConfiguration
    private let connections: Mutex<[ClientConnection?]>
    private let nextSlot = Atomic<Int>(0)

    public init(configuration: WireClientConfiguration) {
        precondition(!configuration.addresses.isEmpty, "a WireClient needs at least one address")
        self.configuration = configuration
        let slots = configuration.addresses.count * max(1, configuration.connectionsPerAddress)
        self.connections = Mutex([ClientConnection?](repeating: nil, count: slots))
    }

    deinit {
        close()
    }

    /// Closes every connection; calls in flight fail with UNAVAILABLE.
    public func close() {
        let all = connections.withLock { slots -> [ClientConnection] in
            defer { for index in slots.indices { slots[index] = nil } }
            return slots.compactMap { $0 }
        }
        for connection in all { connection.shutdown() }
    }

    /// Calls `method` and waits (blocking this thread) for the typed response.
    public func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as: Response.Type = Response.self,
        timeout: Duration? = nil, metadata: [String: String] = [:], idempotent: Bool = false
    ) throws(RPCError) -> Response {
        let bytes = try unary(method, payload: request.serializedBytes(), timeout: timeout, metadata: metadata, idempotent: idempotent)
        return try Self.decode(bytes, method: method)
    }

    /// Calls `method` without blocking a thread of the cooperative pool.
    public func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as: Response.Type = Response.self,
        timeout: Duration? = nil, metadata: [String: String] = [:], idempotent: Bool = false
    ) async throws(RPCError) -> Response {
        let deadline = Deadline.after(micros: (timeout ?? configuration.defaultTimeout).microseconds)
        let payload = request.serializedBytes()
        var attempt = 0
        while true {
            attempt += 1
            let outcome: CallOutcome = await withCheckedContinuation { continuation in
                startAttempt(method, payload: payload, metadata: metadata, deadline: deadline) {
                    continuation.resume(returning: $0)
                }
            }
            switch try nextStep(outcome, attempt: attempt, deadline: deadline, idempotent: idempotent) {
            case .done(let bytes): return try Self.decode(bytes, method: method)
            case .retryAfter(let micros): try? await Task.sleep(for: .microseconds(micros))
            }
        }
    }

    /// Calls `method` with raw bytes and waits (blocking this thread).
    public func unary(
        _ method: String, payload: [UInt8], timeout: Duration? = nil,
        metadata: [String: String] = [:], idempotent: Bool = false
    ) throws(RPCError) -> [UInt8] {
        let deadline = Deadline.after(micros: (timeout ?? configuration.defaultTimeout).microseconds)
        var attempt = 0
        while true {
            attempt += 1
            let outcome = waitForAttempt(method, payload: payload, metadata: metadata, deadline: deadline)
            switch try nextStep(outcome, attempt: attempt, deadline: deadline, idempotent: idempotent) {
            case .done(let bytes): return bytes
            case .retryAfter(let micros): usleep(UInt32(micros))
            }
        }
    }

    /// Round-trip time of a PING on a connection to the next address.
    public func ping(timeout: Duration = .seconds(1)) throws(RPCError) -> Duration {
        let connection = try connection()
        let started = Deadline.now()
        guard connection.ping(deadline: .after(micros: timeout.microseconds)) else {
            throw RPCError(.deadlineExceeded, "no PONG from \(connection.address)")
        }
        return .nanoseconds(Int64(Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds))
    }

    // MARK: Internals

    private enum Step {
        case done([UInt8])
        case retryAfter(Int64)
    }

    private func nextStep(_ outcome: CallOutcome, attempt: Int, deadline: Deadline, idempotent: Bool) throws(RPCError) -> Step {
        switch outcome.result {
        case .success(let bytes):
            return .done(bytes)
        case .failure(let error):
            let retryable = error.code == .unavailable && (idempotent || outcome.notProcessed)
            guard retryable, attempt < configuration.maxAttempts else { throw error }
            // Exponential backoff with full jitter, never past the deadline.
            let backoff = Int64.random(in: 0...(5_000 << min(attempt, 6)))
            guard deadline.remainingMicros > backoff + 1_000 else { throw error }
            return .retryAfter(backoff)
        }
    }

    /// One attempt on the calling thread, which reads its own response when no one else is reading.
    private func waitForAttempt(_ method: String, payload: [UInt8], metadata: [String: String], deadline: Deadline) -> CallOutcome {
        switch prepareAttempt(metadata: metadata, deadline: deadline) {
        case .failed(let outcome):
            return outcome
        case .ready(let connection, let entries):
            return connection.call(method: method, payload: payload, metadata: entries, deadline: deadline)
        }
    }

    private func startAttempt(
        _ method: String, payload: [UInt8], metadata: [String: String], deadline: Deadline,
        complete: @escaping @Sendable (CallOutcome) -> Void
    ) {
        switch prepareAttempt(metadata: metadata, deadline: deadline) {
        case .failed(let outcome):
            complete(outcome)
        case .ready(let connection, let entries):
            connection.start(method: method, payload: payload, metadata: entries, deadline: deadline, complete: complete)
        }
    }

    private enum Attempt {
        case ready(ClientConnection, [WireV1.Metadata])
        case failed(CallOutcome)
    }

    /// The connection and metadata of an attempt, or why it cannot start.
    private func prepareAttempt(metadata: [String: String], deadline: Deadline) -> Attempt {
        guard !deadline.isExpired else {
            return .failed(CallOutcome(result: .failure(RPCError(.deadlineExceeded, "deadline exceeded before sending")), notProcessed: true))
        }
        let connection: ClientConnection
        do {
            connection = try self.connection()
        } catch {
            return .failed(CallOutcome(result: .failure(error), notProcessed: true))
        }
        var entries = metadata.map { WireV1.Metadata(key: $0.key.lowercased(), value: $0.value) }
        if let credential = configuration.credential, metadata[MetadataKey.authorization] == nil {
            entries.append(WireV1.Metadata(key: MetadataKey.authorization, value: "Bearer \(credential)"))
        }
        return .ready(connection, entries)
    }

    /// A usable connection for the next slot in round-robin order, dialling when needed.
    private func connection() throws(RPCError) -> ClientConnection {
        let slotCount = connections.withLock { $0.count }
        var lastError = RPCError(.unavailable, "no address reachable")
        // Start at the next slot in round-robin order, then try every other slot
        // once (a local walk: other threads advancing the counter must not make
        // this call visit the same dead address twice).
        let start = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        for offset in 0..<slotCount {
            let slot = (start + offset) % slotCount
            if let existing = connections.withLock({ $0[slot] }), existing.isUsable {
                return existing
            }
            let address = configuration.addresses[slot % configuration.addresses.count]
            do {
                let fresh = try ClientConnection(
                    address: address, connectTimeout: configuration.connectTimeout, maxFrameSize: configuration.maxFrameSize
                )
                // Another thread may have dialled this slot meanwhile: keep its
                // connection (it may already carry calls) and drop ours unused.
                let (chosen, unused, retired) = connections.withLock { slots -> (ClientConnection, ClientConnection?, ClientConnection?) in
                    if let current = slots[slot], current.isUsable { return (current, fresh, nil) }
                    defer { slots[slot] = fresh }
                    return (fresh, nil, slots[slot])
                }
                unused?.shutdown()
                // A retired connection (GOAWAY, failure) closes itself once its calls are answered.
                if let retired, retired.inFlight == 0 { retired.shutdown() }
                return chosen
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func decode<Response: ProtoMessage>(_ bytes: [UInt8], method: String) throws(RPCError) -> Response {
        do throws(ProtoDecodingError) {
            return try Response(serializedBytes: bytes)
        } catch {
            throw RPCError(.internal, "\(method) answered with a malformed \(error.messageName) message")
        }
    }
}
