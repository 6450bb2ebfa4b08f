import Storage
import CWireSystem
import Glibc
public import Logging
import Metrics
import Proto
import Synchronization

/// How a `WireServer` listens, limits and drains.
public struct WireServerConfiguration: Sendable {
    /// Address to bind; `0.0.0.0` in containers, `127.0.0.1` locally.
    public var host: String = "0.0.0.0"
    /// Port to bind; 0 picks a free one (tests).
    public var port: Int
    /// Largest frame body accepted (default 4 MiB, like gRPC's receive limit).
    public var maxFrameSize: Int = 4 * 1024 * 1024
    /// Threads that run handlers. A slow call holds one; the others keep serving.
    public var workerThreads: Int = 32
    /// Calls waiting for a worker beyond this are refused with RESOURCE_EXHAUSTED.
    public var maxQueuedCalls: Int = 8192
    /// Connections accepted at once; further ones are closed at accept.
    public var maxConnections: Int = 10_000
    /// A connection with no call in flight and no frame for this long is closed (after GOAWAY "idle").
    public var idleTimeout: Duration = .seconds(300)
    /// A connection older than this (±10% jitter) is sent GOAWAY "max_age" so
    /// clients reconnect and load spreads over new instances.
    public var maxConnectionAge: Duration = .seconds(1800)
    /// Deadline applied when a request carries none, and the cap on any requested timeout.
    public var maxCallTimeout: Duration = .seconds(30)
    /// How long `drain` waits for in-flight calls before closing connections anyway.
    public var drainTimeout: Duration = .seconds(20)
    /// When a turn of the event loop reads a single call, from the only
    /// connection read for the last millisecond, and no other call is
    /// running, the leader runs it without first waking a follower to lead
    /// (`WIRE_LONE_CALLS_INLINE`). Saves a thread wake-up per call at low
    /// concurrency. A call arriving meanwhile waits for the running one, at
    /// most about twice `inlineHandOffAfter`: a watchdog ticking at that
    /// period while inline runs happen wakes a follower to lead when it
    /// finds the same call still running at two ticks. Suits services whose
    /// handlers are short (the gate's).
    public var runsLoneCallsInline = false
    /// The watchdog's period: a lone call running inline across a whole
    /// period (so for 1 to 2 periods) hands the lead to a follower.
    public var inlineHandOffAfter: Duration = .microseconds(500)

    public init(port: Int) {
        self.port = port
    }
}

/// The NIO-free server of the wire protocol (PROTOCOL.md), built on the
/// leader/followers pattern: a fixed pool of worker threads takes turns as the
/// leader, the one thread that waits in `epoll_wait`, accepts, reads and decodes.
/// A leader that has read requests hands leadership to an idle follower and runs
/// the first request itself, so a call costs no thread hand-off between the
/// socket read and its handler (the follower's wake-up overlaps the handler).
/// Further requests read in the same turn queue for the other workers.
/// Responses leave in completion order, so calls pipelined on one connection may
/// be answered out of order.
public final class WireServer: @unchecked Sendable {
    // @unchecked: mutable state lives in `state` (a Mutex), in `queue` (guarded by
    // `queueLock`) or in loop-only fields touched solely by the current leader;
    // leadership passes under `queueLock`, which orders those accesses.
    public let configuration: WireServerConfiguration
    private let router: MethodRouter
    private let credentials: CredentialStore
    private let logger: Logger
    private let metrics: WireMetrics
    /// Numbers calls, for request ids the server makes up.
    private let callSequence = Atomic<UInt64>(0)

    private struct State {
        var listenFD: Int32 = -1
        var epollFD: Int32 = -1
        var wakeFD: Int32 = -1
        var boundPort = 0
        var running = false
        var draining = false
        var loopExited = false
        var workersExited = 0
        var watchdogExited = false
    }

    private let state = Mutex(State())
    private let queueLock = ConditionLock()
    // Guarded by `queueLock`.
    private var queue: [PendingCall] = []
    private var queueHead = 0
    private var stopWorkers = false
    /// A worker is the leader (in or around `epoll_wait`).
    private var leaderActive = false
    /// The event loop has ended; no worker leads again.
    private var loopFinished = false
    /// Workers running calls.
    private var busyWorkers = 0
    /// A lone call runs on the worker that read it, and nobody leads.
    private var inlineCallRunning = false
    /// Counts inline runs, so the watchdog tells a long call from a new one.
    private var inlineRuns: UInt64 = 0
    /// The watchdog's timer is disarmed (no inline run during its last period).
    private var watchdogParked = true
    /// The watchdog's periodic timer (-1 when inline runs are off). Armed by
    /// the first inline run after the watchdog parked, not per call:
    /// programming a timer costs ~2.4 µs on this VM (a VM exit).
    private var inlineTimerFD: Int32 = -1

    // Loop-only: touched by the current leader alone.
    private var connections: [Int32: ServerConnection] = [:]
    private var readCalls: [PendingCall] = []
    private var listening = true
    private var drainStarted: Deadline?
    private var lastHousekeeping = Deadline.now()
    /// The connection every read came from lately, and since when (nil: this turn).
    private var soleReadFD: Int32 = -1
    private var soleReadSince: Deadline?
    /// This turn's reads came from one connection, the only one read for a
    /// millisecond or more: a lone call then delays no other client.
    private var oneConnectionActive = false
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    public init(
        configuration: WireServerConfiguration,
        router: MethodRouter,
        credentials: CredentialStore,
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = router
        self.credentials = credentials
        self.logger = logger
        self.metrics = WireMetrics()
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The port actually bound (useful with port 0).
    public var port: Int { state.withLock { $0.boundPort } }

    /// True once `drain` has begun: readiness must fail and new calls get UNAVAILABLE.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Binds, listens and starts the event loop and worker threads.
    public func start() throws(SystemCallError) {
        signal(SIGPIPE, SIG_IGN)
        let listenFD = try systemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            try Socket.setOption(listenFD, SOL_SOCKET, SO_REUSEADDR, 1)
            var address = try Socket.address(host: configuration.host, port: configuration.port)
            _ = try systemCall("bind(\(configuration.host):\(configuration.port))") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            _ = try systemCall("listen") { listen(listenFD, 4096) }
            try Socket.setNonBlocking(listenFD)
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = try systemCall("getsockname") {
                withUnsafeMutablePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) }
                }
            }
            let epollFD = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
            let wakeFD = try systemCall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
            try Self.epollAdd(epollFD, listenFD, events: EPOLLIN.rawValue)
            try Self.epollAdd(epollFD, wakeFD, events: EPOLLIN.rawValue)
            if configuration.runsLoneCallsInline {
                inlineTimerFD = try systemCall("timerfd_create") { cws_timer_create() }
            }
            state.withLock {
                $0.listenFD = listenFD
                $0.epollFD = epollFD
                $0.wakeFD = wakeFD
                $0.boundPort = Int(UInt16(bigEndian: bound.sin_port))
                $0.running = true
            }
        } catch {
            close(listenFD)
            throw error
        }
        if inlineTimerFD >= 0 {
            startThread(name: "wire-inline-watch") { [self] in inlineWatchLoop() }
        }
        for index in 0..<max(1, configuration.workerThreads) {
            startThread(name: "wire-worker-\(index)") { [self] in workerLoop() }
        }
        logger.info("wire server listening", metadata: ["port": "\(port)", "workers": "\(configuration.workerThreads)"])
    }

    /// Graceful shutdown: stop accepting, send GOAWAY on every connection, let
    /// in-flight calls finish (at most `drainTimeout`), then close everything.
    /// Blocks the calling thread until done.
    public func drain() {
        beginDrain()
        let deadline = Deadline.after(micros: configuration.drainTimeout.microseconds)
        while !state.withLock({ $0.loopExited }) && !deadline.isExpired {
            usleep(10_000)
        }
        stop()
    }

    /// Starts the drain without waiting: readiness fails from now on, GOAWAY goes
    /// out on every connection, and the listening socket closes.
    public func beginDrain() {
        let alreadyDraining = state.withLock { state -> Bool in
            defer { state.draining = true }
            return state.draining
        }
        if !alreadyDraining {
            logger.info("wire server draining")
            wakeLoop()
        }
    }

    /// Stops at once: closes every connection and stops the threads.
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.running = false }
            return state.running
        }
        guard wasRunning else { return }
        wakeLoop()
        while !state.withLock({ $0.loopExited }) { usleep(1_000) }
        queueLock.withLock {
            stopWorkers = true
            queueLock.broadcast()
        }
        while state.withLock({ $0.workersExited }) < max(1, configuration.workerThreads) { usleep(1_000) }
        if inlineTimerFD >= 0 {
            // stopWorkers is set: the watchdog leaves at its next expiry.
            _ = cws_timer_arm(inlineTimerFD, 1, 0)
            while !state.withLock({ $0.watchdogExited }) { usleep(1_000) }
            close(inlineTimerFD)
        }
        let (epollFD, wakeFD) = state.withLock { ($0.epollFD, $0.wakeFD) }
        close(epollFD)
        close(wakeFD)
        logger.info("wire server stopped")
    }

    // MARK: Event loop (run by the leader)

    /// One turn of the event loop: waits for events (at most 100 ms), reads and
    /// decodes, and leaves the requests read in `readCalls`. Returns false once
    /// the loop has ended (stopped, or drained) and every connection is closed.
    private func leadOnce() -> Bool {
        let (epollFD, listenFD, wakeFD, running, draining) = state.withLock {
            ($0.epollFD, $0.listenFD, $0.wakeFD, $0.running, $0.draining)
        }
        if !running { return finishLoop(listenFD: listenFD) }
        if draining && drainStarted == nil {
            drainStarted = .now()
            if listening {
                // Connections already in the kernel's backlog were accepted by
                // TCP; take them so they get a GOAWAY rather than a reset.
                acceptConnections(listenFD: listenFD, epollFD: epollFD)
                epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
                close(listenFD)
                listening = false
            }
            for connection in connections.values { connection.sendGoAway(reason: "draining") }
        }
        if let drainStarted, connections.values.allSatisfy({ $0.inFlight == 0 }) {
            // Everything answered: give clients a moment to read, then leave.
            if connections.isEmpty || Deadline.now().uptimeNanoseconds - drainStarted.uptimeNanoseconds > 1_000_000_000 {
                return finishLoop(listenFD: listenFD)
            }
        }

        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, 256, 100) }
        if count < 0 && errno != EINTR {
            logger.error("epoll_wait failed", metadata: ["errno": "\(errno)"])
            return finishLoop(listenFD: listenFD)
        }
        for index in 0..<max(0, Int(count)) {
            let event = events[index]
            let fd = event.data.fd
            if fd == listenFD && listening {
                acceptConnections(listenFD: listenFD, epollFD: epollFD)
            } else if fd == wakeFD {
                var value: UInt64 = 0
                _ = Glibc.read(fd, &value, 8)
            } else if let connection = connections[fd] {
                if event.events & EPOLLOUT.rawValue != 0 { connection.flushPending() }
                if event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue | EPOLLRDHUP.rawValue) != 0 {
                    if fd != soleReadFD {
                        soleReadFD = fd
                        soleReadSince = nil
                    }
                    readFrom(connection, buffer: readBuffer)
                }
            }
        }
        let now = Deadline.now()
        if let since = soleReadSince {
            oneConnectionActive = now.uptimeNanoseconds - since.uptimeNanoseconds >= 1_000_000
        } else {
            soleReadSince = now
            oneConnectionActive = false
        }
        if now.uptimeNanoseconds - lastHousekeeping.uptimeNanoseconds > 200_000_000 {
            lastHousekeeping = now
            housekeeping(now: now)
        }
        closeFinishedConnections()
        return true
    }

    /// Closes the listener and every connection; the loop is over.
    private func finishLoop(listenFD: Int32) -> Bool {
        if listening {
            close(listenFD)
            listening = false
        }
        for connection in connections.values { closeConnection(connection, reason: "server stopped") }
        connections.removeAll()
        metrics.connections.record(0)
        return false
    }

    private func acceptConnections(listenFD: Int32, epollFD: Int32) {
        while true {
            let fd = cws_accept_nonblocking(listenFD)
            if fd < 0 {
                let error = errno
                if error == EINTR || error == ECONNABORTED { continue }
                if error != EAGAIN && error != EWOULDBLOCK {
                    logger.warning("accept failed", metadata: ["errno": "\(error)"])
                }
                return
            }
            guard connections.count < configuration.maxConnections else {
                close(fd)
                logger.warning("connection refused: maxConnections reached")
                continue
            }
            try? Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let jitter = Double.random(in: 0.9...1.1)
            let maxAge = Int64(Double(configuration.maxConnectionAge.microseconds) * jitter)
            let connection = ServerConnection(
                fd: fd, epollFD: epollFD, maxFrameSize: configuration.maxFrameSize,
                closeAfter: .after(micros: maxAge), wake: { [weak self] in self?.wakeLoop() }
            )
            do {
                try Self.epollAdd(epollFD, fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            } catch {
                close(fd)
                continue
            }
            connections[fd] = connection
            connection.send(WirePreface.bytes)
            metrics.connections.record(connections.count)
        }
    }

    private func readFrom(_ connection: ServerConnection, buffer: UnsafeMutableRawBufferPointer) {
        var reads = 0
        while reads < 16 {
            reads += 1
            let result: IOResult
            do {
                result = try Socket.read(connection.fd, into: buffer)
            } catch {
                closeConnection(connection, reason: "read error")
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .endOfFile:
                closeConnection(connection, reason: "peer closed")
                return
            case .processed(let count):
                connection.lastActivity = .now()
                connection.decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if !processBuffered(connection) { return }
                if count < buffer.count { return }
            }
        }
    }

    /// Handles every complete frame buffered on `connection`; false when the connection was closed.
    private func processBuffered(_ connection: ServerConnection) -> Bool {
        if !connection.prefaceReceived {
            switch WirePreface.check(connection.decoder.pendingBytes) {
            case .incomplete:
                return true
            case .accepted:
                _ = connection.decoder.consume(WirePreface.bytes.count)
                connection.prefaceReceived = true
            case .unsupportedVersion(let version):
                connection.sendGoAway(reason: "protocol_error: unsupported protocol version \(version)")
                closeConnection(connection, reason: "unsupported version")
                return false
            case .rejected(let looksLikeHTTP):
                if looksLikeHTTP {
                    let body = "this port speaks the o4o wire protocol (see PROTOCOL.md), not HTTP\n"
                    let response = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                    connection.send(Array(response.utf8))
                }
                closeConnection(connection, reason: "bad preface")
                return false
            }
        }
        while true {
            let frame: WireV1.Frame?
            do {
                frame = try connection.decoder.nextFrame()
            } catch {
                logger.info("closing connection on protocol error", metadata: ["error": "\(error)"])
                connection.sendGoAway(reason: "protocol_error: \(error)")
                closeConnection(connection, reason: "protocol error")
                return false
            }
            guard let frame else { return true }
            handle(frame, on: connection)
        }
    }

    private func handle(_ frame: WireV1.Frame, on connection: ServerConnection) {
        switch frame.kind {
        case .ping:
            connection.sendFrame(WireV1.Frame(kind: .pong, payload: frame.payload))
        case .pong:
            break
        case .cancel:
            connection.cancel(frame.callId)
        case .request:
            receive(frame, on: connection)
        case .response, .goaway, .unspecified:
            connection.sendGoAway(reason: "protocol_error: clients may not send \(frame.kind)")
            closeConnection(connection, reason: "protocol error")
        }
    }

    private func receive(_ frame: WireV1.Frame, on connection: ServerConnection) {
        if connection.goAwaySent {
            connection.respond(callID: frame.callId, status: .unavailable,
                               message: "server is draining or the connection is closing; retry on a new connection")
            return
        }
        connection.noteAccepted(frame.callId)
        readCalls.append(PendingCall(
            connection: connection, frame: frame, receivedAt: .now(), descriptor: router.descriptor(for: frame.method)
        ))
    }

    private func housekeeping(now: Deadline) {
        let idleMicros = configuration.idleTimeout.microseconds
        for connection in connections.values {
            if !connection.prefaceReceived && now.uptimeNanoseconds - connection.createdAt.uptimeNanoseconds > 10_000_000_000 {
                connection.markForClose()
                continue
            }
            let idleFor = Int64((now.uptimeNanoseconds - connection.lastActivity.uptimeNanoseconds) / 1000)
            if connection.inFlight == 0 && idleFor > idleMicros {
                connection.sendGoAway(reason: "idle")
                connection.markForClose()
            } else if !connection.goAwaySent && now >= connection.closeAfter {
                connection.sendGoAway(reason: "max_age")
            }
            // After GOAWAY the client closes once its calls are answered; close
            // ourselves if it does not within a grace period.
            if let sentAt = connection.goAwaySentAt, connection.inFlight == 0,
               now.uptimeNanoseconds - sentAt.uptimeNanoseconds > 2_000_000_000 {
                connection.markForClose()
            }
        }
    }

    private func closeFinishedConnections() {
        for connection in connections.values where connection.shouldClose {
            closeConnection(connection, reason: "closing")
        }
    }

    private func closeConnection(_ connection: ServerConnection, reason: String) {
        guard connections.removeValue(forKey: connection.fd) != nil else { return }
        connection.closeSocket()
        metrics.connections.record(connections.count)
        logger.trace("connection closed", metadata: ["reason": "\(reason)"])
    }

    private func wakeLoop() {
        let wakeFD = state.withLock { $0.wakeFD }
        guard wakeFD >= 0 else { return }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private static func epollAdd(_ epollFD: Int32, _ fd: Int32, events: UInt32) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = try systemCall("epoll_ctl(ADD)") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    // MARK: Workers

    /// A worker runs queued calls; when there are none and nobody leads, it
    /// becomes the leader for one turn of the event loop.
    private func workerLoop() {
        queueLock.lock()
        while true {
            if queueHead < queue.count {
                let work = dequeueWork()
                busyWorkers += 1
                queueLock.unlock()
                perform(work)
                queueLock.lock()
                busyWorkers -= 1
                continue
            }
            if stopWorkers { break }
            if !leaderActive && !loopFinished {
                leaderActive = true
                queueLock.unlock()
                let loopGoesOn = leadOnce()
                let calls = readCalls
                readCalls.removeAll(keepingCapacity: true)
                if !loopGoesOn { state.withLock { $0.loopExited = true } }
                queueLock.lock()
                leaderActive = false
                if !loopGoesOn { loopFinished = true }
                let refused = enqueue(calls)
                // This worker runs the oldest queued work itself; one follower
                // becomes the next leader, and more wake when further work waits
                // (woken after the unlock, so they do not sleep again on the mutex).
                let work = queueHead < queue.count ? dequeueWork() : []
                let waiting = queue.count - queueHead
                let wake: Wake
                if waiting > 0 {
                    wake = .all
                } else if loopFinished {
                    wake = .one
                } else if work.isEmpty {
                    wake = .none
                } else {
                    // A lone call from the only active connection while nothing
                    // else runs: with inline runs on, this worker leads again
                    // once it is answered. With several clients active the
                    // follower's wake-up overlaps the call, as before.
                    let lone = busyWorkers == 0 && calls.count == 1 && oneConnectionActive
                    wake = configuration.runsLoneCallsInline && lone ? .none : .one
                }
                let inline = wake == .none && !work.isEmpty
                if !work.isEmpty { busyWorkers += 1 }
                var armWatchdog = false
                if inline {
                    inlineCallRunning = true
                    inlineRuns &+= 1
                    armWatchdog = watchdogParked
                    watchdogParked = false
                }
                queueLock.unlock()
                if armWatchdog {
                    let period = configuration.inlineHandOffAfter.microseconds
                    _ = cws_timer_arm(inlineTimerFD, period, period)
                }
                switch wake {
                case .all: queueLock.broadcast()
                case .one: queueLock.signal()
                case .none: break
                }
                for call in refused { refuse(call) }
                perform(work)
                queueLock.lock()
                inlineCallRunning = false
                if !work.isEmpty { busyWorkers -= 1 }
                continue
            }
            _ = queueLock.wait(until: .distantFuture)
        }
        queueLock.unlock()
        state.withLock { $0.workersExited += 1 }
    }

    /// The watchdog of inline runs, ticking every `inlineHandOffAfter` while
    /// they happen: when the same lone call is still running at two ticks, it
    /// wakes a follower, which finds nobody leading and leads, so calls on
    /// other connections are read again. After a period without inline runs
    /// it disarms its timer and parks until the next one.
    private func inlineWatchLoop() {
        var expirations: UInt64 = 0
        var seenRuns: UInt64 = 0
        while true {
            let count = Glibc.read(inlineTimerFD, &expirations, 8)
            if count < 0 && errno == EINTR { continue }
            let leave = queueLock.withLock { () -> Bool in
                if stopWorkers { return true }
                if inlineRuns == seenRuns {
                    if inlineCallRunning {
                        if !leaderActive && !loopFinished { queueLock.signal() }
                    } else if !watchdogParked {
                        // Under the lock: the next inline run sees it parked and re-arms.
                        _ = cws_timer_arm(inlineTimerFD, 0, 0)
                        watchdogParked = true
                    }
                }
                seenRuns = inlineRuns
                return false
            }
            if leave || count < 0 { break }
        }
        state.withLock { $0.watchdogExited = true }
    }

    /// Whom a leader wakes after its turn.
    private enum Wake {
        case none, one, all
    }

    /// Appends calls read by the leader (holding `queueLock`); returns those over `maxQueuedCalls`.
    private func enqueue(_ calls: [PendingCall]) -> ArraySlice<PendingCall> {
        let room = max(0, configuration.maxQueuedCalls - (queue.count - queueHead))
        queue.append(contentsOf: calls.prefix(room))
        return calls.dropFirst(room)
    }

    private func refuse(_ call: PendingCall) {
        call.connection.finishCall(call.frame.callId)
        call.connection.respond(callID: call.frame.callId, status: .resourceExhausted,
                                message: "server queue is full (\(configuration.maxQueuedCalls) calls waiting)")
    }

    /// Most calls run together through one coalesced handler call.
    private static let maxCoalescedCalls = 64

    /// Takes the oldest queued call, with the calls of the same coalescing
    /// method queued right behind it (holding `queueLock`).
    private func dequeueWork() -> [PendingCall] {
        let first = queue[queueHead]
        var end = queueHead + 1
        if first.descriptor?.coalescedHandler != nil {
            while end < queue.count && end - queueHead < Self.maxCoalescedCalls && queue[end].frame.method == first.frame.method {
                end += 1
            }
        }
        let work = Array(queue[queueHead..<end])
        queueHead = end
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeSubrange(0..<queueHead)
            queueHead = 0
        }
        return work
    }

    /// Runs dequeued work: one call alone, or calls of one coalescing method together.
    private func perform(_ work: [PendingCall]) {
        guard let first = work.first else { return }
        guard work.count > 1, let coalesced = first.descriptor?.coalescedHandler else {
            for call in work { run(call) }
            return
        }
        let admitted = work.compactMap(admit)
        guard !admitted.isEmpty else { return }
        let results = coalesced(admitted.map(\.context), admitted.map(\.call.frame.payload))
        for (index, entry) in admitted.enumerated() {
            let outcome = index < results.count
                ? results[index] : .failure(RPCError(.internal, "\(first.frame.method) returned too few results"))
            finish(entry.call, outcome: outcome, context: entry.context)
        }
    }

    private func run(_ call: PendingCall) {
        guard let admitted = admit(call) else { return }
        let outcome: Result<[UInt8], RPCError>
        do throws(RPCError) {
            outcome = .success(try admitted.descriptor.handler(admitted.context, call.frame.payload))
        } catch {
            outcome = .failure(error)
        }
        finish(call, outcome: outcome, context: admitted.context)
    }

    /// Checks what must hold before a handler runs; answers the call itself and
    /// returns nil when something does not.
    private func admit(_ call: PendingCall) -> AdmittedCall? {
        let frame = call.frame
        let connection = call.connection
        if connection.takeCancelled(frame.callId) {
            connection.finishCall(frame.callId)
            return nil
        }
        let maxTimeout = configuration.maxCallTimeout.microseconds
        let timeout = frame.timeoutMicros == 0 ? maxTimeout : min(Int64(clamping: frame.timeoutMicros), maxTimeout)
        let deadline = Deadline(uptimeNanoseconds: call.receivedAt.uptimeNanoseconds + UInt64(timeout) * 1000)
        var context = CallContext(
            method: frame.method, caller: nil, deadline: deadline, entries: frame.metadata,
            serverLogger: logger, sequence: callSequence.wrappingAdd(1, ordering: .relaxed).newValue
        )
        if deadline.isExpired {
            finish(call, outcome: .failure(RPCError(.deadlineExceeded, "deadline expired before the call started")), context: context)
            return nil
        }
        guard let descriptor = call.descriptor else {
            finish(call, outcome: .failure(RPCError(.unimplemented, "unknown method \"\(frame.method)\"")), context: context)
            return nil
        }
        switch authorize(descriptor, metadata: frame.metadata) {
        case .failure(let error):
            finish(call, outcome: .failure(error), context: context)
            return nil
        case .success(let authenticated):
            context.caller = authenticated
            return AdmittedCall(call: call, descriptor: descriptor, context: context)
        }
    }

    /// Sends the call's response, records its metrics and log line, and ends it.
    private func finish(_ call: PendingCall, outcome: Result<[UInt8], RPCError>, context: CallContext) {
        let caller = context.caller
        let frame = call.frame
        let connection = call.connection
        defer { connection.finishCall(frame.callId) }
        let elapsed = Double(Deadline.now().uptimeNanoseconds - call.receivedAt.uptimeNanoseconds) / 1e9
        switch outcome {
        case .success(let payload):
            connection.sendOKResponse(callId: frame.callId, payload: payload)
            metrics.record(method: frame.method, code: .ok, seconds: elapsed)
            guard logger.logLevel <= .debug else { return }
            context.logger.debug("call finished", metadata: [
                "status": "OK", "latency_ms": "\(elapsed * 1000)", "caller": "\(caller?.rawValue ?? "-")",
            ])
        case .failure(let error):
            connection.respond(callID: frame.callId, status: error.code, message: error.message)
            metrics.record(method: frame.method, code: error.code, seconds: elapsed)
            let level: Logger.Level = error.code == .internal || error.code == .unknown || error.code == .dataLoss ? .error : .info
            guard logger.logLevel <= level else { return }
            context.logger.log(level: level, "call failed", metadata: [
                "status": "\(error.code)", "message": "\(error.message)", "latency_ms": "\(elapsed * 1000)",
                "caller": "\(caller?.rawValue ?? "-")", "cause": "\(error.cause.map { "\($0)" } ?? "-")",
            ])
        }
    }

    private func authorize(_ descriptor: MethodDescriptor, metadata: [WireV1.Metadata]) -> Result<Caller?, RPCError> {
        guard let allowed = descriptor.allowedCallers else { return .success(nil) }
        guard let header = CallContext.value(of: MetadataKey.authorization, in: metadata),
              header.hasPrefix("Bearer "), header.utf8.count > 7 else {
            return .failure(RPCError(.unauthenticated, "missing credential: send metadata \"authorization: Bearer <secret>\""))
        }
        guard let caller = credentials.authenticate(String(header.dropFirst(7))) else {
            return .failure(RPCError(.unauthenticated, "credential not recognised"))
        }
        guard allowed.contains(caller) else {
            let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            return .failure(RPCError(.permissionDenied, "caller \(caller) may not call this method (allowed: \(names))"))
        }
        return .success(caller)
    }
}

/// A request waiting for a worker.
private struct PendingCall: @unchecked Sendable {
    // @unchecked: ServerConnection guards its shared state itself.
    let connection: ServerConnection
    let frame: WireV1.Frame
    let receivedAt: Deadline
    /// nil for an unknown method.
    let descriptor: MethodDescriptor?
}

/// A call that passed the checks before its handler: not cancelled, within its
/// deadline, a known method, an authorized caller.
private struct AdmittedCall {
    let call: PendingCall
    let descriptor: MethodDescriptor
    let context: CallContext
}

extension Duration {
    /// Whole microseconds, saturating.
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000).overflow
            ? Int64.max : seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
