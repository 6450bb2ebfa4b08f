import Logging
import PolicyCore

/// One call's resolutions counted by level and its failures by reason, with
/// the first few failure log lines kept: published together once the call's
/// outcome is known, so a call that then fails as a whole (the resolution
/// timeout) publishes only that failure, as if it had priced nothing.
struct ResolutionTally {
    /// At most this many failure lines are logged per call; the rest are
    /// summarised in one line, so a bad 10,000-item batch cannot flood the logs.
    static let maximumFailureLogLines = 100

    private let naming: PreparedBatch.Naming
    private var levels: [ResolutionLevel: Int] = [:]
    private var invalid = 0
    private var lines: [(message: Logger.Message, metadata: Logger.Metadata)] = []
    private var unlogged = 0

    /// An empty tally; `naming` names items in log lines.
    init(naming: PreparedBatch.Naming) {
        self.naming = naming
    }

    /// Counts the outcome of item `index`.
    mutating func count(_ outcome: PolicyHandlers.ItemOutcome, index: Int) {
        let naming = naming
        switch outcome {
        case .resolved(let resolution, _):
            levels[resolution.level, default: 0] += 1
            guard resolution.level == .safeMode else { return }
            keep("policy resolution fell back to safe mode", [
                "reason": "\(ResolutionFailureReason.noPolicyFound.rawValue)",
                "order_item_id": "\(resolution.orderItemID)", "item": "\(PreparedBatch.label(index, naming))",
            ])
        case .failed(let failure):
            invalid += 1
            keep("policy resolution failed for an item", [
                "reason": "\(failure.reason.rawValue)", "code": "\(failure.code)", "error": "\(failure.message)",
            ])
        }
    }

    private mutating func keep(_ message: Logger.Message, _ metadata: @autoclosure () -> Logger.Metadata) {
        if lines.count < Self.maximumFailureLogLines {
            lines.append((message, metadata()))
        } else {
            unlogged += 1
        }
    }

    /// Records the counts in `metrics` and writes the kept lines to `logger`.
    func publish(to metrics: PolicyMetrics, logger: Logger) {
        metrics.recordResolutions(levels)
        metrics.recordFailures(.invalidInput, count: invalid)
        for line in lines {
            logger.warning(line.message, metadata: line.metadata)
        }
        if unlogged > 0 {
            logger.warning("more policy resolution failures not logged one by one", metadata: ["count": "\(unlogged)"])
        }
    }
}
