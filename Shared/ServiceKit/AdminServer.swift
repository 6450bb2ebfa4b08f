import FlyingFox
import FlyingSocks
import Foundation
public import Logging
import Prometheus
public import ServiceLifecycle
public import Wire

/// The admin HTTP port (NIO-free, FlyingFox): `/metrics` in the Prometheus
/// text format, `/healthz` (liveness: the process serves HTTP) and `/readyz`
/// (readiness: dependencies reachable and not draining).
public struct AdminServer: Service {
    private let host: String
    private let port: Int
    private let readiness: @Sendable () -> HealthReport
    private let logger: Logger

    public init(host: String, port: Int, logger: Logger, readiness: @escaping @Sendable () -> HealthReport) {
        self.host = host
        self.port = port
        self.readiness = readiness
        self.logger = logger
    }

    public func run() async throws {
        let address: any SocketAddress = host == "0.0.0.0"
            ? sockaddr_in.inet(port: UInt16(port))
            : try sockaddr_in.inet(ip4: host, port: UInt16(port))
        let server = HTTPServer(address: address, timeout: 5, logger: .disabled)
        let readiness = self.readiness
        await server.appendRoute("GET /metrics") { _ in
            let body = Observability.registry?.emitToBuffer() ?? []
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(body)
            )
        }
        await server.appendRoute("GET /healthz") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain"], body: Data("ok\n".utf8))
        }
        await server.appendRoute("GET /readyz") { _ in
            let report = readiness()
            var body = report.isHealthy ? "ready\n" : "not ready\n"
            for dependency in report.dependencies {
                body += "\(dependency.name): \(dependency.ok ? "ok" : "FAIL \(dependency.detail)")\n"
            }
            return HTTPResponse(
                statusCode: report.isHealthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain"], body: Data(body.utf8)
            )
        }
        logger.info("admin http listening", metadata: ["port": "\(port)"])
        do {
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                // Reached only after the wire server drained (see ServiceHost): until
                // then /readyz kept answering 503 so load balancers stayed away.
                Task { await server.stop(timeout: 1) }
            }
        } catch {
            // Stopping the HTTP server ends `run()` with an error; after a
            // shutdown request that is the normal way out, not a failure.
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            throw error
        }
    }
}
