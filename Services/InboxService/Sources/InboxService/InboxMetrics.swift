import InboxCore
import Metrics

/// The inbox's metrics (names fixed by the team brief), created once.
///
/// Inbox size is two gauges without a supplier label: a per-supplier series
/// for thousands of suppliers costs more than it tells; the largest
/// supplier's backlog is what the seed's alert needs, and `InboxSize` answers
/// per supplier on demand.
final class InboxMetrics: Sendable {
    /// `seller_auth_requests_total{action}`: successful actions (replays excluded).
    private let requests: [InboxAction: Counter]
    /// `seller_auth_decision_duration_seconds{action}`: every call of a write action, whatever its outcome.
    private let durations: [InboxAction: Metrics.Timer]
    /// `seller_auth_limit_rejections_total`.
    let limitRejections = Counter(label: "seller_auth_limit_rejections_total")
    /// `seller_auth_cooldown_blocks_total`.
    let cooldownBlocks = Counter(label: "seller_auth_cooldown_blocks_total")
    /// `seller_auth_inbox_size`: pending requests, all suppliers.
    let inboxSize = Gauge(label: "seller_auth_inbox_size")
    /// `seller_auth_inbox_max_supplier_size`: the largest single supplier's pending count.
    let inboxMaxSupplierSize = Gauge(label: "seller_auth_inbox_max_supplier_size")

    init() {
        var requests: [InboxAction: Counter] = [:]
        var durations: [InboxAction: Metrics.Timer] = [:]
        for action in InboxAction.allCases {
            requests[action] = Counter(label: "seller_auth_requests_total", dimensions: [("action", action.rawValue)])
            durations[action] = Metrics.Timer(
                label: "seller_auth_decision_duration_seconds", dimensions: [("action", action.rawValue)])
        }
        self.requests = requests
        self.durations = durations
    }

    func succeeded(_ action: InboxAction) {
        requests[action]?.increment()
    }

    func duration(_ action: InboxAction, nanoseconds: Int64) {
        durations[action]?.recordNanoseconds(nanoseconds)
    }
}
