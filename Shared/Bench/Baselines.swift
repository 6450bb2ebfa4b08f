import Foundation
import Glibc
import Histogram

/// Baselines measured in the same run as the services, so figures are ratios.
enum Baselines {
    /// Round trip of 64 bytes over loopback TCP to an in-process echo thread:
    /// the floor under any RPC on this machine.
    static func rawTCP(roundTrips: Int) throws -> LoadResult {
        try measureRoundTrips(name: "raw TCP round trip (64 B, loopback)", roundTrips: roundTrips) { fd in
            var buffer = [UInt8](repeating: 0, count: 64)
            while Loopback.receive(fd, &buffer, count: 64) {
                guard Loopback.send(fd, buffer) else { break }
            }
        }
    }

    /// Round trip of 64 bytes to an in-process relay thread that asks Redis one `GET`
    /// (RESP written by hand, a missing key as in `redis-benchmark -t get`) before it answers:
    /// the floor under any check that consults Redis on every call — one loopback hop to the
    /// service plus one Redis round trip, with no framing, no protobuf and no thread hand-off.
    /// Its ratio to the Redis GET round trip is what a per-call Redis lookup costs at least.
    static func relayRedisGet(redisPort: Int, roundTrips: Int) throws -> LoadResult {
        let redis = try Loopback.connect(port: UInt16(redisPort))
        defer { close(redis) }
        let key = "bench:no-such-key"
        let command = Array("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8)
        let nilReply = Array("$-1\r\n".utf8)
        return try measureRoundTrips(name: "TCP hop + redis GET (in-process relay, 1 conn)", roundTrips: roundTrips) { fd in
            var request = [UInt8](repeating: 0, count: 64)
            var reply = [UInt8](repeating: 0, count: nilReply.count)
            while Loopback.receive(fd, &request, count: 64) {
                guard Loopback.send(redis, command), Loopback.receive(redis, &reply, count: nilReply.count),
                      reply == nilReply, Loopback.send(fd, request) else { break }
            }
        }
    }

    /// Sends 64 bytes and waits for 64 back, `roundTrips` times after a 10% warm-up, against
    /// `serve` running on its own thread with the accepted connection.
    private static func measureRoundTrips(
        name: String, roundTrips: Int, serve: @escaping @Sendable (Int32) -> Void
    ) throws -> LoadResult {
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }
        let server = Thread {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Loopback.noDelay(fd)
            serve(fd)
            close(fd)
        }
        server.start()
        let client = try Loopback.connect(port: port)
        defer { close(client) }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var buffer = [UInt8](repeating: 7, count: 64)
        let warmup = roundTrips / 10
        var started = DispatchTime.now().uptimeNanoseconds
        for index in 0..<(roundTrips + warmup) {
            if index == warmup { started = DispatchTime.now().uptimeNanoseconds }
            let before = DispatchTime.now().uptimeNanoseconds
            guard Loopback.send(client, buffer), Loopback.receive(client, &buffer, count: 64) else {
                throw BenchError("\(name): the server side closed after \(index) round trips")
            }
            if index >= warmup { _ = histogram.record((DispatchTime.now().uptimeNanoseconds - before) / 1000) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return LoadResult(
            name: name, mode: "closed", connections: 1, offeredRate: nil,
            achievedRate: Double(roundTrips) / seconds, calls: histogram.totalCount, errors: 0,
            p50: Double(histogram.valueAtPercentile(50)), p90: Double(histogram.valueAtPercentile(90)),
            p99: Double(histogram.valueAtPercentile(99)), p999: Double(histogram.valueAtPercentile(99.9)),
            max: Double(histogram.max), firstError: nil
        )
    }

    /// `redis-benchmark -t get` against the same Redis: p50/p99 from its CSV output.
    static func redisGet(port: Int, clients: Int, requests: Int) throws -> LoadResult {
        let output = try run("/usr/bin/redis-benchmark", ["-p", "\(port)", "-t", "get", "-n", "\(requests)", "-c", "\(clients)", "-P", "1", "--csv"])
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("\"GET\"") }) else {
            throw BenchError("redis-benchmark printed no GET line: \(output.prefix(200))")
        }
        let fields = line.split(separator: ",").map { Double($0.replacingOccurrences(of: "\"", with: "")) ?? 0 }
        return LoadResult(
            name: "redis GET (redis-benchmark, \(clients) conn)", mode: "closed", connections: clients, offeredRate: nil,
            achievedRate: fields[1], calls: UInt64(requests), errors: 0,
            p50: fields[4] * 1000, p90: fields[5] * 1000, p99: fields[6] * 1000, p999: fields[6] * 1000, max: fields[7] * 1000,
            firstError: nil
        )
    }

    /// `pgbench -S -M prepared` (primary-key selects) against the same PostgreSQL.
    static func pgbenchSelect(databaseURL: String, clients: Int, seconds: Int) throws -> LoadResult {
        let pgbench = "/usr/bin/pgbench"
        _ = try run(pgbench, ["-i", "-s", "1", "-q", databaseURL])
        let output = try run(pgbench, ["-S", "-M", "prepared", "-n", "-c", "\(clients)", "-j", "\(min(clients, 2))", "-T", "\(seconds)", databaseURL])
        func number(after prefix: String) -> Double? {
            output.split(separator: "\n").first { $0.contains(prefix) }
                .flatMap { line in line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces).split(separator: " ").first }
                .flatMap { Double($0) }
        }
        guard let tps = number(after: "tps ="), let latency = number(after: "latency average") else {
            throw BenchError("cannot read pgbench output: \(output.suffix(300))")
        }
        return LoadResult(
            name: "PostgreSQL PK select (pgbench -S -M prepared, \(clients) conn)", mode: "closed", connections: clients,
            offeredRate: nil, achievedRate: tps, calls: UInt64(tps * Double(seconds)), errors: 0,
            p50: latency * 1000, p90: .nan, p99: .nan, p999: .nan, max: .nan, firstError: nil
        )
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchError("\(executable) \(arguments.joined(separator: " ")) failed: \(output.suffix(300))")
        }
        return output
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Blocking loopback sockets with TCP_NODELAY, for the baselines.
enum Loopback {
    /// A listener on 127.0.0.1 at a port the kernel picks, and that port.
    static func listen() throws -> (fd: Int32, port: UInt16) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw BenchError("socket: errno \(errno)") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && Glibc.listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw BenchError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        return (listener, UInt16(bigEndian: address.sin_port))
    }

    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard fd >= 0, connected else {
            if fd >= 0 { close(fd) }
            throw BenchError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
        noDelay(fd)
        return fd
    }

    static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Exactly `count` bytes into `buffer`; false at end of stream or on an error.
    static func receive(_ fd: Int32, _ buffer: inout [UInt8], count: Int) -> Bool {
        buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, Int32(MSG_WAITALL)) } == count
    }

    /// All of `bytes`; false on an error.
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}
