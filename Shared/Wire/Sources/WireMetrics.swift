import Metrics
import Synchronization

/// The transport's metrics: `wire_calls_total{method,code}`,
/// `wire_call_duration_seconds{method}` and `wire_connections`. Metric objects
/// are created once per label set and cached, keeping the hot path to a lookup.
final class WireMetrics: Sendable {
    let connections = Gauge(label: "wire_connections")
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])

    func record(method: String, code: StatusCode, seconds: Double) {
        let key = method + "#" + code.description
        let counter = counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: "wire_calls_total", dimensions: [("method", method), ("code", code.description)])
            cache[key] = counter
            return counter
        }
        counter.increment()
        let timer = timers.withLock { cache in
            if let timer = cache[method] { return timer }
            let timer = Timer(label: "wire_call_duration_seconds", dimensions: [("method", method)])
            cache[method] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }
}
