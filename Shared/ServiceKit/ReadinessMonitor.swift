import Foundation
import Proto
import Synchronization
public import Wire

/// Probes each dependency (PostgreSQL, Redis, flag store) on its own thread
/// once a second and keeps the latest verdicts, so `/readyz` and the health RPC
/// answer from memory and never wait on a dead dependency.
public final class ReadinessMonitor: Sendable {
    /// One dependency check: returns nil when fine, else what is wrong.
    public struct Probe: Sendable {
        public var name: String
        /// Whether a failure makes the instance unready. The gate keeps serving
        /// (from its cache, or from PostgreSQL) when one store is down, so its
        /// store probes are informational.
        public var critical: Bool
        public var check: @Sendable () -> String?

        public init(name: String, critical: Bool = true, check: @escaping @Sendable () -> String?) {
            self.name = name
            self.critical = critical
            self.check = check
        }
    }

    private let probes: [Probe]
    private let interval: Duration
    private let results: Mutex<[String: String?]>
    private let stopped = Atomic<Bool>(false)

    public init(probes: [Probe], interval: Duration = .seconds(1)) {
        self.probes = probes
        self.interval = interval
        self.results = Mutex(Dictionary(uniqueKeysWithValues: probes.map { ($0.name, Optional("not checked yet")) }))
    }

    /// Runs every probe once now (so start-up knows), then keeps probing in the background.
    public func start() {
        probeAll()
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
                probeAll()
            }
        }
        thread.name = "readiness"
        thread.start()
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    public func probeAll() {
        for probe in probes {
            let verdict = probe.check()
            results.withLock { $0[probe.name] = verdict }
        }
    }

    /// The latest verdicts, in probe order.
    public func report() -> HealthReport {
        let snapshot = results.withLock { $0 }
        return HealthReport(dependencies: probes.map { probe in
            let problem = snapshot[probe.name] ?? nil
            // A non-critical failure is reported but does not fail readiness.
            let detail = problem.map { probe.critical ? $0 : "degraded: \($0)" } ?? ""
            return HealthV1.DependencyStatus(name: probe.name, ok: problem == nil || !probe.critical, detail: detail)
        })
    }
}
