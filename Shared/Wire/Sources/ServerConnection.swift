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
        /// Bytes the socket did not take yet, in order: whole buffers as
        /// they were handed to `send` (a large payload is queued, not
        /// copied), `pendingOffset` bytes of the first already written.
        var pending: [[UInt8]] = []
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

    /// Sends an OK RESPONSE carrying `payload`. A large payload leaves with
    /// its frame header in one gather write, so a multi-megabyte payload is
    /// never copied into a frame buffer (nor, if the socket is full, into
    /// the queue). A small one is copied behind its header and sent with a
    /// plain `send`: cheaper than `sendmsg` for the gate's tiny responses.
    func sendOKResponse(callId: UInt64, payload: [UInt8]) {
        if payload.count < Self.gatherWriteThreshold {
            send(FrameEncoder.encodeOKResponse(callId: callId, payload: payload))
        } else {
            send(FrameEncoder.okResponseHeader(callId: callId, payloadCount: payload.count), then: payload)
        }
    }

    /// Payloads from this size on are not copied into their frame.
    static let gatherWriteThreshold = 16 * 1024

    /// Writes now if the socket takes it; otherwise queues the rest and asks the
    /// loop for EPOLLOUT. Safe from any thread.
    func send(_ bytes: [UInt8]) {
        send(bytes, then: [])
    }

    /// Sends `first` then `second` as one contiguous byte stream.
    private func send(_ first: [UInt8], then second: [UInt8]) {
        let failed = shared.withLock { state -> Bool in
            guard !state.closed else { return false }
            if !state.pending.isEmpty {
                Self.enqueue(first, in: &state)
                Self.enqueue(second, in: &state)
                return false
            }
            var chunks = (first, second)
            var offset = 0
            while offset < chunks.0.count || !chunks.1.isEmpty {
                let result = chunks.1.isEmpty
                    ? chunks.0.withUnsafeBytes { raw in try? Socket.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...])) }
                    : try? Socket.write(fd, chunks.0, from: offset, then: chunks.1)
                switch result {
                case .processed(let count)?:
                    offset += count
                    if offset >= chunks.0.count {
                        // Into (or past) the second buffer: it becomes the first.
                        offset -= chunks.0.count
                        chunks = (chunks.1, [])
                    }
                case .wouldBlock?:
                    Self.enqueue(chunks.0, in: &state)
                    state.pendingOffset = offset
                    Self.enqueue(chunks.1, in: &state)
                    setWriteInterest(true, state: &state)
                    return false
                case .endOfFile?, nil:
                    state.shouldClose = true
                    return true
                }
            }
            return false
        }
        if failed { wake() }
    }

    /// Queues `bytes` behind what is pending. Small buffers join a small last
    /// one, so a backlog of small frames still leaves in few writes; a large
    /// buffer is queued as it is (shared, not copied).
    private static func enqueue(_ bytes: [UInt8], in state: inout Shared) {
        guard !bytes.isEmpty else { return }
        let small = 64 * 1024
        if bytes.count < small, let last = state.pending.last, last.count < small {
            state.pending[state.pending.count - 1].append(contentsOf: bytes)
        } else {
            state.pending.append(bytes)
        }
    }

    /// Loop thread, on EPOLLOUT: writes what is queued.
    func flushPending() {
        shared.withLock { state in
            guard !state.closed else { return }
            while !state.pending.isEmpty {
                let second = state.pending.count > 1 ? state.pending[1] : []
                let result = try? Socket.write(fd, state.pending[0], from: state.pendingOffset, then: second)
                switch result {
                case .processed(let count)?: Self.advance(by: count, in: &state)
                case .wouldBlock?: return
                case .endOfFile?, nil:
                    state.shouldClose = true
                    return
                }
            }
            state.pending = []
            state.pendingOffset = 0
            setWriteInterest(false, state: &state)
        }
    }

    /// Drops `count` written bytes from the front of the queue (they span
    /// at most its first two buffers).
    private static func advance(by count: Int, in state: inout Shared) {
        var remaining = count
        while remaining > 0, let first = state.pending.first {
            let left = first.count - state.pendingOffset
            if remaining < left {
                state.pendingOffset += remaining
                return
            }
            remaining -= left
            state.pending.removeFirst()
            state.pendingOffset = 0
        }
    }

    /// Loop thread only.
    func closeSocket() {
        shared.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            // Best effort: push out what is queued (a final GOAWAY) before closing.
            if let first = state.pending.first {
                _ = try? Socket.write(fd, first, from: state.pendingOffset, then: state.pending.count > 1 ? state.pending[1] : [])
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
