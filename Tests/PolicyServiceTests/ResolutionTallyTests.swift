@testable import PolicyService
import Logging
import PolicyCore
import Synchronization
import Testing
import Wire

/// Per-call counting and failure logging: nothing is written before
/// `publish`, and a bad batch logs at most 100 lines plus one summary.
@Suite struct ResolutionTallyTests {
    /// Keeps every message logged through it.
    final class CapturedLines: Sendable {
        let messages = Mutex<[String]>([])
    }

    struct CapturingHandler: LogHandler {
        let lines: CapturedLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.messages.withLock { $0.append("\(event.message)") }
        }
    }

    private func logger() -> (Logger, CapturedLines) {
        let lines = CapturedLines()
        return (Logger(label: "tally-test") { _ in CapturingHandler(lines: lines) }, lines)
    }

    @Test func logsNothingUntilPublishedThenCapsTheLines() {
        let (logger, lines) = logger()
        var tally = ResolutionTally(naming: .batch)
        for index in 0..<150 {
            tally.count(.failed(ItemFailure(code: .notFound, message: "items[\(index)].product_id: unknown", reason: .invalidInput)), index: index)
        }
        #expect(lines.messages.withLock { $0.isEmpty })
        tally.publish(to: PolicyMetrics(), logger: logger)
        let messages = lines.messages.withLock { $0 }
        #expect(messages.count == ResolutionTally.maximumFailureLogLines + 1)
        #expect(messages.last == "more policy resolution failures not logged one by one")
    }

    @Test func safeModeIsLoggedAndOtherLevelsAreNot() throws {
        let (logger, lines) = logger()
        let item = OrderItem(orderItemID: "oi-1", productID: "p", lineAmount: Money(minorUnits: 100, currency: try Currency(code: "USD")),
                             orderedAt: 1)
        var tally = ResolutionTally(naming: .single)
        tally.count(.resolved(Resolution(orderItemID: "oi-1", level: .safeMode, commission: .zero(item.lineAmount.currency),
                                         appliedPolicy: nil), item: item), index: 0)
        tally.count(.resolved(Resolution(orderItemID: "oi-2", level: .default, commission: .zero(item.lineAmount.currency),
                                         appliedPolicy: nil), item: item), index: 1)
        tally.publish(to: PolicyMetrics(), logger: logger)
        #expect(lines.messages.withLock { $0 } == ["policy resolution fell back to safe mode"])
    }
}
