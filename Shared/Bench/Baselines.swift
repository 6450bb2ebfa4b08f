import Foundation
import Glibc
import Histogram

/// Baselines measured in the same run as the services, so figures are ratios.
enum Baselines {
    /// Round trip of 64 bytes over loopback TCP to an in-process echo thread:
    /// the floor under any RPC on this machine.
    static func rawTCP(roundTrips: Int) throws -> LoadResult {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 1)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let echo = Thread {
            let fd = accept(listener, nil, nil)
            var nodelay: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size))
            var buffer = [UInt8](repeating: 0, count: 64)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 64, Int32(MSG_WAITALL)) }
                if count <= 0 { break }
                _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, count, 0) }
            }
            close(fd)
        }
        echo.start()
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        address.sin_port = bound.sin_port
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var nodelay: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size))
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var buffer = [UInt8](repeating: 7, count: 64)
        let started = DispatchTime.now().uptimeNanoseconds
        for index in 0..<(roundTrips + roundTrips / 10) {
            let before = DispatchTime.now().uptimeNanoseconds
            _ = buffer.withUnsafeBytes { send(client, $0.baseAddress, 64, 0) }
            _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, 64, Int32(MSG_WAITALL)) }
            if index >= roundTrips / 10 { _ = histogram.record((DispatchTime.now().uptimeNanoseconds - before) / 1000) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        close(client)
        close(listener)
        return LoadResult(
            name: "raw TCP round trip (64 B, loopback)", mode: "closed", connections: 1, offeredRate: nil,
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
