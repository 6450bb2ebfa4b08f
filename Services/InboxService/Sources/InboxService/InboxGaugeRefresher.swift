import Logging
public import ServiceLifecycle
public import Storage

/// Refreshes `seller_auth_inbox_size` and `seller_auth_inbox_max_supplier_size`
/// from the README's gauge query on a timer (every few seconds), never per
/// call: one grouped count over the small pending-only index.
public final class InboxGaugeRefresher: Service, Sendable {
    private let store: any AuthorizationStore
    private let metrics: InboxMetrics
    private let logger: Logger
    /// Pause between refreshes.
    public let interval: Duration

    init(store: any AuthorizationStore, metrics: InboxMetrics, logger: Logger, interval: Duration) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
    }

    /// Reads the gauges once and records them; returns (total, largest).
    @discardableResult
    public func refreshOnce(deadline: Deadline = .after(seconds: 2)) throws -> (total: Int64, largest: Int64) {
        let gauges = try store.inboxSizeGauges(deadline: deadline)
        metrics.inboxSize.record(gauges.total)
        metrics.inboxMaxSupplierSize.record(gauges.largest)
        return gauges
    }

    public func run() async throws {
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let outcome: Result<(total: Int64, largest: Int64), any Error> = await BlockingWork.run { [self] in
                Result { try self.refreshOnce() }
            }
            if case .failure(let error) = outcome {
                if !failing { logger.warning("inbox.gauges.refresh_failed", metadata: ["error": "\(error)"]) }
                failing = true
            } else {
                failing = false
            }
            try? await Task.sleep(for: interval)
        }
    }
}
