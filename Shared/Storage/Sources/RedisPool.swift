public import Logging

/// A fixed-size set of Redis connections shared by many threads.
///
/// Blocking by design, like `PostgresPool`: `withConnection` waits (bounded by the deadline)
/// for a free connection on the caller's thread. Connections open lazily and heal themselves
/// (see `RedisConnection`); a connection that failed its last call is replaced.
public final class RedisPool: Sendable {
    /// Where its connections go.
    public let configuration: RedisConnection.Configuration
    private let pool: BlockingPool<RedisConnection, RedisError>
    private let size: Int

    /// Creates a pool of at most `size` connections; none is opened until needed.
    public init(configuration: RedisConnection.Configuration, size: Int = 8, logger: Logger) {
        precondition(size > 0, "RedisPool size must be at least 1")
        self.configuration = configuration
        self.size = size
        pool = BlockingPool(
            capacity: size,
            open: { (deadline) throws(RedisError) -> RedisConnection in
                do throws(RedisError) {
                    return try RedisConnection(configuration: configuration, deadline: deadline)
                } catch {
                    logger.warning("redis.connect.failed", metadata: ["error": "\(error)"])
                    throw error
                }
            },
            // An idle connection that failed is reopened by its next call; keep it.
            validate: { _ in true },
            timedOutError: {
                RedisError(kind: .timeout, message: "no Redis connection became free before the deadline (pool size \(size))")
            },
            closedError: { RedisError(kind: .poolClosed, message: "the Redis pool is closed") }
        )
    }

    /// Runs `body` with a connection owned by the calling thread for the duration of the call.
    ///
    /// - Parameter deadline: Bounds waiting for a free connection and opening one; pass it on
    ///   to the commands inside `body`.
    /// - Throws: `RedisError` (`.timeout`, `.connectionFailed`, `.poolClosed`) or what `body` throws.
    @discardableResult
    public func withConnection<T>(
        deadline: Deadline = .distantFuture, _ body: (RedisConnection) throws -> T
    ) throws -> T {
        let connection = try pool.lease(deadline: deadline)
        defer { pool.release(connection, reusable: true) }
        return try body(connection)
    }

    /// Whether Redis answers `PING` within `timeout`, for readiness probes.
    ///
    /// Uses an idle pooled connection when there is one, otherwise a separate short-lived one,
    /// so that a pool busy with real work does not read as "unreachable".
    public func isReachable(timeout: Duration = .seconds(1)) -> Bool {
        let deadline = Deadline.after(timeout)
        if let connection = pool.leaseIdle() {
            defer { pool.release(connection, reusable: true) }
            if (try? connection.command(["PING"], deadline: deadline)) == .status("PONG") { return true }
        }
        guard let probe = try? RedisConnection(configuration: configuration, deadline: deadline) else { return false }
        return (try? probe.command(["PING"], deadline: deadline)) == .status("PONG")
    }

    /// Closes idle connections now and in-use ones when they are returned; later calls throw `.poolClosed`.
    public func close() {
        pool.close()
    }

    /// Connections currently open or being opened (for metrics and tests).
    public var connectionCount: Int { pool.connectionCount }
}
