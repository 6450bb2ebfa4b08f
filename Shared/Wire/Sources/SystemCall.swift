import Storage
import CWireSystem
import Glibc

/// A failed libc call: which call and the errno it left.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Every libc call goes through here: EINTR is retried, errno is read at once
/// and turned into an error naming the call (the swift-nio `System.swift` way).
@inline(__always)
func systemCall<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw SystemCallError(call: name, errno: error)
    }
}

/// The outcome of a non-blocking read or write.
enum IOResult: Equatable {
    case processed(Int)
    case wouldBlock
    case endOfFile
}

enum Socket {
    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try systemCall("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try systemCall("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(SystemCallError) {
        var value = value
        _ = try systemCall("setsockopt") {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Resolves `host` (a numeric IPv4 address or a name) to an IPv4 socket address.
    static func address(host: String, port: Int) throws(SystemCallError) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        let resolvedHost = host == "localhost" ? "127.0.0.1" : host
        if inet_pton(AF_INET, resolvedHost, &address.sin_addr) == 1 { return address }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let info = result, let raw = info.pointee.ai_addr else {
            throw SystemCallError(call: "getaddrinfo(\(host))", errno: ENOENT)
        }
        defer { freeaddrinfo(result) }
        raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address.sin_addr = $0.pointee.sin_addr }
        return address
    }

    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .processed(count) }
            if count == 0 { return .endOfFile }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "read", errno: error)
        }
    }

    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> IOResult {
        while true {
            let count = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .processed(count) }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "send", errno: error)
        }
    }

    /// Writes `first[offset...]` followed by `second` with one `sendmsg`
    /// (a gather write), so a frame header and a large payload leave
    /// together without being copied into one buffer first.
    static func write(
        _ fd: Int32, _ first: [UInt8], from offset: Int, then second: [UInt8]
    ) throws(SystemCallError) -> IOResult {
        let outcome = first.withUnsafeBytes { head in
            second.withUnsafeBytes { tail in
                withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { vectors in
                    vectors[0] = iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress.map { $0 + offset }),
                        iov_len: head.count - offset
                    )
                    vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: tail.baseAddress), iov_len: tail.count)
                    var message = msghdr()
                    message.msg_iov = vectors.baseAddress
                    message.msg_iovlen = tail.isEmpty ? 1 : 2
                    while true {
                        let count = Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                        if count >= 0 { return Result<IOResult, SystemCallError>.success(.processed(count)) }
                        let error = Glibc.errno
                        if error == EINTR { continue }
                        if error == EAGAIN || error == EWOULDBLOCK { return .success(.wouldBlock) }
                        return .failure(SystemCallError(call: "sendmsg", errno: error))
                    }
                }
            }
        }
        return try outcome.get()
    }
}

/// Starts a named OS thread (not a Swift concurrency task): the server's event
/// loop and workers block in epoll, libpq and hiredis.
func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        // @unchecked: handed from the creating thread to the new one exactly once.
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let status = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        cws_set_thread_name(box.name)
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(status == 0, "pthread_create failed: \(status)")
}

/// Process-wide settings for a server process.
public enum ProcessTuning {
    /// Caps glibc's malloc arenas. glibc gives threads that allocate
    /// concurrently their own arena, and a pool of worker threads then keeps
    /// freed batch memory resident in each of them; a small cap keeps the RSS
    /// near the working set. Respects an explicit `MALLOC_ARENA_MAX`.
    public static func limitMallocArenas(to count: Int) {
        if getenv("MALLOC_ARENA_MAX") == nil { cws_limit_malloc_arenas(Int32(count)) }
    }

    /// Serves allocations of `bytes` and more with their own mmap, returned
    /// to the system when freed. glibc otherwise raises this threshold after
    /// each large free (up to 32 MiB), so the multi-megabyte buffers of a
    /// 10,000-item batch end up in the heap and keep the RSS high between
    /// batches (measured on the policy service: peak 52 MB without, 49 MB with
    /// 1 MiB). Respects an explicit `MALLOC_MMAP_THRESHOLD_`.
    public static func fixMallocMmapThreshold(bytes: Int) {
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil { cws_fix_malloc_mmap_threshold(Int32(bytes)) }
    }
}
