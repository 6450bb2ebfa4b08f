import Storage
import Testing

@Suite struct DeadlineTests {
    @Test func aDeadlineInTheFutureIsNotExpiredAndHasTimeLeft() {
        let deadline = Deadline.after(milliseconds: 500)
        #expect(!deadline.isExpired)
        #expect(deadline.remainingMicros > 400_000)
        #expect(deadline.remaining <= .milliseconds(500))
    }

    @Test func aNegativeTimeoutIsAlreadyExpired() {
        let deadline = Deadline.after(micros: -5)
        #expect(deadline.isExpired)
        #expect(deadline.remainingMicros == 0)
        #expect(deadline.remaining == .zero)
    }

    @Test func hugeTimeoutsSaturateAtDistantFutureInsteadOfOverflowing() {
        #expect(Deadline.after(seconds: .max) == .distantFuture)
        #expect(Deadline.after(micros: .max) == .distantFuture)
        #expect(!Deadline.distantFuture.isExpired)
    }

    @Test func durationAndUnitConstructorsAgree() {
        let byDuration = Deadline.after(.milliseconds(250))
        let byMillis = Deadline.after(milliseconds: 250)
        let gap = Int64(byMillis.uptimeNanoseconds) - Int64(byDuration.uptimeNanoseconds)
        #expect(abs(gap) < 50_000_000)
    }

    @Test func remainingMillisecondsRoundUpSoPollNeverWakesEarly() {
        let deadline = Deadline(uptimeNanoseconds: Deadline.now().uptimeNanoseconds + 1_500_000)
        #expect(deadline.remainingMillisecondsRoundedUp == 2 || deadline.remainingMillisecondsRoundedUp == 1)
        #expect(Deadline.after(micros: -1).remainingMillisecondsRoundedUp == 0)
    }

    @Test func deadlinesOrderByInstant() {
        let early = Deadline.after(milliseconds: 10)
        let late = Deadline.after(seconds: 10)
        #expect(early < late)
        #expect(early.earlier(than: late) == early)
    }
}
