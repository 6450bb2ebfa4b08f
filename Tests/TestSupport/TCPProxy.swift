import Foundation
import Glibc
import Synchronization

/// A loopback TCP proxy in front of a real server (PostgreSQL, Redis) that a
/// test can cut and restore, to simulate an outage of that one dependency
/// without stopping the server other tests share.
///
/// While cut, existing connections are closed and new ones are accepted and
/// closed at once (like a crashed server behind a live load balancer); while
/// up, bytes flow both ways unchanged.
public final class TCPProxy: @unchecked Sendable {
    // @unchecked: `state` is a Mutex; fds are owned by their relay threads.
    public let port: Int
    private let targetPort: Int
    private let listener: Int32
    private struct State {
        var up = true
        /// Relayed fds not yet closed. An fd is closed only once both relay
        /// threads of its pair have finished, and only under the lock, so a
        /// shutdown issued under the lock never reaches a reused fd number
        /// (which would cut an unrelated socket of the test process).
        var open: Set<Int32> = []
        /// Fds whose reading thread has finished.
        var finished: Set<Int32> = []
        var stopped = false
    }
    private let state = Mutex(State())

    /// Starts a proxy on a free loopback port forwarding to 127.0.0.1:`targetPort`.
    public init(targetPort: Int) throws {
        self.targetPort = targetPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else { throw TestInfrastructureProxyError("cannot listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Rewrites `url`'s port to this proxy's (e.g. a DATABASE_URL or REDIS_URL).
    public func url(replacingPortOf url: String) -> String {
        var components = URLComponents(string: url)!
        components.host = "127.0.0.1"
        components.port = port
        return components.string!
    }

    /// Cuts the link: open connections are closed, new ones are refused.
    public func cut() {
        state.withLock { state in
            state.up = false
            // The relay threads see the shutdown, finish, and close the fds.
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Restores the link for new connections.
    public func restore() {
        state.withLock { $0.up = true }
    }

    public func stop() {
        let wasStopped = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !wasStopped else { return }
        cut()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            guard state.withLock({ $0.up && !$0.stopped }) else {
                close(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(targetPort).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            state.withLock {
                $0.open.insert(client)
                $0.open.insert(upstream)
            }
            relay(from: client, to: upstream)
            relay(from: upstream, to: client)
        }
    }

    private func relay(from source: Int32, to destination: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                    if written <= 0 { break }
                    sent += written
                }
                if sent < count { break }
            }
            state.withLock { state in
                // Both fds are still open here: a pair is closed only by its second finishing thread.
                shutdown(source, Int32(SHUT_RDWR))
                shutdown(destination, Int32(SHUT_RDWR))
                state.finished.insert(source)
                if state.finished.contains(destination) {
                    for fd in [source, destination] {
                        state.finished.remove(fd)
                        state.open.remove(fd)
                        close(fd)
                    }
                }
            }
        }
        thread.start()
    }
}

struct TestInfrastructureProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
