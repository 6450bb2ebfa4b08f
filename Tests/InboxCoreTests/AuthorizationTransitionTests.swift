import InboxCore
import Testing

@Suite struct AuthorizationTransitionTests {
    /// The whole legal table: action × from-state → to-state.
    static let legal: [(InboxAction, AuthorizationStatus, AuthorizationStatus)] = [
        (.approve, .requested, .approved),
        (.reject, .requested, .rejected),
        (.cancel, .requested, .cancelled),
        (.revoke, .approved, .revoked),
    ]

    @Test(arguments: legal.indices)
    func legalTransitionReachesItsTarget(index: Int) throws {
        let (action, from, to) = Self.legal[index]
        let transition = try AuthorizationTransition.applying(action, to: from)
        #expect(transition.from == from)
        #expect(transition.to == to)
        #expect(transition.action == action)
    }

    @Test(arguments: InboxAction.allCases, AuthorizationStatus.allCases)
    func everyOtherPairIsRefusedNamingTheCurrentState(action: InboxAction, current: AuthorizationStatus) {
        guard !Self.legal.contains(where: { $0.0 == action && $0.1 == current }) else { return }
        let error = #expect(throws: InboxError.self) {
            try AuthorizationTransition.applying(action, to: current)
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("request is \(current.rawValue)") == true)
        #expect(error?.message.hasPrefix("cannot \(action.rawValue):") == true)
    }

    @Test(arguments: [AuthorizationStatus.rejected, .cancelled, .revoked])
    func terminalStatesAcceptNoAction(terminal: AuthorizationStatus) {
        for action in InboxAction.allCases {
            #expect(throws: InboxError.self) { try AuthorizationTransition.applying(action, to: terminal) }
        }
    }

    @Test func revokingAPendingRequestSaysOnlyApprovedCanBeRevoked() {
        let error = #expect(throws: InboxError.self) {
            try AuthorizationTransition.applying(.revoke, to: .requested)
        }
        #expect(error?.message == "cannot revoke: request is REQUESTED; revoke applies only to APPROVED")
    }

    @Test func creationStartsFromNothingAtRequested() {
        #expect(AuthorizationTransition.request.from == nil)
        #expect(AuthorizationTransition.request.to == .requested)
        #expect(AuthorizationTransition.all.first == .request)
        #expect(AuthorizationTransition.all.count == 5)
    }

    @Test func noLegalTransitionLeavesATerminalState() {
        let fromStates = AuthorizationTransition.all.compactMap(\.from)
        #expect(fromStates.allSatisfy { !$0.isTerminal })
    }

    @Test(arguments: [InboxAction.approve, .reject, .cancel, .revoke])
    func eachDecisionHasExactlyOneLegalFromState(action: InboxAction) throws {
        let decision = try #require(AuthorizationTransition.decision(action))
        let from = try #require(decision.from)
        #expect(decision.action == action)
        #expect(try AuthorizationTransition.applying(action, to: from) == decision)
        for other in AuthorizationStatus.allCases where other != from {
            #expect(throws: InboxError.self) { try AuthorizationTransition.applying(action, to: other) }
        }
    }

    @Test func requestIsNotADecision() {
        #expect(AuthorizationTransition.decision(.request) == nil)
    }
}
