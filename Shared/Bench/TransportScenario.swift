import Proto
import Wire

/// The transport alone: the health call (no storage I/O; readiness is cached)
/// on one connection through `WireClient`, and from 64 connections driven by
/// the event-loop generator (one thread, like `redis-benchmark`), so the
/// 64-connection figure measures the server rather than 64 client threads.
enum TransportScenario {
    static let scenario = Scenario(name: "transport") { context, report in
        let service = "gate"
        let call: LoadGenerator.OperationFactory = { _ in
            let client = context.environment.client(service: service, caller: "checkout")
            return {
                _ = try client.call(HealthService.checkMethod, HealthV1.HealthCheckRequest(), as: HealthV1.HealthCheckResponse.self)
            }
        }
        let single = try context.generator("transport: health Check, 1 connection", connections: 1, call).runClosedLoop()
        let wide = try context.eventLoopGenerator(
            "transport: health Check, 64 connections (event-loop client)", service: service, caller: "checkout", connections: 64,
            method: HealthService.checkMethod, payloads: [HealthV1.HealthCheckRequest().serializedBytes()],
            verify: { _, response in
                (try? HealthV1.HealthCheckResponse(serializedBytes: response)) == nil ? "malformed HealthCheckResponse" : nil
            }
        ).runClosedLoop()
        report.results += [single, wide]
        report.notes.append(
            "transport, 64 connections: driven by the event-loop load generator (one thread, epoll, pre-encoded requests); "
                + "o4o-bench used \(format(wide.clientCPUSeconds ?? 0)) s CPU for that \(context.runSeconds) s run. "
                + "The 1-connection run goes through WireClient.")
        if let raw = report.baselines.first(where: { $0.name.hasPrefix("raw TCP") }) {
            let ratio = single.p50 / raw.p50
            report.goals.append(GoalVerdict(
                issue: "#2", goal: "unary call p50 within 2x of raw TCP round trip",
                measured: "p50 \(Int(single.p50)) µs vs raw TCP \(Int(raw.p50)) µs = \(format(ratio))x; p99 \(Int(single.p99)) µs vs \(Int(raw.p99)) µs",
                met: ratio <= 2
            ))
        }
        report.goals.append(GoalVerdict(
            issue: "#2", goal: "≥ 25,000 calls/s with 64 connections",
            measured: "\(Int(wide.achievedRate)) calls/s, p99 \(Int(wide.p99)) µs, \(wide.errors) errors",
            met: wide.achievedRate >= 25_000 && wide.errors == 0
        ))
    }
}

func format(_ ratio: Double) -> String {
    String(format: "%.2f", ratio)
}
