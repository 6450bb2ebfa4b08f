import Testing

@testable import GateCore

@Suite("CircuitBreaker")
struct CircuitBreakerTests {
    static let start = ContinuousClock.Instant.now
    static let configuration = CircuitBreaker.Configuration(
        consecutiveFailures: 3, window: 10, failureRatePercent: 50, openDuration: .seconds(2))

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        Self.start + .milliseconds(milliseconds)
    }

    @Test func aClosedBreakerLetsCallsThrough() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        #expect(breaker.acquire(at: at(0)).permission == .call)
        #expect(breaker.state == .closed)
        #expect(!breaker.isOpen)
    }

    @Test func opensAfterConsecutiveFailures() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        #expect(breaker.record(success: false, at: at(0)) == nil)
        #expect(breaker.record(success: false, at: at(1)) == nil)
        #expect(breaker.record(success: false, at: at(2)) == .opened)
        #expect(breaker.state == .open(until: at(2) + .seconds(2)))
        #expect(breaker.acquire(at: at(3)).permission == .rejected)
    }

    @Test func aSuccessResetsTheConsecutiveCount() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for (index, success) in [false, false, true, false, false].enumerated() {
            #expect(breaker.record(success: success, at: at(index)) == nil)
        }
        #expect(breaker.state == .closed)
    }

    @Test func opensWhenTheFailureRateOfAFullWindowReachesTheThreshold() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        // Alternating outcomes never reach 3 in a row; the 10th call fills the
        // window at 5 failures of 10 = 50%.
        var transitions: [CircuitBreaker.Transition?] = []
        for index in 0..<10 {
            transitions.append(breaker.record(success: index.isMultiple(of: 2), at: at(index)))
        }
        #expect(transitions.dropLast().allSatisfy { $0 == nil })
        #expect(transitions.last == .opened)
    }

    @Test func staysClosedBelowTheFailureRate() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        // 4 failures in every 10 calls, never 3 in a row.
        let pattern = [true, false, true, false, true, true, false, true, false, true]
        for round in 0..<5 {
            for (index, success) in pattern.enumerated() {
                breaker.record(success: success, at: at(round * 10 + index))
            }
        }
        #expect(breaker.state == .closed)
    }

    @Test func letsOneProbeThroughAfterTheOpenDurationAndClosesOnItsSuccess() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for index in 0..<3 { breaker.record(success: false, at: at(index)) }
        #expect(breaker.acquire(at: at(2_001)).permission == .rejected)
        let probe = breaker.acquire(at: at(2_002))
        #expect(probe.permission == .probe)
        #expect(probe.transition == .halfOpened)
        // While the probe is out, everyone else takes the fallback.
        #expect(breaker.acquire(at: at(2_003)).permission == .rejected)
        #expect(breaker.record(success: true, at: at(2_004)) == .closed)
        #expect(breaker.acquire(at: at(2_005)).permission == .call)
    }

    @Test func aFailedProbeOpensTheBreakerAgain() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for index in 0..<3 { breaker.record(success: false, at: at(index)) }
        _ = breaker.acquire(at: at(2_002))
        #expect(breaker.record(success: false, at: at(2_010)) == .opened)
        #expect(breaker.state == .open(until: at(2_010) + .seconds(2)))
        #expect(breaker.acquire(at: at(4_009)).permission == .rejected)
        #expect(breaker.acquire(at: at(4_010)).permission == .probe)
    }

    @Test func aProbeThatNeverReportsIsReplaced() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for index in 0..<3 { breaker.record(success: false, at: at(index)) }
        #expect(breaker.acquire(at: at(2_002)).permission == .probe)
        #expect(breaker.acquire(at: at(4_001)).permission == .rejected)
        let replacement = breaker.acquire(at: at(4_002))
        #expect(replacement.permission == .probe)
        #expect(replacement.transition == nil)
    }

    @Test func outcomesReportedWhileOpenAreIgnored() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for index in 0..<3 { breaker.record(success: false, at: at(index)) }
        // A late success from a call started before the breaker opened.
        #expect(breaker.record(success: true, at: at(10)) == nil)
        #expect(breaker.isOpen)
        #expect(breaker.acquire(at: at(11)).permission == .rejected)
    }

    @Test func closingForgetsThePastFailures() {
        var breaker = CircuitBreaker(configuration: Self.configuration)
        for index in 0..<3 { breaker.record(success: false, at: at(index)) }
        _ = breaker.acquire(at: at(2_002))
        breaker.record(success: true, at: at(2_003))
        #expect(breaker.record(success: false, at: at(2_004)) == nil)
        #expect(breaker.record(success: false, at: at(2_005)) == nil)
        #expect(breaker.state == .closed)
    }

    @Test func theConfigurationIsClampedToItsRanges() {
        let clamped = CircuitBreaker.Configuration(
            consecutiveFailures: 0, window: 500, failureRatePercent: 0, openDuration: .seconds(-1))
        #expect(clamped.consecutiveFailures == 1)
        #expect(clamped.window == 64)
        #expect(clamped.failureRatePercent == 1)
        #expect(clamped.openDuration == .zero)
    }

    @Test func aSixtyFourCallWindowCountsEveryCall() {
        var breaker = CircuitBreaker(configuration: .init(
            consecutiveFailures: 100, window: 64, failureRatePercent: 50, openDuration: .seconds(1)))
        var opened = false
        for index in 0..<64 {
            opened = breaker.record(success: index.isMultiple(of: 2), at: at(index)) == .opened || opened
        }
        #expect(opened)
    }
}
