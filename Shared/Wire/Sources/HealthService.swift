public import Proto

/// What readiness looked at, produced by the service (PostgreSQL, Redis,
/// runtime flags); the server adds whether it is draining.
public struct HealthReport: Sendable {
    public var dependencies: [HealthV1.DependencyStatus]

    public init(dependencies: [HealthV1.DependencyStatus]) {
        self.dependencies = dependencies
    }

    public var isHealthy: Bool { dependencies.allSatisfy(\.ok) }
}

/// `/health.v1.Health/Check`, modelled on grpc.health.v1: the empty name asks
/// about the whole server, each service answers for its full name, and an
/// unknown name is NOT_FOUND.
public enum HealthService {
    public static let checkMethod = "/health.v1.Health/Check"

    /// Registers the health method on `router`.
    ///
    /// - Parameters:
    ///   - services: the full service names this server answers for, e.g. `gate.v1.GateService`.
    ///   - isDraining: whether the server is shutting down.
    ///   - readiness: the dependency checks; called on every health call, so keep it cheap (cached probes).
    public static func register(
        on router: inout MethodRouter,
        services: Set<String>,
        isDraining: @escaping @Sendable () -> Bool,
        readiness: @escaping @Sendable () -> HealthReport
    ) {
        router.register(checkMethod, callers: nil, idempotent: true) {
            (_: CallContext, request: HealthV1.HealthCheckRequest) throws -> HealthV1.HealthCheckResponse in
            guard request.service.isEmpty || services.contains(request.service) else {
                throw RPCError(.notFound, "service: unknown service \"\(request.service)\"")
            }
            var report = readiness()
            let draining = isDraining()
            report.dependencies.append(
                HealthV1.DependencyStatus(name: "draining", ok: !draining, detail: draining ? "server is draining" : "")
            )
            return HealthV1.HealthCheckResponse(
                status: report.isHealthy ? .serving : .notServing,
                dependencies: report.dependencies
            )
        }
    }
}
