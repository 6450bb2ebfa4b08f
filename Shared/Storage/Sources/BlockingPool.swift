/// A fixed-capacity set of lazily opened connections shared by blocking worker threads.
///
/// The engine behind `PostgresPool` and `RedisPool`. Connections are opened on demand (never
/// more than `capacity`), handed out one thread at a time, validated before reuse and
/// discarded when their owner reports them broken, which frees the slot for a new one.
/// Waiting for a free slot is bounded by the caller's deadline. Idle connections are reused
/// last-in first-out so the warmest connection serves the next call.
final class BlockingPool<Connection: AnyObject, Failure: Error>: @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is read and written only while holding
    // `lock`; a `Connection` is reachable from exactly one thread at a time (either it sits in
    // `idle` under the lock or it has been leased to one caller).
    private let lock = ConditionLock()
    private let capacity: Int
    private let open: (Deadline) throws(Failure) -> Connection
    private let validate: (Connection) -> Bool
    private let timedOutError: () -> Failure
    private let closedError: () -> Failure

    private var idle: [Connection] = []
    /// Connections that exist or are being opened: idle + leased + opening.
    private var openCount = 0
    private var isClosed = false

    /// - Parameters:
    ///   - capacity: The most connections that may exist at once.
    ///   - open: Opens a new connection within the deadline.
    ///   - validate: Cheap check run before an idle connection is reused; `false` discards it.
    ///   - timedOutError: The error thrown when no connection frees up before the deadline.
    ///   - closedError: The error thrown after `close()`.
    init(
        capacity: Int,
        open: @escaping (Deadline) throws(Failure) -> Connection,
        validate: @escaping (Connection) -> Bool,
        timedOutError: @escaping () -> Failure,
        closedError: @escaping () -> Failure
    ) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
        self.open = open
        self.validate = validate
        self.timedOutError = timedOutError
        self.closedError = closedError
    }

    private enum Lease {
        case reuse(Connection)
        case openNew
    }

    /// Takes a connection for the calling thread; give it back with `release(_:reusable:)`.
    func lease(deadline: Deadline) throws(Failure) -> Connection {
        let lease = try lock.withLock { () throws(Failure) -> Lease in
            while true {
                if isClosed { throw closedError() }
                if let connection = idle.popLast() { return .reuse(connection) }
                if openCount < capacity {
                    openCount += 1
                    return .openNew
                }
                if deadline.isExpired { throw timedOutError() }
                _ = lock.wait(until: deadline)
            }
        }
        if case .reuse(let connection) = lease, validate(connection) {
            return connection
        }
        // Either a fresh slot or a stale connection whose slot we now reuse; the stale one is
        // released (and its C handle freed) outside the lock when `lease` goes out of scope.
        do {
            return try open(deadline)
        } catch {
            lock.withLock {
                openCount -= 1
                lock.signal()
            }
            throw error
        }
    }

    /// Gives a leased connection back; a connection that is not `reusable` is discarded.
    func release(_ connection: Connection, reusable: Bool) {
        let discarded: Connection? = lock.withLock {
            defer { lock.signal() }
            if isClosed || !reusable {
                openCount -= 1
                return connection
            }
            idle.append(connection)
            return nil
        }
        // Freeing a C handle may do I/O (a terminate message); do it without holding the lock.
        _ = discarded
    }

    /// Returns an idle connection without waiting or opening one, or `nil`.
    func leaseIdle() -> Connection? {
        lock.withLock {
            guard !isClosed else { return nil }
            return idle.popLast()
        }
    }

    /// Closes idle connections now and leased ones when they come back; later leases fail.
    func close() {
        let closing: [Connection] = lock.withLock {
            isClosed = true
            let closing = idle
            openCount -= idle.count
            idle.removeAll()
            lock.broadcast()
            return closing
        }
        _ = closing
    }

    /// Connections that currently exist (idle, leased or being opened).
    var connectionCount: Int { lock.withLock { openCount } }

    /// Connections waiting in the pool right now.
    var idleCount: Int { lock.withLock { idle.count } }
}
