import Foundation
import Glibc
import Proto
import Synchronization
import TestSupport
import Testing
import Wire

/// The real `gate-service` binary, two instances, restarted one after the
/// other with SIGTERM while clients keep calling: no call may be lost, and each
/// instance must exit promptly after draining.
@Suite struct GateRollingRestartTests {
    /// The binary `swift build --build-tests` put next to the test bundle.
    static var binary: URL {
        get throws {
            let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [bundleDirectory, bundleDirectory.deletingLastPathComponent()]
                .map { $0.appendingPathComponent("gate-service") }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw FixtureError("gate-service binary not found next to the test bundle (\(candidates.map(\.path))); build with `swift build --build-tests`")
            }
            return found
        }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    final class Instance {
        let process = Process()
        let port: Int

        init(binary: URL, port: Int, environment: [String: String]) throws {
            self.port = port
            process.executableURL = binary
            var values = environment
            values["WIRE_PORT"] = "\(port)"
            values["WIRE_HOST"] = "127.0.0.1"
            values["ADMIN_HOST"] = "127.0.0.1"
            values["ADMIN_PORT"] = "\(GateRollingRestartTests.freePort())"
            process.environment = values
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Waits until the instance answers health, or fails after 30 s.
        func waitUntilServing(credential: String) throws {
            let client = WireClient(configuration: WireClientConfiguration(addresses: ["127.0.0.1:\(port)"], credential: credential))
            defer { client.close() }
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let reply = try? client.call(HealthService.checkMethod, HealthV1.HealthCheckRequest(), as: HealthV1.HealthCheckResponse.self, timeout: .seconds(1)),
                   reply.status == .serving {
                    return
                }
                usleep(100_000)
            }
            throw FixtureError("gate-service on port \(port) did not start serving within 30 s")
        }

        /// SIGTERM, then the seconds until the process exited (SIGKILL after 20 s).
        func terminate() -> (seconds: Double, status: Int32) {
            let started = Date()
            kill(process.processIdentifier, SIGTERM)
            while process.isRunning && Date().timeIntervalSince(started) < 20 { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return (Date().timeIntervalSince(started), process.terminationStatus)
        }
    }

    @Test func restartingEachInstanceUnderLoadLosesNoCheck() throws {
        let fixture = try GateFixture()
        let product = TestInfrastructure.uniqueID("prod")
        try fixture.addProduct(product)
        _ = try fixture.approve(product)
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("gate-restart-\(UUID().uuidString)")
        try GateFixture.secrets.map { "\($0.key.rawValue):\($0.value)" }.joined(separator: "\n")
            .write(to: credentials, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: credentials) }
        let environment = [
            "DATABASE_URL": fixture.databaseURL, "REDIS_URL": try TestInfrastructure.redisURL(),
            "WIRE_CREDENTIALS_FILE": credentials.path, "ENABLE_SELLER_AUTHORIZATION": "true", "SELLER_AUTH_MODE": "full",
            "DRAIN_TIMEOUT_SECONDS": "5", "LOG_LEVEL": "error", "WIRE_WORKER_THREADS": "4",
        ]
        let binary = try Self.binary
        let checkout = GateFixture.secrets[.checkout]!
        var instances = try [Self.freePort(), Self.freePort()].map { try Instance(binary: binary, port: $0, environment: environment) }
        for instance in instances { try instance.waitUntilServing(credential: checkout) }

        var configuration = WireClientConfiguration(addresses: instances.map { "127.0.0.1:\($0.port)" }, credential: checkout)
        configuration.maxAttempts = 6
        let client = WireClient(configuration: configuration)
        let failures = Mutex<[String]>([])
        let answered = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let done = Atomic<Int>(0)
        let request = GateV1.CheckRequest(sellerId: fixture.seller, productId: product, stage: .cart)
        for index in 0..<4 {
            let thread = Thread {
                while !stop.load(ordering: .relaxed) {
                    do throws(RPCError) {
                        let reply = try client.call(
                            "/gate.v1.GateService/Check", request, as: GateV1.CheckResponse.self, timeout: .seconds(5), idempotent: true)
                        if reply.result?.allowed == true {
                            answered.add(1, ordering: .relaxed)
                        } else {
                            failures.withLock { $0.append("not allowed: \(String(describing: reply.result?.reason))") }
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                done.add(1, ordering: .relaxed)
            }
            thread.name = "caller-\(index)"
            thread.start()
        }
        var exits: [(seconds: Double, status: Int32)] = []
        for index in instances.indices {
            usleep(500_000)
            let port = instances[index].port
            exits.append(instances[index].terminate())
            instances[index] = try Instance(binary: binary, port: port, environment: environment)
            try instances[index].waitUntilServing(credential: checkout)
        }
        usleep(500_000)
        stop.store(true, ordering: .relaxed)
        while done.load(ordering: .relaxed) < 4 { usleep(10_000) }
        for instance in instances { _ = instance.terminate() }
        client.close()

        let lost = failures.withLock { $0 }
        #expect(lost.isEmpty, "lost calls: \(lost.prefix(5))")
        #expect(answered.load(ordering: .relaxed) > 100)
        for exit in exits {
            #expect(exit.status == 0, "a drained instance must exit cleanly")
            #expect(exit.seconds < 7, "SIGTERM to exit took \(exit.seconds) s (drain bound 5 s)")
        }
    }
}
