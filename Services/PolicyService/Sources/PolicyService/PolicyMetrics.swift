import Metrics
import PolicyCore

/// The seed's policy metrics, created once and shared by every call:
/// `o4o_policy_resolution_total{resolution_level}`,
/// `o4o_policy_resolution_failures_total{reason}`,
/// `o4o_policy_resolution_duration_seconds` and
/// `o4o_commission_calculation_duration_seconds` (histograms, seconds).
final class PolicyMetrics: Sendable {
    private let resolutions: [ResolutionLevel: Counter]
    private let failures: [ResolutionFailureReason: Counter]
    /// One observation per Resolve or ResolveBatch call: preload plus resolution.
    let resolutionDuration = Timer(label: "o4o_policy_resolution_duration_seconds")
    /// One observation per RecordCommissions call: resolving and freezing a
    /// settlement batch's lines (the seed's "commission calculation").
    let commissionCalculationDuration = Timer(label: "o4o_commission_calculation_duration_seconds")

    init() {
        var resolutions: [ResolutionLevel: Counter] = [:]
        for level in ResolutionLevel.allCases {
            resolutions[level] = Counter(label: "o4o_policy_resolution_total", dimensions: [("resolution_level", level.rawValue)])
        }
        var failures: [ResolutionFailureReason: Counter] = [:]
        for reason in ResolutionFailureReason.allCases {
            failures[reason] = Counter(label: "o4o_policy_resolution_failures_total", dimensions: [("reason", reason.rawValue)])
        }
        self.resolutions = resolutions
        self.failures = failures
    }

    /// Counts resolutions by level; safe mode also counts as a `no_policy_found` failure.
    func recordResolutions(_ counts: [ResolutionLevel: Int]) {
        for (level, count) in counts where count > 0 {
            resolutions[level]?.increment(by: count)
            if level == .safeMode {
                failures[.noPolicyFound]?.increment(by: count)
            }
        }
    }

    /// Counts failed resolutions by reason.
    func recordFailures(_ reason: ResolutionFailureReason, count: Int = 1) {
        guard count > 0 else { return }
        failures[reason]?.increment(by: count)
    }
}
