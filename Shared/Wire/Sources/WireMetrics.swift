import Metrics
import Synchronization

/// The transport's metrics: `wire_calls_total{method,code}`,
/// `wire_call_duration_seconds{method}` and `wire_connections`. Metric objects
/// are created once per label set and cached, so a call costs one lock and two
/// dictionary lookups, with no allocation once its method and code were seen.
final class WireMetrics: Sendable {
    let connections = Gauge(label: "wire_connections")

    /// One method's timer and its counters by status code.
    private struct MethodMetrics {
        let duration: Timer
        var calls: [StatusCode: Counter] = [:]
    }

    private let methods = Mutex<[String: MethodMetrics]>([:])

    func record(method: String, code: StatusCode, seconds: Double) {
        let (counter, timer) = methods.withLock { cache -> (Counter, Timer) in
            var entry = cache[method] ?? MethodMetrics(
                duration: Timer(label: "wire_call_duration_seconds", dimensions: [("method", method)])
            )
            if let counter = entry.calls[code] { return (counter, entry.duration) }
            let counter = Counter(label: "wire_calls_total", dimensions: [("method", method), ("code", code.description)])
            entry.calls[code] = counter
            cache[method] = entry
            return (counter, entry.duration)
        }
        counter.increment()
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }
}
