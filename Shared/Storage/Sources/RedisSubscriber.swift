import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Redis connection in subscribed mode (RESP2 `SUBSCRIBE`), read without
/// blocking past a deadline.
///
/// Not thread-safe: one owner thread. Unlike ``RedisConnection`` it does not
/// heal itself: after any error it is unusable (``isBroken``) and the owner
/// opens a new one, because messages may have been lost in between and the
/// owner must know.
public final class RedisSubscriber {
    /// What arrived on the subscription.
    public enum Event: Sendable, Hashable {
        /// A published message.
        case message(channel: String, payload: [UInt8])
        /// The answer to ``ping()``: everything published before it has been read.
        case pong
    }

    private let connection: RedisConnection
    private var broken = false

    /// Connects (with `AUTH`, as ``RedisConnection`` does), names the
    /// connection `name` (`CLIENT SETNAME`, seen in `CLIENT LIST`) when given,
    /// and subscribes to `channels`, waiting for every confirmation before `deadline`.
    ///
    /// - Throws: `RedisError` (`.connectionFailed`, `.timeout`, `.unexpectedReply`).
    public init(
        configuration: RedisConnection.Configuration, channels: [String], name: String? = nil, deadline: Deadline
    ) throws(RedisError) {
        guard !channels.isEmpty else { throw RedisError(kind: .invalidUsage, message: "SUBSCRIBE needs a channel") }
        connection = try RedisConnection(configuration: configuration, deadline: deadline)
        if let name {
            try connection.command(["CLIENT", "SETNAME", name], deadline: deadline).throwingServerError()
        }
        try send(RedisCommand(["SUBSCRIBE"] + channels))
        for channel in channels {
            guard let reply = try nextReply(deadline: deadline) else {
                throw RedisError(kind: .timeout, message: "Redis did not confirm SUBSCRIBE \(channel) in time")
            }
            guard case .array(let parts) = reply, parts.count == 3, parts[0] == .bytes(Array("subscribe".utf8)) else {
                broken = true
                throw RedisError(kind: .unexpectedReply, message: "SUBSCRIBE answered \(reply)")
            }
        }
    }

    /// True once a call failed: the subscription may have lost messages.
    public var isBroken: Bool { broken || connection.needsReconnect }

    /// Sends a `PING`; its ``Event/pong`` comes after every message published before Redis ran it.
    public func ping() throws(RedisError) {
        try send(["PING"])
    }

    /// The next event, or nil when none arrived before `deadline` (a
    /// deadline already past returns what has arrived, without waiting).
    ///
    /// - Throws: `RedisError` when the connection failed or sent something
    ///   that is not a subscription event; the subscriber is then broken.
    public func next(deadline: Deadline) throws(RedisError) -> Event? {
        guard let reply = try nextReply(deadline: deadline) else { return nil }
        if case .array(let parts) = reply, parts.count == 3, case .bytes(let kind) = parts[0],
            kind == Array("message".utf8), case .bytes(let channel) = parts[1], case .bytes(let payload) = parts[2]
        {
            return .message(channel: String(decoding: channel, as: UTF8.self), payload: payload)
        }
        // In subscribed mode RESP2 answers PING with ["pong", ""].
        if case .array(let parts) = reply, parts.count == 2, parts[0] == .bytes(Array("pong".utf8)) {
            return .pong
        }
        broken = true
        throw RedisError(kind: .unexpectedReply, message: "the subscription received \(reply)")
    }

    private func send(_ command: RedisCommand) throws(RedisError) {
        guard !isBroken, let context = connection.context else {
            throw RedisError(kind: .connectionBroken, message: "the subscription is broken")
        }
        let status = command.withArgv { argc, argv, argvlen in redisAppendCommandArgv(context, argc, argv, argvlen) }
        guard status == REDIS_OK else { throw fail(context) }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw fail(context) }
        }
    }

    /// A reply already buffered, or the next one read before `deadline`; nil on timeout.
    private func nextReply(deadline: Deadline) throws(RedisError) -> RedisReply? {
        guard !isBroken, let context = connection.context else {
            throw RedisError(kind: .connectionBroken, message: "the subscription is broken")
        }
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw fail(context) }
            if let raw {
                defer { freeReplyObject(raw) }
                return RedisConnection.copy(raw.assumingMemoryBound(to: redisReply.self))
            }
            // A deadline already past still takes what the socket holds now.
            let outcome = deadline.isExpired
                ? (socketIsReadableNow(context.pointee.fd) ? .ready : .timedOut)
                : waitForSocket(context.pointee.fd, events: Int16(POLLIN), deadline: deadline)
            switch outcome {
            case .ready:
                guard redisBufferRead(context) == REDIS_OK else { throw fail(context) }
            case .timedOut:
                return nil
            case .failed(let code):
                broken = true
                throw RedisError(kind: .connectionBroken, message: "waiting on the subscription failed: \(errnoDescription(code))")
            }
        }
    }

    private func fail(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        broken = true
        return connection.failure(of: context)
    }
}
