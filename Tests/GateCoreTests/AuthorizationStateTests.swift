import Testing

@testable import GateCore

@Suite("AuthorizationState")
struct AuthorizationStateTests {
    @Test func statusTokensAreTheInboxSpellings() {
        #expect(AuthorizationState.Status.pending.token == "REQUESTED")
        #expect(AuthorizationState.Status.approved(sinceMicros: 1).token == "APPROVED")
        #expect(AuthorizationState.Status.revoked(approvedAtMicros: 1, revokedAtMicros: 2).token == "REVOKED")
        #expect(AuthorizationState.Status.notRequested.token == "NOT_REQUESTED")
    }

    @Test func versionZeroMeansNeverRequestedAndNothingElse() {
        #expect(AuthorizationState.notRequested.isWellFormed)
        #expect(!AuthorizationState(version: 0, status: .pending).isWellFormed)
        #expect(!AuthorizationState(version: 3, status: .notRequested).isWellFormed)
        #expect(!AuthorizationState(version: -1, status: .pending).isWellFormed)
    }

    @Test func aRevocationCannotPrecedeItsApproval() {
        #expect(AuthorizationState(version: 2, status: .revoked(approvedAtMicros: 5, revokedAtMicros: 5)).isWellFormed)
        #expect(!AuthorizationState(version: 2, status: .revoked(approvedAtMicros: 5, revokedAtMicros: 4)).isWellFormed)
        #expect(!AuthorizationState(version: 2, status: .approved(sinceMicros: -1)).isWellFormed)
    }

    @Test func onlyApprovedIsApproved() {
        #expect(AuthorizationState(version: 1, status: .approved(sinceMicros: 0)).isApproved)
        #expect(!AuthorizationState(version: 1, status: .revoked(approvedAtMicros: 0, revokedAtMicros: 1)).isApproved)
        #expect(AuthorizationState(version: 7, status: .pending).description == "v7 REQUESTED")
    }
}
