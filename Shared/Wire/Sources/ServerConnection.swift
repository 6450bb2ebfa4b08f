import Storage
import CWireSystem
import Glibc
import Proto
import Synchronization

/// One accepted connection. The event-loop thread reads and decodes; worker
/// threads write responses. The socket is closed only by the loop thread, and
/// only after `closed` is set under the lock, so a late worker never writes to
/// a reused file descriptor.
final class ServerConnection: @unchecked Sendable {
    // @unchecked: `shared` is a Mutex; the `loop-only` fields are touched only by
    // the event-loop thread.
    let fd: Int32
    private let epollFD: Int32
    private let wake: @Sendable () -> Void
    let createdAt = Deadline.now()
    /// When to send GOAWAY "max_age".
    let closeAfter: Deadline

    // loop-only
    var decoder: FrameDecoder
    var prefaceReceived = false
    var lastActivity = Deadline.now()

    private struct Shared {
        var pending: [UInt8] = []
        var pendingOffset = 0
        var closed = false
        var shouldClose = false
        var inFlight: Set<UInt64> = []
        var cancelled: Set<UInt64> = []
        var lastAcceptedCallID: UInt64 = 0
        var goAwaySentAt: Deadline?
        var writeInterest = false
    }

    private let shared = Mutex(Shared())

    init(fd: Int32, epollFD: Int32, maxFrameSize: Int, closeAfter: Deadline, wake: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.epollFD = epollFD
        self.decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        self.closeAfter = closeAfter
        self.wake = wake
    }

    var inFlight: Int { shared.withLock { $0.inFlight.count } }
    var goAwaySent: Bool { shared.withLock { $0.goAwaySentAt != nil } }
    var goAwaySentAt: Deadline? { shared.withLock { $0.goAwaySentAt } }
    var shouldClose: Bool { shared.withLock { $0.shouldClose } }

    func noteAccepted(_ callID: UInt64) {
        shared.withLock {
            $0.inFlight.insert(callID)
            $0.lastAcceptedCallID = max($0.lastAcceptedCallID, callID)
        }
    }

    func finishCall(_ callID: UInt64) {
        let wakeLoop = shared.withLock { state -> Bool in
            state.inFlight.remove(callID)
            state.cancelled.remove(callID)
            return state.inFlight.isEmpty && state.goAwaySentAt != nil
        }
        if wakeLoop { wake() }
    }

    /// Records a client's CANCEL for a call still in flight.
    func cancel(_ callID: UInt64) {
        shared.withLock { state in
            if state.inFlight.contains(callID) { state.cancelled.insert(callID) }
        }
    }

    /// True (once) when the client cancelled `callID` before a worker took it.
    func takeCancelled(_ callID: UInt64) -> Bool {
        shared.withLock { $0.cancelled.remove(callID) != nil }
    }

    func markForClose() {
        shared.withLock { $0.shouldClose = true }
    }

    /// Sends GOAWAY once, naming the highest call id that will still be answered.
    func sendGoAway(reason: String) {
        let lastCallID = shared.withLock { state -> UInt64? in
            guard state.goAwaySentAt == nil else { return nil }
            state.goAwaySentAt = .now()
            return state.lastAcceptedCallID
        }
        guard let lastCallID else { return }
        sendFrame(WireV1.Frame(kind: .goaway, lastCallId: lastCallID, reason: reason))
    }

    func respond(callID: UInt64, status: StatusCode, message: String) {
        sendFrame(WireV1.Frame(kind: .response, callId: callID, statusCode: status.rawValue, statusMessage: message))
    }

    func sendFrame(_ frame: WireV1.Frame) {
        send(FrameEncoder.encode(frame))
    }

    /// Writes now if the socket takes it; otherwise queues the rest and asks the
    /// loop for EPOLLOUT. Safe from any thread.
    func send(_ bytes: [UInt8]) {
        let failed = shared.withLock { state -> Bool in
            guard !state.closed else { return false }
            if state.pending.count > state.pendingOffset {
                state.pending.append(contentsOf: bytes)
                return false
            }
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { raw in
                    try? Socket.write(fd, UnsafeRawBufferPointer(rebasing: raw[written...]))
                }
                switch result {
                case .processed(let count)?: written += count
                case .wouldBlock?: break
                case .endOfFile?, nil:
                    state.shouldClose = true
                    return true
                }
                if result == .wouldBlock { break }
            }
            if written < bytes.count {
                state.pending = Array(bytes[written...])
                state.pendingOffset = 0
                setWriteInterest(true, state: &state)
            }
            return false
        }
        if failed { wake() }
    }

    /// Loop thread, on EPOLLOUT: writes what is queued.
    func flushPending() {
        shared.withLock { state in
            guard !state.closed else { return }
            while state.pendingOffset < state.pending.count {
                let offset = state.pendingOffset
                let result = state.pending.withUnsafeBytes { raw in
                    try? Socket.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
                switch result {
                case .processed(let count)?: state.pendingOffset += count
                case .wouldBlock?: return
                case .endOfFile?, nil:
                    state.shouldClose = true
                    return
                }
            }
            state.pending.removeAll(keepingCapacity: false)
            state.pendingOffset = 0
            setWriteInterest(false, state: &state)
        }
    }

    /// Loop thread only.
    func closeSocket() {
        shared.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            // Best effort: push out what is queued (a final GOAWAY) before closing.
            if state.pendingOffset < state.pending.count {
                let offset = state.pendingOffset
                _ = state.pending.withUnsafeBytes { raw in
                    try? Socket.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
            }
            epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
            Glibc.close(fd)
        }
    }

    private func setWriteInterest(_ enabled: Bool, state: inout Shared) {
        guard state.writeInterest != enabled else { return }
        state.writeInterest = enabled
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (enabled ? EPOLLOUT.rawValue : 0)
        event.data.fd = fd
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }
}
