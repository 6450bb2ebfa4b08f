import InboxCore
import Testing

@Suite struct AuthorizationStatusTests {
    @Test func onlyRequestedAndApprovedHoldTheOpenSlot() {
        let open = AuthorizationStatus.allCases.filter(\.isOpen)
        #expect(open == [.requested, .approved])
        #expect(AuthorizationStatus.allCases.filter(\.isTerminal) == [.rejected, .cancelled, .revoked])
    }

    @Test func pendingRequestsRankBeforeEverythingElse() {
        #expect(AuthorizationStatus.requested.inboxRank == 0)
        for status in AuthorizationStatus.allCases where status != .requested {
            #expect(status.inboxRank == 1)
        }
    }

    @Test func rawValuesAreTheStoredSpellings() {
        #expect(AuthorizationStatus.allCases.map(\.rawValue) == ["REQUESTED", "APPROVED", "REJECTED", "CANCELLED", "REVOKED"])
    }
}
