import CHiredis
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Redis connection (one hiredis `redisContext`), blocking, RESP2.
///
/// **Not thread-safe, by design**: hiredis contexts are not, so a connection has one owner
/// thread at a time. Share connections through `RedisPool`. Every call blocks the calling
/// thread; call it from worker threads, never from Swift's cooperative pool.
///
/// A hiredis context that saw an I/O or protocol error is unusable. This class then drops it
/// and opens a fresh one on the next call (re-applying `AUTH`, `SELECT` and the socket
/// timeout, which do not survive a new socket). The failed call itself is not retried: the
/// command may have run. Before each call an idle connection is checked for a server-side
/// close (`CLIENT KILL`, `timeout`, restart) so that a stale socket is replaced *before* a
/// command is sent on it.
public final class RedisConnection {
    /// Where and how to connect.
    public struct Configuration: Sendable, Hashable {
        /// Host name or IP address.
        public var host: String
        /// TCP port.
        public var port: Int
        /// Redis 6 ACL user name, if any.
        public var username: String?
        /// Password for `AUTH`, if any.
        public var password: String?
        /// Database index for `SELECT`.
        public var database: Int
        /// Bound on opening a connection.
        public var connectTimeout: Duration
        /// Bound on each command's reply when the caller's deadline is later (or absent).
        public var commandTimeout: Duration

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
            database: Int = 0, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(2)
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
        }

        /// Reads `redis://[[user]:password@]host[:port][/database]`.
        ///
        /// - Throws: `RedisError` of kind `.invalidUsage` naming what is wrong with the URL.
        public init(url: String, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(2)) throws(RedisError) {
            guard let components = URLComponents(string: url), components.scheme == "redis" else {
                throw RedisError(kind: .invalidUsage, message: "REDIS URL \"\(url)\" is not of the form redis://host:port/db")
            }
            var database = 0
            let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if !path.isEmpty {
                guard let index = Int(path), index >= 0 else {
                    throw RedisError(kind: .invalidUsage, message: "REDIS URL database \"\(path)\" is not a non-negative integer")
                }
                database = index
            }
            let username = components.user.flatMap { $0.isEmpty ? nil : $0 }
            self.init(
                host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
                port: components.port ?? 6379,
                username: username,
                password: components.password,
                database: database,
                connectTimeout: connectTimeout,
                commandTimeout: commandTimeout
            )
        }
    }

    /// The live context, or `nil` after a failure until the next call reconnects.
    /// Each context this class creates is freed exactly once, by `disconnect()` or `deinit`.
    private(set) var context: UnsafeMutablePointer<redisContext>?
    /// The receive/send timeout currently set on the socket, to skip redundant setsockopt calls.
    private var appliedTimeoutMicros: Int64 = -1
    /// The configuration this connection was opened with.
    public let configuration: Configuration

    /// Opens a connection (and authenticates and selects the database) before `deadline`.
    ///
    /// - Throws: `RedisError` of kind `.connectionFailed` or `.timeout`.
    public init(configuration: Configuration, deadline: Deadline = .distantFuture) throws(RedisError) {
        self.configuration = configuration
        try reconnect(deadline: deadline)
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Whether the next call must first reconnect (the last one failed on the connection).
    public var needsReconnect: Bool {
        guard let context else { return true }
        return context.pointee.err != 0
    }

    // MARK: - Commands

    /// Sends one command (`redisCommandArgv`, binary safe) and waits for its reply.
    ///
    /// Error replies (`WRONGTYPE`, ...) are returned as `.error`, not thrown: they concern this
    /// command only. Use `RedisReply.throwingServerError()` to turn them into errors.
    ///
    /// - Parameter deadline: Bounds the wait for the reply (together with `commandTimeout`).
    /// - Throws: `RedisError` (`.timeout`, `.connectionBroken`, `.connectionFailed`).
    @discardableResult
    public func command(_ command: RedisCommand, deadline: Deadline = .distantFuture) throws(RedisError) -> RedisReply {
        guard command.count > 0 else {
            throw RedisError(kind: .invalidUsage, message: "a Redis command needs at least its name")
        }
        let context = try prepareForCall(deadline: deadline)
        let raw = command.withArgv { argc, argv, argvlen in
            redisCommandArgv(context, argc, argv, argvlen)
        }
        guard let raw else { throw failure(of: context) }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Sends one command given as text arguments, e.g. `["GET", key]`.
    @discardableResult
    public func command(_ arguments: [String], deadline: Deadline = .distantFuture) throws(RedisError) -> RedisReply {
        try command(RedisCommand(arguments), deadline: deadline)
    }

    /// Sends several commands in one write and reads their replies in order (pipelining).
    ///
    /// Not atomic: other clients' commands may interleave (wrap in `MULTI`/`EXEC` if needed).
    /// If the connection fails midway the whole call throws and the replies already read are
    /// lost; some of the commands may have run.
    public func pipeline(_ commands: [RedisCommand], deadline: Deadline = .distantFuture) throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        guard commands.allSatisfy({ $0.count > 0 }) else {
            throw RedisError(kind: .invalidUsage, message: "a Redis command needs at least its name")
        }
        let context = try prepareForCall(deadline: deadline)
        for command in commands {
            let status = command.withArgv { argc, argv, argvlen in
                redisAppendCommandArgv(context, argc, argv, argvlen)
            }
            guard status == REDIS_OK else { throw failure(of: context) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure(of: context) }
            replies.append(Self.copy(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Runs a Lua script by digest (`EVALSHA`), resending its source with `EVAL` if the server
    /// answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`).
    ///
    /// The script's own error replies are returned as `.error`.
    @discardableResult
    public func evaluate(
        _ script: RedisScript, keys: [String] = [], arguments: [String] = [], deadline: Deadline = .distantFuture
    ) throws(RedisError) -> RedisReply {
        let reply = try command(["EVALSHA", script.sha1, String(keys.count)] + keys + arguments, deadline: deadline)
        guard let message = reply.errorMessage, message.hasPrefix("NOSCRIPT") else { return reply }
        return try command(["EVAL", script.source, String(keys.count)] + keys + arguments, deadline: deadline)
    }

    // MARK: - Connection management

    /// Makes sure a healthy context exists and its socket timeout fits the deadline.
    private func prepareForCall(deadline: Deadline) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let context, context.pointee.err == 0, !socketIsReadableNow(context.pointee.fd) {
            try applyTimeout(to: context, deadline: deadline)
            return context
        }
        // Failed before, or the server closed/poked an idle socket: start afresh.
        try reconnect(deadline: deadline)
        guard let context else {
            throw RedisError(kind: .connectionFailed, message: "no Redis connection after reconnecting")
        }
        try applyTimeout(to: context, deadline: deadline)
        return context
    }

    /// Replaces the context with a newly opened, authenticated one.
    private func reconnect(deadline: Deadline) throws(RedisError) {
        disconnect()
        let budget = min(deadline, .after(configuration.connectTimeout))
        let micros = budget.remainingMicros
        guard micros > 0 else {
            throw RedisError(kind: .timeout, message: "the deadline passed before connecting to Redis")
        }
        let timeout = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        guard let context = redisConnectWithTimeout(configuration.host, Int32(clamping: configuration.port), timeout) else {
            throw RedisError(kind: .connectionFailed, message: "hiredis could not allocate a context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(of: context)
            redisFree(context)
            throw RedisError(
                kind: .connectionFailed,
                message: "connecting to Redis at \(configuration.host):\(configuration.port) failed: \(message)"
            )
        }
        self.context = context
        appliedTimeoutMicros = -1
        do throws(RedisError) {
            if let password = configuration.password {
                let arguments = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                try command(RedisCommand(arguments), on: context, deadline: budget).throwingServerError()
            }
            if configuration.database != 0 {
                try command(["SELECT", String(configuration.database)], on: context, deadline: budget).throwingServerError()
            }
        } catch {
            disconnect()
            throw RedisError(kind: .connectionFailed, message: "setting up the Redis connection failed: \(error.message)")
        }
    }

    /// A command on a context still being set up (skips the health check that would recurse).
    private func command(_ command: RedisCommand, on context: UnsafeMutablePointer<redisContext>, deadline: Deadline) throws(RedisError) -> RedisReply {
        try applyTimeout(to: context, deadline: deadline)
        let raw = command.withArgv { argc, argv, argvlen in redisCommandArgv(context, argc, argv, argvlen) }
        guard let raw else { throw failure(of: context) }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func disconnect() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    /// Sets the socket's send/receive timeout to what is left of the call's budget.
    private func applyTimeout(to context: UnsafeMutablePointer<redisContext>, deadline: Deadline) throws(RedisError) {
        let budget = min(deadline, .after(configuration.commandTimeout))
        // Millisecond granularity: finer changes are not worth a setsockopt pair per command.
        let micros = (budget.remainingMicros / 1000) * 1000
        guard micros > 0 else {
            throw RedisError(kind: .timeout, message: "the deadline passed before the Redis command was sent")
        }
        guard micros != appliedTimeoutMicros else { return }
        // Note: a zero timeval would mean "no timeout"; `micros > 0` rules it out.
        let timeout = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        guard redisSetTimeout(context, timeout) == REDIS_OK else {
            let message = Self.errorText(of: context)
            disconnect()
            throw RedisError(kind: .connectionBroken, message: "setting the Redis socket timeout failed: \(message)")
        }
        appliedTimeoutMicros = micros
    }

    /// The error for a failed hiredis call; the context is dropped and replaced on next use.
    func failure(of context: UnsafeMutablePointer<redisContext>) -> RedisError {
        // hiredis reports a socket timeout as an I/O error with errno EAGAIN.
        let code = errno
        let ioError = context.pointee.err == REDIS_ERR_IO
        let message = Self.errorText(of: context)
        disconnect()
        if ioError && (code == EAGAIN || code == EWOULDBLOCK) {
            return RedisError(kind: .timeout, message: "no reply from Redis before the deadline")
        }
        return RedisError(kind: .connectionBroken, message: "the Redis connection failed: \(message)")
    }

    private static func errorText(of context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix(while: { $0 != 0 })
            return bytes.isEmpty ? "unknown hiredis error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Copies a hiredis reply tree into Swift values (the caller frees the tree once).
    static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func text() -> [UInt8] {
            guard let string = value.str, value.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: string, count: Int(value.len)))
        }
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bytes(text())
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element?[index] {
                    elements.append(copy(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }
}
