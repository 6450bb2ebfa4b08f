import Foundation
public import Logging
import Metrics
public import Prometheus
import Synchronization

/// Process-wide logging and metrics, bootstrapped once per binary.
public enum Observability {
    private static let registryBox = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Histogram edges for every duration metric, in seconds. They include the
    /// seeds' thresholds (5 ms, 10 ms, 50 ms, 100 ms) so alerts on p95 > 10 ms
    /// read an exact bucket edge.
    public static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    /// Installs the JSON log handler and the Prometheus metrics factory. Safe to
    /// call more than once (tests); only the first call installs.
    @discardableResult
    public static func bootstrap(service: String, logLevel: Logger.Level) -> PrometheusCollectorRegistry {
        registryBox.withLock { box in
            if let registry = box { return registry }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, service: service, level: logLevel) }
            box = registry
            return registry
        }
    }

    /// The registry installed by `bootstrap`, if any.
    public static var registry: PrometheusCollectorRegistry? { registryBox.withLock { $0 } }
}
