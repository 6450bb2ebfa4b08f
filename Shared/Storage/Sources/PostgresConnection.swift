import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One PostgreSQL session (one libpq `PGconn`).
///
/// **Not thread-safe, by design.** libpq allows one thread at a time per `PGconn`, and so does
/// this class: a connection has one owner thread at a time. Share connections between threads
/// through `PostgresPool`, which hands each one to a single caller at a time. Every call blocks
/// the calling thread, so call it from dedicated worker threads, never from Swift's cooperative
/// pool (`async` code).
///
/// Every call takes a `Deadline`. Statements are sent with libpq's asynchronous API and the
/// socket is polled with the time left; when it runs out the running statement is cancelled
/// (`PQcancel`) and the call throws `.timeout`. If the server confirms the cancellation
/// promptly the connection stays usable (an open transaction is then aborted, as after any
/// error); otherwise it is marked broken.
///
/// Results use PostgreSQL's text format (see `PostgresRows`); parameters are sent as text too
/// (see `PostgresValue`). `query(_:_:deadline:)` prepares each distinct SQL text once per
/// connection and reuses the prepared statement afterwards.
///
/// Sessions start with `TimeZone=UTC` and `DateStyle=ISO` (unless the URL's `options` says
/// otherwise) so timestamps parse the same everywhere.
public final class PostgresConnection {
    /// The libpq connection. Owned exclusively; freed once with `PQfinish` in `deinit`.
    let handle: OpaquePointer
    /// SQL text → name of the statement prepared for it on this session.
    var cachedStatements: [String: String] = [:]
    var nextStatementNumber = 0
    /// Set when the session can no longer be trusted (protocol out of sync, I/O failure).
    var markedBroken = false

    /// The most distinct SQL texts `query(_:_:deadline:)` prepares per connection; beyond
    /// this, statements run unprepared so that generated SQL cannot grow server memory unbounded.
    public static let statementCacheCapacity = 256

    /// How long to wait for the server to confirm a cancellation after a deadline passed
    /// before giving the connection up as broken.
    static let cancelGracePeriodMillis: Int64 = 500

    /// Opens a connection, waiting at most `timeout`.
    ///
    /// - Parameters:
    ///   - url: A libpq connection URI (`postgresql://user:pass@host:port/db?sslmode=disable`)
    ///     or key=value string.
    ///   - timeout: Bound on DNS, TCP connect, TLS and authentication together.
    ///   - applicationName: Shown in `pg_stat_activity` unless the URL names one.
    public static func connect(
        url: String, timeout: Duration = .seconds(5), applicationName: String? = nil
    ) throws(PostgresError) -> PostgresConnection {
        try PostgresConnection(url: url, deadline: .after(timeout), applicationName: applicationName)
    }

    /// Opens a connection that must be established before `deadline`.
    ///
    /// - Throws: `PostgresError` of kind `.connectionFailed` or `.timeout`.
    /// - Parameter settings: server settings for this session (`-c name=value`
    ///   at connect), e.g. `["plan_cache_mode": "force_generic_plan"]`; a setting
    ///   given in the URL's `options` wins.
    public init(
        url: String, deadline: Deadline, applicationName: String? = nil, settings: [String: String] = [:]
    ) throws(PostgresError) {
        handle = try Self.open(url: url, deadline: deadline, applicationName: applicationName, settings: settings)
    }

    deinit {
        PQfinish(handle)
    }

    // MARK: - State

    /// Whether the connection is unusable (lost, or out of sync after a failure); a pool replaces it.
    public var isBroken: Bool {
        markedBroken || PQstatus(handle) != CONNECTION_OK
    }

    /// Whether a transaction block is open (also when it is aborted and awaits ROLLBACK).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server's version number, e.g. `150018` for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    // MARK: - Statements

    /// Runs one statement, preparing it on first use on this connection and reusing the
    /// prepared statement afterwards (faster: the server parses and plans it once).
    ///
    /// - Parameters:
    ///   - sql: One statement with `$1`, `$2`… placeholders.
    ///   - parameters: Values for the placeholders; `nil` is SQL NULL.
    ///   - deadline: When to give up; the running statement is cancelled then.
    /// - Returns: The rows, or an empty result with `affectedRows` for commands.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [PostgresValue?] = [], deadline: Deadline = .distantFuture
    ) throws(PostgresError) -> PostgresRows {
        if let name = cachedStatements[sql] {
            return try execute(prepared: name, parameters, deadline: deadline)
        }
        guard cachedStatements.count < Self.statementCacheCapacity else {
            return try queryUnprepared(sql, parameters, deadline: deadline)
        }
        // A number is never reused, even when preparing fails: after a cancelled Parse we
        // cannot know whether the server kept the name.
        let name = "__o4o_s\(nextStatementNumber)"
        nextStatementNumber += 1
        try prepare(name: name, sql: sql, deadline: deadline)
        cachedStatements[sql] = name
        return try execute(prepared: name, parameters, deadline: deadline)
    }

    /// Prepares `sql` under `name` on this connection (names starting `__o4o_` are reserved).
    ///
    /// Prepared statements belong to the session and survive transaction rollbacks.
    public func prepare(name: String, sql: String, deadline: Deadline = .distantFuture) throws(PostgresError) {
        try roundTrip(deadline: deadline) { handle in
            PQsendPrepare(handle, name, sql, 0, nil)
        }
    }

    /// Runs the statement prepared under `name` with `parameters`.
    @discardableResult
    public func execute(
        prepared name: String, _ parameters: [PostgresValue?] = [], deadline: Deadline = .distantFuture
    ) throws(PostgresError) -> PostgresRows {
        try withParameterPointers(parameters) { (count, values) throws(PostgresError) in
            try roundTrip(deadline: deadline) { handle in
                PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
            }
        }
    }

    /// Runs one statement without preparing it (parsed and planned on every call).
    ///
    /// For statements run once, e.g. DDL built at runtime.
    @discardableResult
    public func queryUnprepared(
        _ sql: String, _ parameters: [PostgresValue?] = [], deadline: Deadline = .distantFuture
    ) throws(PostgresError) -> PostgresRows {
        try withParameterPointers(parameters) { (count, values) throws(PostgresError) in
            try roundTrip(deadline: deadline) { handle in
                PQsendQueryParams(handle, sql, count, nil, values, nil, nil, 0)
            }
        }
    }

    /// Runs a script of one or more `;`-separated statements with the simple query protocol
    /// (no parameters). Returns the last statement's result; stops at the first error.
    ///
    /// Outside an explicit transaction the server runs the whole script as one implicit
    /// transaction. Used for migrations and utility commands (`CREATE DATABASE`).
    @discardableResult
    public func simpleQuery(_ sql: String, deadline: Deadline = .distantFuture) throws(PostgresError) -> PostgresRows {
        try roundTrip(deadline: deadline) { handle in
            PQsendQuery(handle, sql)
        }
    }

    // MARK: - Pool support

    /// Cheap check before an idle connection is reused: picks up a server-side close
    /// (e.g. `pg_terminate_backend`, server restart) without a round trip.
    func isHealthyWhileIdle() -> Bool {
        guard !isBroken else { return false }
        if socketIsReadableNow(PQsocket(handle)) {
            // Either a notice/parameter update or EOF; consuming it updates PQstatus.
            guard PQconsumeInput(handle) == 1 else { return false }
        }
        return !isBroken
    }

    /// Makes the session clean for its next user: rolls back a transaction left open.
    /// Returns whether it may be reused.
    func resetForReuse() -> Bool {
        guard !isBroken else { return false }
        if isInTransaction {
            do {
                try simpleQuery("ROLLBACK", deadline: .after(milliseconds: Self.cancelGracePeriodMillis))
            } catch {
                return false
            }
        }
        return !isBroken
    }

    /// Marks the connection broken so that its pool discards it.
    func markBroken() { markedBroken = true }

    // MARK: - Connecting

    private static func open(
        url: String, deadline: Deadline, applicationName: String?, settings: [String: String]
    ) throws(PostgresError) -> OpaquePointer {
        // `options` comes before the expanded `dbname` so that an `options` in the URL wins.
        var keywords = ["options"]
        let extra = settings.sorted { $0.key < $1.key }.map { " -c \($0.key)=\($0.value)" }.joined()
        var values = ["-c TimeZone=UTC -c DateStyle=ISO,MDY" + extra]
        if let applicationName {
            keywords.append("fallback_application_name")
            values.append(applicationName)
        }
        keywords.append("dbname")
        values.append(url)
        let started = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectStartParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection = started else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection")
        }
        do throws(PostgresError) {
            try finishConnecting(connection, deadline: deadline)
            // Non-blocking mode lets every send be bounded by a deadline as well.
            guard PQsetnonblocking(connection, 1) == 0 else {
                throw PostgresError(kind: .connectionFailed, message: errorMessage(of: connection))
            }
            return connection
        } catch {
            // libpq requires PQfinish even after a failed attempt.
            PQfinish(connection)
            throw error
        }
    }

    private static func finishConnecting(_ connection: OpaquePointer, deadline: Deadline) throws(PostgresError) {
        guard PQstatus(connection) != CONNECTION_BAD else {
            throw PostgresError(kind: .connectionFailed, message: errorMessage(of: connection))
        }
        var status = PGRES_POLLING_WRITING
        while true {
            let events: Int16
            switch status {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_FAILED:
                throw PostgresError(kind: .connectionFailed, message: errorMessage(of: connection))
            case PGRES_POLLING_READING:
                events = Int16(POLLIN)
            default:
                events = Int16(POLLOUT)
            }
            // The socket can change between attempts (several hosts, SSL retry): ask each time.
            switch waitForSocket(PQsocket(connection), events: events, deadline: deadline) {
            case .ready:
                status = PQconnectPoll(connection)
            case .timedOut:
                throw PostgresError(kind: .timeout, message: "connecting to PostgreSQL did not finish before the deadline")
            case .failed(let code):
                throw PostgresError(kind: .connectionFailed, message: "poll() failed while connecting: \(errnoDescription(code))")
            }
        }
    }

    // MARK: - One request and its results

    /// Sends one request with `send` and collects every result it produces.
    @discardableResult
    private func roundTrip(
        deadline: Deadline, send: (OpaquePointer) -> Int32
    ) throws(PostgresError) -> PostgresRows {
        guard !isBroken else {
            throw PostgresError(kind: .connectionBroken, message: "the connection is broken: \(Self.errorMessage(of: handle))")
        }
        guard !deadline.isExpired else {
            throw PostgresError(kind: .timeout, message: "the deadline passed before the statement was sent")
        }
        guard send(handle) == 1 else {
            throw connectionFailure(fallbackKind: .invalidUsage)
        }
        try flush(deadline: deadline)
        return try collectResults(deadline: deadline)
    }

    /// Pushes queued output to the server within the deadline (non-blocking mode).
    func flush(deadline: Deadline) throws(PostgresError) {
        while true {
            let result = PQflush(handle)
            if result == 0 { return }
            if result < 0 { throw connectionFailure(fallbackKind: .connectionBroken) }
            switch waitForSocket(PQsocket(handle), events: Int16(POLLIN | POLLOUT), deadline: deadline) {
            case .ready:
                // libpq must read while it writes, or a server blocked on its own output deadlocks us.
                guard PQconsumeInput(handle) == 1 else { throw connectionFailure(fallbackKind: .connectionBroken) }
            case .timedOut:
                // Half a message is on the wire: the protocol stream cannot be resumed.
                markedBroken = true
                throw PostgresError(kind: .timeout, message: "sending the statement did not finish before the deadline")
            case .failed(let code):
                markedBroken = true
                throw PostgresError(kind: .connectionBroken, message: "poll() failed: \(errnoDescription(code))")
            }
        }
    }

    private func collectResults(deadline: Deadline) throws(PostgresError) -> PostgresRows {
        var rows = PostgresRows.empty
        var firstError: PostgresError?
        while true {
            try waitUntilResultReady(deadline: deadline)
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            switch status {
            case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
                rows = Self.copyRows(of: result)
            case PGRES_COMMAND_OK:
                rows = PostgresRows(columns: [], cells: [], rowCount: 0, affectedRows: Self.affectedRows(of: result))
            case PGRES_EMPTY_QUERY:
                rows = .empty
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
                // A script stops at its first error; later results (if any) only repeat the abort.
                if firstError == nil { firstError = serverError(from: result) }
            default:
                // COPY and pipeline states are never requested by this API; the stream is unusable.
                markedBroken = true
                let name = String(cString: PQresStatus(status))
                throw PostgresError(kind: .invalidUsage, message: "unsupported result status \(name) (COPY is not supported)")
            }
        }
        if let firstError { throw firstError }
        return rows
    }

    /// Reads from the socket until a complete result is buffered, within the deadline.
    func waitUntilResultReady(deadline: Deadline) throws(PostgresError) {
        // A result already buffered needs no read: results of a pipeline or a
        // multi-result query usually arrive in one packet, and asking the socket
        // again would cost a failed recv() per result.
        if PQisBusy(handle) == 0 { return }
        while true {
            guard PQconsumeInput(handle) == 1 else { throw connectionFailure(fallbackKind: .connectionBroken) }
            if PQisBusy(handle) == 0 { return }
            switch waitForSocket(PQsocket(handle), events: Int16(POLLIN), deadline: deadline) {
            case .ready:
                continue
            case .timedOut:
                cancelRunningStatement()
                throw PostgresError(
                    kind: .timeout,
                    code: PostgresError.SQLState.queryCanceled,
                    message: "the statement did not finish before the deadline and was cancelled"
                )
            case .failed(let code):
                markedBroken = true
                throw PostgresError(kind: .connectionBroken, message: "poll() failed: \(errnoDescription(code))")
            }
        }
    }

    /// Asks the server to cancel the running statement, then discards its results so the
    /// connection is in sync again. Marks the connection broken if that does not happen within
    /// `cancelGracePeriodMillis`.
    private func cancelRunningStatement() {
        guard let cancel = PQgetCancel(handle) else {
            markedBroken = true
            return
        }
        // PQcancel opens a new TCP connection and blocks without a timeout; run it on its own
        // thread so an unreachable server cannot hold the caller beyond the grace period.
        CancelRequest(cancel).sendInBackground()
        let grace = Deadline.after(milliseconds: Self.cancelGracePeriodMillis)
        while true {
            guard PQconsumeInput(handle) == 1 else {
                markedBroken = true
                return
            }
            if PQisBusy(handle) != 0 {
                guard waitForSocket(PQsocket(handle), events: Int16(POLLIN), deadline: grace) == .ready else {
                    markedBroken = true
                    return
                }
                continue
            }
            guard let result = PQgetResult(handle) else { return }
            PQclear(result)
        }
    }

    // MARK: - Helpers

    /// The error for a failed libpq call; `.connectionBroken` if the session is gone.
    private func connectionFailure(fallbackKind: PostgresError.Kind) -> PostgresError {
        let message = Self.errorMessage(of: handle)
        if PQstatus(handle) != CONNECTION_OK || fallbackKind == .connectionBroken {
            markedBroken = true
            return PostgresError(kind: .connectionBroken, message: message)
        }
        return PostgresError(kind: fallbackKind, message: message)
    }

    func serverError(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        // Errors libpq generates itself (lost connection, protocol trouble) carry no SQLSTATE.
        let lost = PQstatus(handle) != CONNECTION_OK || sqlState == nil
        if lost { markedBroken = true }
        return PostgresError(
            kind: lost ? .connectionBroken : .server,
            code: sqlState,
            message: field("M") ?? Self.trimmed(String(cString: PQresultErrorMessage(result))),
            detail: field("D"),
            constraint: field("n"),
            table: field("t"),
            column: field("c")
        )
    }

    static func copyRows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "?column?")
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                    cells.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return PostgresRows(columns: columns, cells: cells, rowCount: rowCount, affectedRows: affectedRows(of: result))
    }

    static func affectedRows(of result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    static func errorMessage(of connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown libpq error" }
        let text = trimmed(String(cString: message))
        return text.isEmpty ? "unknown libpq error" : text
    }

    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }

    /// Lays the parameters out as NUL-terminated texts in one buffer and passes libpq the
    /// pointer array (`nil` entries are SQL NULL).
    func withParameterPointers<T>(
        _ parameters: [PostgresValue?],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) throws(PostgresError) -> T
    ) throws(PostgresError) -> T {
        guard parameters.count <= Int(Int16.max) else {
            throw PostgresError(kind: .invalidUsage, message: "\(parameters.count) parameters exceed PostgreSQL's limit of 32767")
        }
        var buffer: [UInt8] = []
        var offsets: [Int?] = []
        offsets.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                offsets.append(nil)
                continue
            }
            let text = parameter.textRepresentation.utf8
            guard !text.contains(0) else {
                throw PostgresError(kind: .invalidUsage, message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot hold")
            }
            offsets.append(buffer.count)
            buffer.append(contentsOf: text)
            buffer.append(0)
        }
        return try buffer.withUnsafeBufferPointer { (bytes) throws(PostgresError) -> T in
            let base = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.flatMap { base?.advanced(by: $0) }
            }
            return try pointers.withUnsafeBufferPointer { (pointerBuffer) throws(PostgresError) -> T in
                try body(Int32(parameters.count), pointerBuffer.baseAddress)
            }
        }
    }
}

/// A libpq cancel request sent from a short-lived thread of its own.
///
/// `PQcancel` is documented as safe to call from any thread; it owns its `PGcancel` and
/// frees it after sending, so the connection it came from may be freed meanwhile.
private struct CancelRequest: @unchecked Sendable {
    // @unchecked Sendable: the PGcancel is handed over to exactly one thread, which is the
    // only one ever to use and free it.
    let cancel: OpaquePointer

    init(_ cancel: OpaquePointer) { self.cancel = cancel }

    func sendInBackground() {
        let box = Unmanaged.passRetained(CancelBox(cancel))
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let box = Unmanaged<CancelBox>.fromOpaque(argument).takeRetainedValue()
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(box.cancel, &message, Int32(message.count))
            PQfreeCancel(box.cancel)
            return nil
        }, box.toOpaque())
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No thread: cancel inline rather than leak the request.
            let box = box.takeRetainedValue()
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(box.cancel, &message, Int32(message.count))
            PQfreeCancel(box.cancel)
        }
    }
}

private final class CancelBox {
    let cancel: OpaquePointer
    init(_ cancel: OpaquePointer) { self.cancel = cancel }
}

/// Calls `body` with a NULL-terminated array of C strings (libpq's keyword/value arrays).
private func withCStringArray<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
