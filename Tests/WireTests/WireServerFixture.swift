import Glibc
import Logging
import Proto
import Synchronization
@testable import Wire

/// A server on a free loopback port with a few test methods:
/// `/test.v1.Test/Echo` (returns the request's `service` as `name`),
/// `/test.v1.Test/Sleep` (sleeps `service` milliseconds, then echoes),
/// `/test.v1.Test/OperatorOnly`, and health.
final class WireServerFixture: @unchecked Sendable {
    static let checkoutSecret = "checkout-test-secret-000001"
    static let operatorSecret = "operator-test-secret-000001"

    let server: WireServer
    let counter = StartCounter()
    var sleepsStarted: StartCounter { counter }
    /// The most `/test.v1.Test/Together` calls run in one coalesced handler call.
    let largestCoalescedGroup = StartCounter()

    init(configure: (inout WireServerConfiguration) -> Void = { _ in }) throws {
        var configuration = WireServerConfiguration(port: 0)
        configuration.host = "127.0.0.1"
        configuration.workerThreads = 8
        configure(&configuration)
        var router = MethodRouter()
        let started = counter
        router.register("/test.v1.Test/Echo", callers: [.checkout, .operator], idempotent: true) {
            (_: CallContext, request: HealthV1.HealthCheckRequest) in
            HealthV1.DependencyStatus(name: request.service, ok: true)
        }
        router.register("/test.v1.Test/Sleep", callers: [.checkout]) {
            (context: CallContext, request: HealthV1.HealthCheckRequest) in
            started.add(1, ordering: .relaxed)
            usleep(UInt32(Int(request.service) ?? 0) * 1000)
            return HealthV1.DependencyStatus(name: request.service, ok: !context.deadline.isExpired)
        }
        let largestGroup = largestCoalescedGroup
        router.registerCoalescing("/test.v1.Test/Together", callers: [.checkout], idempotent: true) {
            (_: [CallContext], requests: [HealthV1.HealthCheckRequest]) -> [Result<HealthV1.DependencyStatus, RPCError>] in
            largestGroup.max(requests.count)
            return requests.map { request in
                request.service.isEmpty
                    ? .failure(RPCError(.invalidArgument, "service is required"))
                    : .success(HealthV1.DependencyStatus(name: request.service, ok: true))
            }
        }
        router.register("/test.v1.Test/OperatorOnly", callers: [.operator]) {
            (_: CallContext, _: HealthV1.HealthCheckRequest) in HealthV1.DependencyStatus(name: "ok", ok: true)
        }
        let box = ServerBox()
        HealthService.register(on: &router, services: ["test.v1.Test"], isDraining: { box.server?.isDraining ?? false }) {
            HealthReport(dependencies: [HealthV1.DependencyStatus(name: "postgresql", ok: true)])
        }
        var logger = Logger(label: "wire-test")
        logger.logLevel = .critical
        server = WireServer(
            configuration: configuration, router: router,
            credentials: try CredentialStore([.checkout: Self.checkoutSecret, .operator: Self.operatorSecret]),
            logger: logger
        )
        box.server = server
        try server.start()
    }

    var address: String { "127.0.0.1:\(server.port)" }

    func client(credential: String? = WireServerFixture.checkoutSecret, configure: (inout WireClientConfiguration) -> Void = { _ in }) -> WireClient {
        var configuration = WireClientConfiguration(addresses: [address], credential: credential)
        configure(&configuration)
        return WireClient(configuration: configuration)
    }

    /// A raw TCP connection to the server, for byte-level tests.
    func rawSocket() throws -> RawSocket {
        try RawSocket(port: server.port)
    }

    deinit {
        server.stop()
    }
}

/// Counts calls of the Sleep method that began running.
final class StartCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ amount: Int, ordering: AtomicUpdateOrdering = .relaxed) { value.add(amount, ordering: .sequentiallyConsistent) }
    func load(ordering: AtomicLoadOrdering = .relaxed) -> Int { value.load(ordering: .sequentiallyConsistent) }
    func max(_ candidate: Int) { value.max(candidate, ordering: .sequentiallyConsistent) }
}

final class ServerBox: @unchecked Sendable {
    // @unchecked: written once before the server starts, read afterwards.
    var server: WireServer?
}

/// A blocking TCP socket speaking raw bytes.
final class RawSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw SystemCallError(call: "connect", errno: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes (or 5 s pass); returns everything read.
    func readUntilClosed() -> [UInt8] {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return all }
            all += buffer[0..<count]
        }
    }

    /// Reads frames after the server preface until `count` frames arrived.
    func readFrames(_ count: Int) throws -> [WireV1.Frame] {
        var decoder = FrameDecoder()
        var frames: [WireV1.Frame] = []
        var prefaceSeen = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while frames.count < count {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 { break }
            decoder.append(Array(buffer[0..<received]))
            if !prefaceSeen {
                guard decoder.bufferedByteCount >= 8 else { continue }
                _ = decoder.consume(8)
                prefaceSeen = true
            }
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        return frames
    }
}
