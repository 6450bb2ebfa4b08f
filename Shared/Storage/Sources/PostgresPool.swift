public import Logging

/// A fixed-size set of PostgreSQL connections shared by many threads.
///
/// Blocking by design: `withConnection` runs on the caller's thread and waits (bounded by the
/// deadline) for a free connection. Call it from dedicated worker threads, never from Swift's
/// cooperative pool. Connections are opened lazily, checked before reuse, and replaced when
/// they break; a transaction left open by a caller is rolled back before the next one.
public final class PostgresPool: Sendable {
    /// How a pool opens its connections.
    public struct Configuration: Sendable {
        /// The libpq connection URL.
        public var url: String
        /// The most connections the pool keeps open.
        public var size: Int
        /// Bound on opening one connection (also bounded by the caller's deadline).
        public var connectTimeout: Duration
        /// Shown in `pg_stat_activity`.
        public var applicationName: String?
        /// Server settings for every session of the pool (see `PostgresConnection.init`).
        public var settings: [String: String]

        /// Creates a configuration.
        public init(
            url: String, size: Int = 8, connectTimeout: Duration = .seconds(5), applicationName: String? = nil,
            settings: [String: String] = [:]
        ) {
            self.url = url
            self.size = size
            self.connectTimeout = connectTimeout
            self.applicationName = applicationName
            self.settings = settings
        }
    }

    private let configuration: Configuration
    private let pool: BlockingPool<PostgresConnection, PostgresError>
    private let logger: Logger

    /// Creates a pool; no connection is opened until one is needed.
    public init(configuration: Configuration, logger: Logger) {
        precondition(configuration.size > 0, "PostgresPool size must be at least 1")
        self.configuration = configuration
        self.logger = logger
        pool = BlockingPool(
            capacity: configuration.size,
            open: { (deadline) throws(PostgresError) -> PostgresConnection in
                do throws(PostgresError) {
                    return try PostgresConnection(
                        url: configuration.url,
                        deadline: min(deadline, .after(configuration.connectTimeout)),
                        applicationName: configuration.applicationName,
                        settings: configuration.settings
                    )
                } catch {
                    logger.warning("postgres.connect.failed", metadata: ["error": "\(error)"])
                    throw error
                }
            },
            validate: { $0.isHealthyWhileIdle() },
            timedOutError: {
                PostgresError(kind: .timeout, message: "no PostgreSQL connection became free before the deadline (pool size \(configuration.size))")
            },
            closedError: { PostgresError(kind: .poolClosed, message: "the PostgreSQL pool is closed") }
        )
    }

    /// Runs `body` with a connection owned by the calling thread for the duration of the call.
    ///
    /// Do not keep the connection after `body` returns. If `body` leaves a transaction open it
    /// is rolled back; if the connection broke it is discarded and replaced on a later call.
    ///
    /// - Parameter deadline: Bounds waiting for a free connection and opening a new one; pass
    ///   the same deadline to the statements inside `body`.
    /// - Throws: `PostgresError` (`.timeout`, `.connectionFailed`, `.poolClosed`) or what `body` throws.
    @discardableResult
    public func withConnection<T>(
        deadline: Deadline = .distantFuture, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let connection = try pool.lease(deadline: deadline)
        defer {
            let reusable = connection.resetForReuse()
            if !reusable { logger.debug("postgres.connection.discarded") }
            pool.release(connection, reusable: reusable)
        }
        return try body(connection)
    }

    /// Whether PostgreSQL answers `SELECT 1` within `timeout`, for readiness probes.
    ///
    /// Uses an idle pooled connection when there is one; otherwise opens a separate short-lived
    /// connection, so that a pool busy with real work does not read as "unreachable".
    public func isReachable(timeout: Duration = .seconds(1)) -> Bool {
        let deadline = Deadline.after(timeout)
        if let connection = pool.leaseIdle() {
            let reachable = (try? connection.query("SELECT 1", deadline: deadline)) != nil
            pool.release(connection, reusable: connection.resetForReuse())
            if reachable { return true }
        }
        do {
            let probe = try PostgresConnection(url: configuration.url, deadline: deadline, applicationName: configuration.applicationName)
            try probe.simpleQuery("SELECT 1", deadline: deadline)
            return true
        } catch {
            return false
        }
    }

    /// Closes idle connections now and in-use ones when they are returned; later calls throw `.poolClosed`.
    public func close() {
        pool.close()
    }

    /// Connections currently open or being opened (for metrics and tests).
    public var connectionCount: Int { pool.connectionCount }
}
