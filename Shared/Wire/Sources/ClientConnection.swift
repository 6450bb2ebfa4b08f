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

/// One client connection: the caller's thread writes requests; a reader thread
/// reads responses, matches them to waiting calls by call id, and expires calls
/// whose deadline passed (sending CANCEL).
final class ClientConnection: @unchecked Sendable {
    // @unchecked: the socket is written and closed under `socketLock`; `state` is a Mutex;
    // the decoder is reader-thread only.
    let address: String
    private let fd: Int32
    /// Guards writes and the closing of `fd`: a closed descriptor number can be
    /// reused at once by another socket, so no write may race the close.
    private let socketLock = Mutex(false)

    private struct Waiter {
        let deadline: Deadline
        let complete: @Sendable (CallOutcome) -> Void
    }

    private struct State {
        var nextCallID: UInt64 = 1
        var waiters: [UInt64: Waiter] = [:]
        var pings: [UInt64: @Sendable (Bool) -> Void] = [:]
        var goAwayLastCallID: UInt64?
        var closed = false
    }

    private let state = Mutex(State())

    /// Connects, sends the preface and starts the reader thread.
    init(address: String, connectTimeout: Duration, maxFrameSize: Int) throws(RPCError) {
        self.address = address
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw RPCError(.invalidArgument, "address \"\(address)\" is not host:port")
        }
        let fd: Int32
        do {
            fd = try Self.connect(host: String(parts[0]), port: port, timeout: connectTimeout)
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(address): \(error)")
        }
        self.fd = fd
        var preface = WirePreface.bytes
        guard (try? Self.writeAll(fd, &preface)) != nil else {
            Glibc.close(fd)
            throw RPCError(.unavailable, "cannot write preface to \(address)")
        }
        startThread(name: "wire-client-rd") { [self] in readLoop(maxFrameSize: maxFrameSize) }
    }

    /// False once the connection failed, closed, or received GOAWAY: new calls go elsewhere.
    var isUsable: Bool { state.withLock { !$0.closed && $0.goAwayLastCallID == nil } }

    var inFlight: Int { state.withLock { $0.waiters.count } }

    /// Sends one request; `complete` is called exactly once, from the reader thread or the caller's.
    func start(
        method: String, payload: [UInt8], metadata: [WireV1.Metadata], deadline: Deadline,
        complete: @escaping @Sendable (CallOutcome) -> Void
    ) {
        let callID = state.withLock { state -> UInt64? in
            guard !state.closed, state.goAwayLastCallID == nil else { return nil }
            let id = state.nextCallID
            state.nextCallID += 1
            state.waiters[id] = Waiter(deadline: deadline, complete: complete)
            return id
        }
        guard let callID else {
            complete(CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) is closing")), notProcessed: true))
            return
        }
        let remaining = deadline.remainingMicros
        let frame = WireV1.Frame(
            kind: .request, callId: callID, method: method,
            timeoutMicros: UInt64(max(1, remaining)), metadata: metadata, payload: payload
        )
        var bytes = FrameEncoder.encode(frame)
        let written = socketLock.withLock { fdClosed in !fdClosed && (try? Self.writeAll(fd, &bytes)) != nil }
        if !written {
            // The request never left: take it out, close the connection so a
            // retry cannot pick it again, then report it as not processed.
            let waiter = state.withLock { $0.waiters.removeValue(forKey: callID) }
            shutdown()
            waiter?.complete(CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) failed while sending")), notProcessed: true))
        }
    }

    /// Sends a PING and waits for the PONG.
    func ping(deadline: Deadline) -> Bool {
        let signal = ConditionLock()
        let answered = Mutex<Bool?>(nil)
        let id = state.withLock { state -> UInt64 in
            let id = state.nextCallID
            state.nextCallID += 1
            state.pings[id] = { ok in
                signal.withLock {
                    answered.withLock { $0 = ok }
                    signal.signal()
                }
            }
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
        _ = state.withLock { $0.pings.removeValue(forKey: id) }
        return answered.withLock { $0 } ?? false
    }

    /// Closes the socket; pending calls fail with UNAVAILABLE.
    func shutdown() {
        let (transitioned, waiters, lastAccepted) = state.withLock { state -> (Bool, [UInt64: Waiter], UInt64?) in
            guard !state.closed else { return (false, [:], nil) }
            state.closed = true
            defer { state.waiters.removeAll() }
            return (true, state.waiters, state.goAwayLastCallID)
        }
        if transitioned {
            socketLock.withLock { fdClosed in
                if !fdClosed { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }
        }
        for (callID, waiter) in waiters {
            // After a GOAWAY, calls above its last call id were never run.
            let notProcessed = lastAccepted.map { callID > $0 } ?? false
            waiter.complete(CallOutcome(result: .failure(RPCError(.unavailable, "connection to \(address) closed")), notProcessed: notProcessed))
        }
    }

    // MARK: Reader thread

    private func readLoop(maxFrameSize: Int) {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var prefaceChecked = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer {
            buffer.deallocate()
            shutdown()
            socketLock.withLock { fdClosed in
                fdClosed = true
                Glibc.close(fd)
            }
        }
        while true {
            if state.withLock({ $0.closed }) { return }
            expireOverdueCalls()
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, Int32(pollInterval()))
            if ready == 0 { continue }
            if ready < 0 { if errno == EINTR { continue } else { return } }
            let result: IOResult
            do {
                result = try Socket.read(fd, into: buffer)
            } catch {
                return
            }
            guard case .processed(let count) = result else {
                if result == .wouldBlock { continue }
                return
            }
            decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if !prefaceChecked {
                switch WirePreface.check(decoder.pendingBytes) {
                case .incomplete: continue
                case .accepted:
                    _ = decoder.consume(WirePreface.bytes.count)
                    prefaceChecked = true
                default: return
                }
            }
            do {
                while let frame = try decoder.nextFrame() {
                    dispatch(frame)
                }
            } catch {
                return
            }
            if state.withLock({ $0.goAwayLastCallID != nil && $0.waiters.isEmpty }) { return }
        }
    }

    private func dispatch(_ frame: WireV1.Frame) {
        switch frame.kind {
        case .response:
            let waiter = state.withLock { $0.waiters.removeValue(forKey: frame.callId) }
            guard let waiter else { return }
            let code = StatusCode(wireValue: frame.statusCode)
            if code == .ok {
                waiter.complete(CallOutcome(result: .success(frame.payload), notProcessed: false))
            } else {
                // UNAVAILABLE from a draining server means it never ran the call.
                let notProcessed = code == .unavailable && frame.statusMessage.contains("draining")
                waiter.complete(CallOutcome(result: .failure(RPCError(code, frame.statusMessage)), notProcessed: notProcessed))
            }
        case .pong:
            guard frame.payload.count == 8 else { return }
            let id = frame.payload.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
            let ping = state.withLock { $0.pings.removeValue(forKey: id) }
            ping?(true)
        case .ping:
            var bytes = FrameEncoder.encode(WireV1.Frame(kind: .pong, payload: frame.payload))
            writeIfOpen(&bytes)
        case .goaway:
            let abandoned = state.withLock { state -> [Waiter] in
                state.goAwayLastCallID = frame.lastCallId
                let late = state.waiters.filter { $0.key > frame.lastCallId }
                for id in late.keys { state.waiters.removeValue(forKey: id) }
                return Array(late.values)
            }
            for waiter in abandoned {
                waiter.complete(CallOutcome(
                    result: .failure(RPCError(.unavailable, "server sent GOAWAY (\(frame.reason)) before this call")),
                    notProcessed: true
                ))
            }
        case .request, .cancel, .unspecified:
            shutdown()
        }
    }

    private func expireOverdueCalls() {
        let now = Deadline.now()
        let overdue = state.withLock { state -> [(UInt64, Waiter)] in
            let expired = state.waiters.filter { $0.value.deadline <= now }
            for id in expired.keys { state.waiters.removeValue(forKey: id) }
            return expired.map { ($0.key, $0.value) }
        }
        for (callID, waiter) in overdue {
            var bytes = FrameEncoder.encode(WireV1.Frame(kind: .cancel, callId: callID))
            writeIfOpen(&bytes)
            waiter.complete(CallOutcome(result: .failure(RPCError(.deadlineExceeded, "deadline exceeded waiting for \(address)")), notProcessed: false))
        }
    }

    /// Milliseconds until the nearest deadline, between 1 and 100.
    private func pollInterval() -> Int {
        let nearest = state.withLock { $0.waiters.values.map(\.deadline).min() }
        guard let nearest else { return 100 }
        return Int(min(100, max(1, (nearest.remainingMicros + 999) / 1000)))
    }

    private func fail(_ callID: UInt64, _ error: RPCError, notProcessed: Bool) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: callID) }
        waiter?.complete(CallOutcome(result: .failure(error), notProcessed: notProcessed))
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
