import Storage
import CWireSystem
import Glibc
import Proto
import Synchronization

/// How a call attempt ended, with whether the server certainly never processed
/// it (so any call, idempotent or not, may be retried elsewhere).
struct CallOutcome: Sendable {
    var result: Result<[UInt8], RPCError>
    var notProcessed: Bool
}

/// One client connection. Callers write requests from their own threads;
/// responses are read by whoever holds the reading role:
/// - a blocking caller waiting for its reply takes the role itself and reads its
///   own response (and any other that arrives), so a blocking call costs no
///   thread hand-off between the socket and the caller;
/// - the connection's helper thread takes it when calls are waiting that no
///   blocking caller will read for (async calls, PINGs), and briefly every 100 ms
///   to notice a GOAWAY or a close on an idle connection.
/// Whoever reads matches responses to calls by call id. Only the helper thread
/// closes the descriptor, and only holding the role, so no read or write ever
/// touches a descriptor number that has been reused.
final class ClientConnection: @unchecked Sendable {
    // @unchecked: the socket is written and closed under `socketLock`; `state` is
    // guarded by `lock`; `decoder`, `prefaceChecked` and `readBuffer` belong to
    // the holder of the reading role (`State.readerBusy`), handed over under `lock`.
    let address: String
    private let fd: Int32
    /// Guards writes and the closing of `fd`: a closed descriptor number can be
    /// reused at once by another socket, so no write may race the close.
    private let socketLock = Mutex(false)

    private struct Waiter {
        let deadline: Deadline
        /// nil for a blocking caller, whose outcome goes to `State.outcomes`.
        let complete: (@Sendable (CallOutcome) -> Void)?
    }

    private struct State {
        var nextCallID: UInt64 = 1
        var waiters: [UInt64: Waiter] = [:]
        /// Outcomes waiting for their blocking caller to pick them up.
        var outcomes: [UInt64: CallOutcome] = [:]
        var pings: [UInt64: @Sendable (Bool) -> Void] = [:]
        var goAwayLastCallID: UInt64?
        var closed = false
        /// Someone holds the reading role.
        var readerBusy = false
        /// Waiters no blocking caller reads for (async calls).
        var detachedWaiters = 0
        /// Blocking callers asleep on the condition (waiting for the reading
        /// role or for an outcome another thread reads).
        var sleepingCallers = 0

        /// Whether anybody but the helper's idle check waits on the condition:
        /// a lone blocking caller that reads its own responses then wakes nobody
        /// (a broadcast to the idle helper would cost a futex wake and a
        /// context switch per call).
        var someoneWaits: Bool { sleepingCallers > 0 || detachedWaiters > 0 || !pings.isEmpty }
    }

    /// Guards `state`; its condition wakes blocking callers (outcome ready or
    /// reading role free) and the helper thread (work for it, or closing).
    private let lock = ConditionLock()
    private var state = State()

    // Reading role only.
    private var decoder: FrameDecoder
    private var prefaceChecked = false
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    /// Connects, sends the preface and starts the helper thread.
    init(address: String, connectTimeout: Duration, maxFrameSize: Int) throws(RPCError) {
        self.address = address
        self.decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
            readBuffer.deallocate()
            throw RPCError(.invalidArgument, "address \"\(address)\" is not host:port")
        }
        let fd: Int32
        do {
            fd = try Self.connect(host: String(parts[0]), port: port, timeout: connectTimeout)
        } catch {
            readBuffer.deallocate()
            throw RPCError(.unavailable, "cannot connect to \(address): \(error)")
        }
        self.fd = fd
        var preface = WirePreface.bytes
        guard (try? Self.writeAll(fd, &preface)) != nil else {
            Glibc.close(fd)
            readBuffer.deallocate()
            throw RPCError(.unavailable, "cannot write preface to \(address)")
        }
        startThread(name: "wire-client-rd") { [self] in helperLoop() }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// False once the connection failed, closed, or received GOAWAY: new calls go elsewhere.
    var isUsable: Bool { lock.withLock { !state.closed && state.goAwayLastCallID == nil } }

    var inFlight: Int { lock.withLock { state.waiters.count } }

    /// Sends one request; `complete` is called exactly once, from the thread
    /// that reads the response, the helper thread, or the caller's.
    func start(
        method: String, payload: [UInt8], metadata: [WireV1.Metadata], deadline: Deadline,
        complete: @escaping @Sendable (CallOutcome) -> Void
    ) {
        guard let callID = register(deadline: deadline, complete: complete) else {
            complete(CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) is closing")), notProcessed: true))
            return
        }
        send(callID: callID, method: method, payload: payload, metadata: metadata, deadline: deadline)
    }

    /// Sends one request and blocks the calling thread until its outcome,
    /// reading the response itself whenever no one else is reading.
    func call(method: String, payload: [UInt8], metadata: [WireV1.Metadata], deadline: Deadline) -> CallOutcome {
        guard let callID = register(deadline: deadline, complete: nil) else {
            return CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) is closing")), notProcessed: true)
        }
        send(callID: callID, method: method, payload: payload, metadata: metadata, deadline: deadline)
        lock.lock()
        while true {
            if let outcome = state.outcomes.removeValue(forKey: callID) {
                lock.unlock()
                return outcome
            }
            if state.waiters[callID] == nil {
                // Completed through no outcome: cannot happen; fail safe rather than hang.
                lock.unlock()
                return CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) lost the call")), notProcessed: false)
            }
            if deadline.isExpired {
                state.waiters.removeValue(forKey: callID)
                lock.unlock()
                sendCancel(callID)
                return CallOutcome(result: .failure(RPCError(.deadlineExceeded, "deadline exceeded waiting for \(address)")), notProcessed: false)
            }
            if !state.readerBusy && !state.closed {
                state.readerBusy = true
                lock.unlock()
                readTurn(timeoutMillis: Self.millis(until: deadline))
                lock.lock()
                state.readerBusy = false
                if state.someoneWaits { lock.broadcast() }
                continue
            }
            state.sleepingCallers += 1
            _ = lock.wait(until: deadline)
            state.sleepingCallers -= 1
        }
    }

    /// Sends a PING and waits for the PONG (read by the helper thread).
    func ping(deadline: Deadline) -> Bool {
        let signal = ConditionLock()
        let answered = Mutex<Bool?>(nil)
        let id = lock.withLock { () -> UInt64 in
            let id = state.nextCallID
            state.nextCallID += 1
            state.pings[id] = { ok in
                signal.withLock {
                    answered.withLock { $0 = ok }
                    signal.signal()
                }
            }
            lock.broadcast()
            return id
        }
        var payload = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: id.bigEndian) { payload = Array($0) }
        var bytes = FrameEncoder.encode(WireV1.Frame(kind: .ping, payload: payload))
        writeIfOpen(&bytes)
        signal.lock()
        defer { signal.unlock() }
        while answered.withLock({ $0 }) == nil {
            if !signal.wait(until: deadline) { break }
        }
        _ = lock.withLock { state.pings.removeValue(forKey: id) }
        return answered.withLock { $0 } ?? false
    }

    /// Closes the socket; pending calls fail with UNAVAILABLE.
    func shutdown() {
        lock.lock()
        guard !state.closed else {
            lock.unlock()
            return
        }
        state.closed = true
        let waiters = state.waiters
        let lastAccepted = state.goAwayLastCallID
        state.waiters.removeAll()
        state.detachedWaiters = 0
        var detached: [(@Sendable (CallOutcome) -> Void, CallOutcome)] = []
        for (callID, waiter) in waiters {
            // After a GOAWAY, calls above its last call id were never run.
            let notProcessed = lastAccepted.map { callID > $0 } ?? false
            let outcome = CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) closed")), notProcessed: notProcessed)
            if let complete = waiter.complete {
                detached.append((complete, outcome))
            } else {
                state.outcomes[callID] = outcome
            }
        }
        lock.broadcast()
        lock.unlock()
        socketLock.withLock { fdClosed in
            if !fdClosed { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
        for (complete, outcome) in detached { complete(outcome) }
    }

    // MARK: Calls

    private func register(deadline: Deadline, complete: (@Sendable (CallOutcome) -> Void)?) -> UInt64? {
        lock.withLock {
            guard !state.closed, state.goAwayLastCallID == nil else { return nil }
            let id = state.nextCallID
            state.nextCallID += 1
            state.waiters[id] = Waiter(deadline: deadline, complete: complete)
            if complete != nil {
                state.detachedWaiters += 1
                // The helper thread reads for this call.
                lock.broadcast()
            }
            return id
        }
    }

    private func send(callID: UInt64, method: String, payload: [UInt8], metadata: [WireV1.Metadata], deadline: Deadline) {
        let frame = WireV1.Frame(
            kind: .request, callId: callID, method: method,
            timeoutMicros: UInt64(max(1, deadline.remainingMicros)), metadata: metadata, payload: payload
        )
        var bytes = FrameEncoder.encode(frame)
        let written = socketLock.withLock { fdClosed in !fdClosed && (try? Self.writeAll(fd, &bytes)) != nil }
        if !written {
            // The request never left: take it out, close the connection so a
            // retry cannot pick it again, then report it as not processed.
            complete(callID, CallOutcome(
                result: .failure(RPCError(.unavailable, "connection to \(address) failed while sending")), notProcessed: true
            ))
            shutdown()
        }
    }

    /// Hands `outcome` to the call's waiter, if it is still waiting.
    private func complete(_ callID: UInt64, _ outcome: CallOutcome) {
        lock.lock()
        guard let waiter = state.waiters.removeValue(forKey: callID) else {
            lock.unlock()
            return
        }
        guard let complete = waiter.complete else {
            state.outcomes[callID] = outcome
            // The caller reading its own response finds it without a wake-up.
            if state.sleepingCallers > 0 { lock.broadcast() }
            lock.unlock()
            return
        }
        state.detachedWaiters -= 1
        lock.unlock()
        complete(outcome)
    }

    // MARK: Reading

    /// Waits up to `timeoutMillis` for the socket, then reads and dispatches
    /// what arrived. Caller holds the reading role.
    private func readTurn(timeoutMillis: Int32) {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pollFD, 1, timeoutMillis)
        if ready <= 0 { return }
        let result: IOResult
        do {
            result = try Socket.read(fd, into: readBuffer)
        } catch {
            shutdown()
            return
        }
        guard case .processed(let count) = result else {
            if result != .wouldBlock { shutdown() }
            return
        }
        decoder.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        if !prefaceChecked {
            switch WirePreface.check(decoder.pendingBytes) {
            case .incomplete: return
            case .accepted:
                _ = decoder.consume(WirePreface.bytes.count)
                prefaceChecked = true
            default:
                shutdown()
                return
            }
        }
        do {
            while let frame = try decoder.nextFrame() {
                dispatch(frame)
            }
        } catch {
            shutdown()
            return
        }
        if lock.withLock({ state.goAwayLastCallID != nil && state.waiters.isEmpty }) { shutdown() }
    }

    private func dispatch(_ frame: WireV1.Frame) {
        switch frame.kind {
        case .response:
            let code = StatusCode(wireValue: frame.statusCode)
            if code == .ok {
                complete(frame.callId, CallOutcome(result: .success(frame.payload), notProcessed: false))
            } else {
                // UNAVAILABLE from a draining server means it never ran the call.
                let notProcessed = code == .unavailable && frame.statusMessage.contains("draining")
                complete(frame.callId, CallOutcome(result: .failure(RPCError(code, frame.statusMessage)), notProcessed: notProcessed))
            }
        case .pong:
            guard frame.payload.count == 8 else { return }
            let id = frame.payload.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
            let ping = lock.withLock { state.pings.removeValue(forKey: id) }
            ping?(true)
        case .ping:
            var bytes = FrameEncoder.encode(WireV1.Frame(kind: .pong, payload: frame.payload))
            writeIfOpen(&bytes)
        case .goaway:
            let late = lock.withLock { () -> [UInt64] in
                state.goAwayLastCallID = frame.lastCallId
                return state.waiters.keys.filter { $0 > frame.lastCallId }
            }
            for callID in late {
                complete(callID, CallOutcome(
                    result: .failure(RPCError(.unavailable, "server sent GOAWAY (\(frame.reason)) before this call")),
                    notProcessed: true
                ))
            }
        case .request, .cancel, .unspecified:
            shutdown()
        }
    }

    // MARK: Helper thread

    /// Reads for async calls and PINGs, expires their deadlines, watches idle
    /// connections, and closes the descriptor once the connection is closed.
    private func helperLoop() {
        var lastIdleCheck = Deadline.now()
        lock.lock()
        while !state.closed {
            let needed = state.detachedWaiters > 0 || !state.pings.isEmpty
            let idleCheckDue = Deadline.now().uptimeNanoseconds - lastIdleCheck.uptimeNanoseconds >= 100_000_000
            if !state.readerBusy && (needed || idleCheckDue) {
                state.readerBusy = true
                let timeout = needed ? pollIntervalLocked() : 0
                lock.unlock()
                lastIdleCheck = .now()
                readTurn(timeoutMillis: timeout)
                expireOverdueCalls()
                lock.lock()
                state.readerBusy = false
                lock.broadcast()
                continue
            }
            _ = lock.wait(until: .after(micros: 100_000))
        }
        // Closed: wait for the role, keep it for good, then close the descriptor.
        while state.readerBusy { _ = lock.wait(until: .after(micros: 10_000)) }
        state.readerBusy = true
        lock.unlock()
        socketLock.withLock { fdClosed in
            fdClosed = true
            Glibc.close(fd)
        }
    }

    /// Fails async calls whose deadline passed, sending CANCEL for each.
    private func expireOverdueCalls() {
        let now = Deadline.now()
        let overdue = lock.withLock {
            state.waiters.filter { $0.value.complete != nil && $0.value.deadline <= now }.map(\.key)
        }
        for callID in overdue {
            sendCancel(callID)
            complete(callID, CallOutcome(result: .failure(RPCError(.deadlineExceeded, "deadline exceeded waiting for \(address)")), notProcessed: false))
        }
    }

    /// Milliseconds until the nearest async deadline, between 1 and 100 (holding `lock`).
    private func pollIntervalLocked() -> Int32 {
        let nearest = state.waiters.values.lazy.filter { $0.complete != nil }.map(\.deadline).min()
        guard let nearest else { return 100 }
        return Self.millis(until: nearest)
    }

    /// Milliseconds until `deadline`, between 1 and 100 (poll slices).
    private static func millis(until deadline: Deadline) -> Int32 {
        Int32(min(100, max(1, (deadline.remainingMicros + 999) / 1000)))
    }

    private func sendCancel(_ callID: UInt64) {
        var bytes = FrameEncoder.encode(WireV1.Frame(kind: .cancel, callId: callID))
        writeIfOpen(&bytes)
    }

    // MARK: Socket helpers

    private func writeIfOpen(_ bytes: inout [UInt8]) {
        socketLock.withLock { fdClosed in
            if !fdClosed { _ = try? Self.writeAll(fd, &bytes) }
        }
    }

    private static func connect(host: String, port: Int, timeout: Duration) throws(SystemCallError) -> Int32 {
        var address = try Socket.address(host: host, port: port)
        let fd = try systemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemCallError) {
            try Socket.setNonBlocking(fd)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if status < 0 {
                guard errno == EINPROGRESS else { throw SystemCallError(call: "connect", errno: errno) }
                var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pollFD, 1, Int32(max(1, timeout.microseconds / 1000)))
                guard ready > 0 else { throw SystemCallError(call: "connect (timeout)", errno: ETIMEDOUT) }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                guard error == 0 else { throw SystemCallError(call: "connect", errno: error) }
            }
            // Dialling a free loopback port from the ephemeral range can connect
            // the socket to itself (TCP simultaneous open); that is a refusal.
            var local = sockaddr_in()
            var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
            }
            if local.sin_port == address.sin_port && local.sin_addr.s_addr == address.sin_addr.s_addr {
                throw SystemCallError(call: "connect (connected to itself)", errno: ECONNREFUSED)
            }
            // Blocking writes from callers; the reader polls before reading.
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
            try Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: inout [UInt8]) throws(SystemCallError) {
        var written = 0
        while written < bytes.count {
            let offset = written
            let attempt = bytes.withUnsafeBytes { raw in
                Result { () throws(SystemCallError) -> IOResult in
                    try Socket.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
            }
            switch try attempt.get() {
            case .processed(let count): written += count
            case .wouldBlock, .endOfFile: throw SystemCallError(call: "send", errno: EPIPE)
            }
        }
    }
}
