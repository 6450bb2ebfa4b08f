import CWireSystem
import Glibc
import Histogram
import Proto
import Storage
import Wire

/// Drives one method from many connections with a single thread: non-blocking
/// sockets under one epoll, speaking the wire protocol directly.
///
/// It exists for the many-connection runs. `LoadGenerator` gives each
/// connection its own OS thread doing blocking calls through `WireClient`,
/// which is the right way to measure the client library but, with 64
/// connections on 2 cores, costs about as much CPU (mostly context switches)
/// as the service under test. This one is built like the baselines it is
/// compared with (`redis-benchmark`: one thread, epoll): requests are
/// pre-encoded, so a call costs a `send`, a share of a `read` and an
/// `epoll_pwait2`, plus decoding the response frame.
///
/// Same semantics as `LoadGenerator`: each connection keeps at most one call
/// in flight. Closed loop: every connection calls back to back. Open loop:
/// connection `c` has its own schedule, one call every `connections / rate`
/// seconds, staggered by `c / connections` of an interval; a call due while its
/// connection is busy waits, and its latency is measured from when it was due
/// (no coordinated omission). Calls due during the warm-up are not recorded.
/// Every response's status code is checked, and `verify` sees every
/// `verifyEvery`-th response payload.
struct EventLoopLoadGenerator {
    /// Checks a successful response; returns why it is wrong, or nil.
    /// `request` indexes `payloads`.
    typealias Verifier = (_ request: Int, _ response: [UInt8]) -> String?

    var name: String
    /// `host:port` of the service.
    var address: String
    var connections: Int
    var warmup: Duration
    var duration: Duration
    /// The full method name, e.g. `/gate.v1.GateService/Check`.
    var method: String
    /// Sent as `authorization: Bearer <credential>` on every call.
    var credential: String?
    /// Sent as each call's `timeout_micros` and enforced here too: a call
    /// unanswered by then counts as an error and is cancelled.
    var timeout: Duration = .seconds(5)
    /// Serialized request messages, sent in rotation; each connection starts
    /// at a different offset.
    var payloads: [[UInt8]]
    var verifyEvery = 1
    var verify: Verifier?

    func runClosedLoop() throws -> LoadResult {
        try run(rate: nil)
    }

    func runOpenLoop(rate: Double) throws -> LoadResult {
        precondition(rate > 0, "an open loop needs a positive rate")
        return try run(rate: rate)
    }

    private func run(rate: Double?) throws -> LoadResult {
        precondition(connections > 0 && !payloads.isEmpty, "a load run needs connections and requests")
        var metadata: [WireV1.Metadata] = []
        if let credential { metadata.append(WireV1.Metadata(key: MetadataKey.authorization, value: "Bearer \(credential)")) }
        let timeoutMicros = UInt64(timeout.microsecondsValue)
        func request(_ payload: [UInt8]) -> WireV1.Frame {
            WireV1.Frame(kind: .request, method: method, timeoutMicros: timeoutMicros, metadata: metadata, payload: payload)
        }
        try RequestFrameTemplate.verifySplice(of: request(payloads[0]))
        let templates = payloads.map { RequestFrameTemplate(request($0)) }
        let cpuBefore = ProcessCPU.now()
        let loop = try EventLoop(generator: self, templates: templates, interval: rate.map { Double(connections) / $0 })
        defer { loop.close() }
        try loop.run()
        let cpu = ProcessCPU.now().seconds(since: cpuBefore)
        let result = loop.recorder.result(
            name: name, mode: rate == nil ? "closed" : "open", connections: connections, offeredRate: rate,
            duration: duration, clientCPUSeconds: cpu
        )
        print(result.summaryLine)
        return result
    }
}

extension ScenarioContext {
    /// An event-loop generator for `method` of `service`, with `caller`'s credential.
    func eventLoopGenerator(
        _ name: String, service: String, caller: String, connections: Int, method: String,
        payloads: [[UInt8]], verify: EventLoopLoadGenerator.Verifier? = nil
    ) -> EventLoopLoadGenerator {
        EventLoopLoadGenerator(
            name: name, address: environment.addresses[service]!, connections: connections, warmup: warmup,
            duration: duration, method: method, credential: environment.credentials[caller], payloads: payloads,
            verify: verify
        )
    }

    /// Seconds of one load run, warm-up included: the span `LoadResult.clientCPUSeconds` covers.
    var runSeconds: Int64 { (warmup + duration).components.seconds }
}

/// A REQUEST frame encoded once, all but its call id.
///
/// protobuf fields may come in any order and a decoder takes each as it comes,
/// so the `call_id` field (number 2) is written in front of the pre-encoded
/// rest and the frame needs no protobuf encoding per call.
struct RequestFrameTemplate {
    /// `wire.v1.Frame` without `call_id`: kind, method, timeout, metadata, payload.
    let body: [UInt8]

    /// A template of `frame`, whose call id must be unset.
    init(_ frame: WireV1.Frame) {
        precondition(frame.callId == 0, "a template leaves the call id to each call")
        body = frame.serializedBytes()
    }

    /// Appends the whole frame for `callId` (length prefix, call id, body) to `buffer`.
    func append(callId: UInt64, to buffer: inout [UInt8]) {
        let length = 1 + Self.varintLength(callId) + body.count
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
        buffer.append(0x10)  // field 2 (call_id), wire type 0 (varint)
        var value = callId
        while value >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
        buffer.append(contentsOf: body)
    }

    /// Throws unless `FrameDecoder` reads the frames `append` builds from
    /// `frame` as `frame` with each call id. Run once before a load run, so a
    /// wrong splice fails loudly instead of as a run full of server errors.
    static func verifySplice(of frame: WireV1.Frame) throws {
        let template = RequestFrameTemplate(frame)
        for callId: UInt64 in [1, 127, 128, 300, 1 << 35, .max] {
            var bytes: [UInt8] = []
            template.append(callId: callId, to: &bytes)
            var decoder = FrameDecoder()
            decoder.append(bytes)
            var expected = frame
            expected.callId = callId
            guard try decoder.nextFrame() == expected, decoder.bufferedByteCount == 0 else {
                throw BenchError("the pre-encoded REQUEST frame for call id \(callId) does not decode as the frame it stands for")
            }
        }
    }

    static func varintLength(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}

/// The state of one run: the sockets, their calls, the figures. Used by one thread only.
private final class EventLoop {
    /// One connection and its one call in flight.
    struct Connection {
        let fd: Int32
        var decoder = FrameDecoder()
        var prefaceChecked = false
        /// Bytes not yet accepted by the socket.
        var outgoing: [UInt8] = []
        var outgoingOffset = 0
        var watchingWritable = false
        /// False once the connection failed or the server sent GOAWAY: it starts no more calls.
        var usable = true
        var closed = false
        var busy = false
        var callId: UInt64 = 0
        /// Index into the templates of the call in flight.
        var request = 0
        /// When the call in flight was due (closed loop: sent), on the monotonic clock.
        var intended: UInt64 = 0
        /// When the call in flight is given up.
        var deadline: UInt64 = 0
        /// The next request to send (an index into the templates).
        var cursor: Int
        /// Open loop: when the next call is due.
        var nextDue: UInt64 = 0
        var answered = 0
    }

    let generator: EventLoopLoadGenerator
    let templates: [RequestFrameTemplate]
    /// Open loop: nanoseconds between two calls of one connection.
    let intervalNanos: UInt64?
    let timeoutNanos: UInt64
    let recorder = WorkerRecorder()
    private var connections: [Connection] = []
    private let epollFD: Int32
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    private var measureFrom: UInt64 = 0
    private var end: UInt64 = 0

    init(generator: EventLoopLoadGenerator, templates: [RequestFrameTemplate], interval: Double?) throws {
        self.generator = generator
        self.templates = templates
        self.intervalNanos = interval.map { UInt64($0 * 1e9) }
        self.timeoutNanos = UInt64(generator.timeout.microsecondsValue) * 1000
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw BenchError("epoll_create1 failed: errno \(errno)") }
        let stride = max(1, templates.count / generator.connections)
        for index in 0..<generator.connections {
            let fd: Int32
            do {
                fd = try Self.connect(to: generator.address)
            } catch {
                close()
                throw error
            }
            connections.append(Connection(fd: fd, cursor: (index * stride) % templates.count))
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
            event.data.u64 = UInt64(index)
            guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
                let error = errno
                close()
                throw BenchError("epoll_ctl(ADD) failed: errno \(error)")
            }
        }
    }

    /// Closes every socket and the epoll descriptor.
    func close() {
        for index in connections.indices where !connections[index].closed {
            connections[index].closed = true
            Glibc.close(connections[index].fd)
        }
        if epollFD >= 0 { Glibc.close(epollFD) }
        readBuffer.deallocate()
    }

    func run() throws {
        let start = Self.now()
        measureFrom = start + UInt64(generator.warmup.microsecondsValue) * 1000
        end = measureFrom + UInt64(generator.duration.microsecondsValue) * 1000
        for index in connections.indices {
            connections[index].outgoing = WirePreface.bytes
            if let intervalNanos {
                // Stagger the schedules so the connections' calls interleave.
                connections[index].nextDue = start + intervalNanos * UInt64(index) / UInt64(connections.count)
            }
        }
        while true {
            let now = Self.now()
            var wake = UInt64.max
            var busy = false
            for index in connections.indices where connections[index].usable || connections[index].busy {
                if connections[index].busy, now >= connections[index].deadline {
                    giveUp(index, now: now)
                }
                if !connections[index].busy, connections[index].usable, now < end {
                    startDueCall(index, now: now)
                }
                if connections[index].busy {
                    busy = true
                    wake = min(wake, connections[index].deadline)
                } else if connections[index].usable, now < end {
                    wake = min(wake, intervalNanos == nil ? end : connections[index].nextDue)
                }
            }
            if now >= end && !busy { return }
            if now < end { wake = min(wake, end) }
            try wait(until: wake, now: now)
        }
    }

    // MARK: Calls

    /// Starts the connection's next call if one is due (closed loop: always).
    private func startDueCall(_ index: Int, now: UInt64) {
        let intended: UInt64
        if let intervalNanos {
            guard connections[index].nextDue <= now else { return }
            intended = connections[index].nextDue
            connections[index].nextDue += intervalNanos
        } else {
            intended = now
        }
        let request = connections[index].cursor
        connections[index].cursor = request + 1 == templates.count ? 0 : request + 1
        connections[index].callId += 1
        connections[index].request = request
        connections[index].intended = intended
        connections[index].deadline = now + timeoutNanos
        connections[index].busy = true
        templates[request].append(callId: connections[index].callId, to: &connections[index].outgoing)
        flush(index)
    }

    private var deadlineExceeded: String { "DEADLINE_EXCEEDED: no response within \(generator.timeout) (client side)" }

    /// Ends the call in flight without an answer (client-side deadline) and cancels it.
    private func giveUp(_ index: Int, now: UInt64) {
        connections[index].busy = false
        if connections[index].intended >= measureFrom {
            recorder.fail(deadlineExceeded)
        }
        let cancel = WireV1.Frame(kind: .cancel, callId: connections[index].callId)
        connections[index].outgoing += FrameEncoder.encode(cancel)
        flush(index)
    }

    private func complete(_ index: Int, _ frame: WireV1.Frame) {
        // A response to a call given up earlier: the connection has moved on.
        guard connections[index].busy, frame.callId == connections[index].callId else { return }
        let now = Self.now()
        connections[index].busy = false
        connections[index].answered += 1
        guard connections[index].intended >= measureFrom else { return }
        // Answered, but after the client had stopped waiting (the loop had not yet noticed).
        if now >= connections[index].deadline {
            recorder.fail(deadlineExceeded)
            return
        }
        if frame.statusCode != StatusCode.ok.rawValue {
            recorder.fail("\(StatusCode(wireValue: frame.statusCode)): \(frame.statusMessage)")
            return
        }
        if let verify = generator.verify, connections[index].answered % generator.verifyEvery == 0,
            let problem = verify(connections[index].request, frame.payload)
        {
            recorder.fail(problem)
            return
        }
        recorder.record(micros: (now - connections[index].intended) / 1000)
    }

    /// Counts the call in flight (if any) and the failure, and stops using the connection.
    private func fail(_ index: Int, _ reason: String) {
        guard !connections[index].closed else { return }
        recorder.fail("connection \(index) to \(generator.address): \(reason)")
        connections[index].busy = false
        connections[index].usable = false
        connections[index].closed = true
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connections[index].fd, nil)
        Glibc.close(connections[index].fd)
    }

    // MARK: I/O

    private func wait(until wake: UInt64, now: UInt64) throws {
        let nanos = wake > now ? min(wake - now, 100_000_000) : 0
        var timeout = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        let count = events.withUnsafeMutableBufferPointer {
            epoll_pwait2(epollFD, $0.baseAddress, Int32($0.count), &timeout, nil)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw BenchError("epoll_pwait2 failed: errno \(errno)")
        }
        for slot in 0..<Int(count) {
            let event = events[slot]
            let index = Int(event.data.u64)
            guard !connections[index].closed else { continue }
            if event.events & EPOLLOUT.rawValue != 0 { flush(index) }
            if event.events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                receive(index)
            }
        }
    }

    /// Writes what the connection has queued; watches for writability while the socket is full.
    private func flush(_ index: Int) {
        guard !connections[index].closed else { return }
        while connections[index].outgoingOffset < connections[index].outgoing.count {
            let fd = connections[index].fd
            let offset = connections[index].outgoingOffset
            let sent = connections[index].outgoing.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                connections[index].outgoingOffset += sent
                continue
            }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK {
                watchWritable(index, true)
                return
            }
            fail(index, "send failed: \(String(cString: strerror(error)))")
            return
        }
        connections[index].outgoing.removeAll(keepingCapacity: true)
        connections[index].outgoingOffset = 0
        watchWritable(index, false)
    }

    private func watchWritable(_ index: Int, _ enabled: Bool) {
        guard connections[index].watchingWritable != enabled else { return }
        connections[index].watchingWritable = enabled
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (enabled ? EPOLLOUT.rawValue : 0)
        event.data.u64 = UInt64(index)
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connections[index].fd, &event)
    }

    /// Reads once (level-triggered epoll reports what is left) and handles every whole frame.
    private func receive(_ index: Int) {
        let count = read(connections[index].fd, readBuffer.baseAddress, readBuffer.count)
        if count == 0 {
            fail(index, "closed by the server")
            return
        }
        if count < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
            fail(index, "read failed: \(String(cString: strerror(error)))")
            return
        }
        connections[index].decoder.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        if !connections[index].prefaceChecked {
            switch WirePreface.check(connections[index].decoder.pendingBytes) {
            case .incomplete:
                return
            case .accepted:
                _ = connections[index].decoder.consume(WirePreface.bytes.count)
                connections[index].prefaceChecked = true
            case let verdict:
                fail(index, "server preface: \(verdict)")
                return
            }
        }
        do {
            while !connections[index].closed, let frame = try connections[index].decoder.nextFrame() {
                switch frame.kind {
                case .response:
                    complete(index, frame)
                case .ping:
                    connections[index].outgoing += FrameEncoder.encode(WireV1.Frame(kind: .pong, payload: frame.payload))
                    flush(index)
                case .goaway:
                    // The call in flight (if the server took it) is still answered; no new ones here.
                    connections[index].usable = false
                    recorder.fail("connection \(index) to \(generator.address): GOAWAY \(frame.reason)")
                case .pong:
                    break
                default:
                    fail(index, "the server sent a \(frame.kind) frame")
                }
            }
        } catch {
            fail(index, "\(error)")
        }
    }

    /// A blocking TCP connect (bounded by a 2 s send timeout), then TCP_NODELAY and O_NONBLOCK.
    private static func connect(to address: String) throws -> Int32 {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw BenchError("address \(address) is not host:port")
        }
        let host = String(address[..<colon])
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var resolved: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &resolved) == 0, let info = resolved else {
            throw BenchError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(resolved) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket failed: errno \(errno)") }
        var sendTimeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw BenchError("cannot connect to \(address): \(String(cString: strerror(error)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw BenchError("fcntl(O_NONBLOCK) failed: errno \(error)")
        }
        return fd
    }

    private static func now() -> UInt64 {
        Deadline.now().uptimeNanoseconds
    }
}
