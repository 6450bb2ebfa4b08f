public import Logging
public import ServiceLifecycle
public import Wire

/// Runs a `WireServer` as a lifecycle `Service`: starts it, and on graceful
/// shutdown (SIGTERM) drains it — GOAWAY, in-flight calls finish, then close.
public struct WireService: Service {
    public let server: WireServer
    private let logger: Logger

    public init(server: WireServer, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    public func run() async throws {
        try server.start()
        let server = self.server
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !server.isDraining {
                try? await Task.sleep(for: .milliseconds(100))
            }
        } onGracefulShutdown: {
            // Readiness fails at once (isDraining), so load balancers stop sending.
            server.beginDrain()
        }
        // Drain blocks, so run it off the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Foundation.Thread {
                server.drain()
                continuation.resume()
            }
            thread.start()
        }
        logger.info("wire server drained")
    }
}

import Foundation
