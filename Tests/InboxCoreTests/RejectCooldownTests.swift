import InboxCore
import Testing

@Suite struct RejectCooldownTests {
    /// 2026-01-01T00:00:00Z.
    let rejectedAt: Int64 = 1_767_225_600_000_000
    let day = RejectCooldown.microsPerDay

    @Test func defaultIsTheSeedsThirtyDays() throws {
        #expect(try RejectCooldown().days == 30)
    }

    @Test func neverRejectedIsAllowed() throws {
        #expect(try RejectCooldown().decide(lastRejectedAtUnixMicros: nil, nowUnixMicros: 0) == .allowed)
    }

    @Test func oneMicrosecondBeforeThirtyDaysIsBlockedUntilTheBoundary() throws {
        let cooldown = try RejectCooldown(days: 30)
        let boundary = rejectedAt + 30 * day
        #expect(
            cooldown.decide(lastRejectedAtUnixMicros: rejectedAt, nowUnixMicros: boundary - 1)
                == .blocked(untilUnixMicros: boundary)
        )
    }

    @Test func exactlyThirtyDaysLaterIsAllowed() throws {
        let cooldown = try RejectCooldown(days: 30)
        #expect(cooldown.decide(lastRejectedAtUnixMicros: rejectedAt, nowUnixMicros: rejectedAt + 30 * day) == .allowed)
    }

    @Test func rightAfterTheRejectionIsBlocked() throws {
        let cooldown = try RejectCooldown(days: 30)
        #expect(
            cooldown.decide(lastRejectedAtUnixMicros: rejectedAt, nowUnixMicros: rejectedAt)
                == .blocked(untilUnixMicros: rejectedAt + 30 * day)
        )
    }

    @Test func zeroDaysDisablesTheCooldown() throws {
        let none = try RejectCooldown(days: 0)
        #expect(none.decide(lastRejectedAtUnixMicros: rejectedAt, nowUnixMicros: rejectedAt) == .allowed)
    }

    @Test func blockIsFailedPreconditionCarryingTheRetryTime() throws {
        let cooldown = try RejectCooldown(days: 30)
        let error = #expect(throws: InboxError.self) {
            try cooldown.check(sellerId: "s-1", productId: "p-1", lastRejectedAtUnixMicros: rejectedAt, nowUnixMicros: rejectedAt + day)
        }
        let until = rejectedAt + 30 * day
        #expect(error?.code == .failedPrecondition)
        #expect(error?.retryAfterUnixMicros == until)
        #expect(error?.message.contains("may request again from 2026-01-31T00:00:00Z") == true)
        #expect(error?.message.hasSuffix("retry_after_unix_micros=\(until)") == true)
    }

    @Test func retryTimeKeepsMicroseconds() throws {
        let cooldown = try RejectCooldown(days: 1)
        let error = #expect(throws: InboxError.self) {
            try cooldown.check(sellerId: "s-1", productId: "p-1", lastRejectedAtUnixMicros: rejectedAt + 1_500, nowUnixMicros: rejectedAt)
        }
        #expect(error?.message.contains("2026-01-02T00:00:00.001500Z") == true)
    }

    @Test func aHugeRejectionTimeDoesNotOverflow() throws {
        let cooldown = try RejectCooldown(days: 30)
        #expect(cooldown.endOfCooldown(rejectedAtUnixMicros: .max - 1) == .max)
    }

    @Test(arguments: [-1, RejectCooldown.maximumDays + 1])
    func daysOutsideTheRangeAreRefusedNamingTheSetting(days: Int) {
        let error = #expect(throws: InboxError.self) { try RejectCooldown(days: days) }
        #expect(error?.message.hasPrefix("SELLER_REJECT_COOLDOWN_DAYS:") == true)
    }
}
