import InboxCore
import Testing

@Suite struct SellerLimitPolicyTests {
    @Test func defaultLimitIsTheSeedsTen() throws {
        #expect(try SellerLimitPolicy().limit == 10)
    }

    @Test func requestIsAllowedOneBelowTheLimitCountingPending() throws {
        let policy = try SellerLimitPolicy(limit: 10)
        #expect(policy.decideRequest(approved: 6, pending: 3) == .allowed)
        #expect(policy.decideRequest(approved: 0, pending: 9) == .allowed)
    }

    @Test func requestIsRefusedAtTheLimitWhetherApprovedOrPending() throws {
        let policy = try SellerLimitPolicy(limit: 10)
        #expect(policy.decideRequest(approved: 10, pending: 0) == .refused(limit: 10, holding: 10))
        #expect(policy.decideRequest(approved: 7, pending: 3) == .refused(limit: 10, holding: 10))
        #expect(policy.decideRequest(approved: 0, pending: 10) == .refused(limit: 10, holding: 10))
        #expect(policy.decideRequest(approved: 12, pending: 1) == .refused(limit: 10, holding: 13))
    }

    @Test func approvalCountsOnlyOtherApprovedAuthorizations() throws {
        let policy = try SellerLimitPolicy(limit: 10)
        #expect(policy.decideApproval(approvedOthers: 9) == .allowed)
        #expect(policy.decideApproval(approvedOthers: 10) == .refused(limit: 10, holding: 10))
    }

    @Test func aLimitLoweredWhileRequestsWaitIsEnforcedAtApproval() throws {
        // Requested under limit 10 with 4 approved; the limit is then lowered to 4.
        let lowered = try SellerLimitPolicy(limit: 4)
        #expect(lowered.decideApproval(approvedOthers: 4) == .refused(limit: 4, holding: 4))
    }

    @Test func refusalIsResourceExhaustedNamingTheLimit() throws {
        let policy = try SellerLimitPolicy(limit: 10)
        let error = #expect(throws: InboxError.self) {
            try policy.checkRequest(sellerId: "s-1", approved: 7, pending: 3)
        }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message.hasPrefix("SELLER_PRODUCT_LIMIT: seller s-1 holds 10 of 10 products") == true)
        let approval = #expect(throws: InboxError.self) {
            try policy.checkApproval(sellerId: "s-1", approvedOthers: 10)
        }
        #expect(approval?.code == .resourceExhausted)
        #expect(approval?.message.contains("of 10") == true)
        try policy.checkRequest(sellerId: "s-1", approved: 9, pending: 0)
        try policy.checkApproval(sellerId: "s-1", approvedOthers: 9)
    }

    @Test func limitZeroFreezesEverything() throws {
        let frozen = try SellerLimitPolicy(limit: 0)
        #expect(frozen.decideRequest(approved: 0, pending: 0) == .refused(limit: 0, holding: 0))
        #expect(frozen.decideApproval(approvedOthers: 0) == .refused(limit: 0, holding: 0))
    }

    @Test(arguments: [-1, SellerLimitPolicy.maximumLimit + 1])
    func limitOutsideTheRangeIsRefusedNamingTheSetting(limit: Int) {
        let error = #expect(throws: InboxError.self) { try SellerLimitPolicy(limit: limit) }
        #expect(error?.message.hasPrefix("SELLER_PRODUCT_LIMIT:") == true)
    }

    @Test func anApprovalSkipsTheLockOnlyWhileEverythingHeldFitsTheLimit() throws {
        let policy = try SellerLimitPolicy(limit: 10)
        // holding counts the request being approved.
        #expect(policy.approvalIsSafeWithoutLock(holding: 1))
        #expect(policy.approvalIsSafeWithoutLock(holding: 10))
        #expect(!policy.approvalIsSafeWithoutLock(holding: 11))
        #expect(try !SellerLimitPolicy(limit: 0).approvalIsSafeWithoutLock(holding: 1))
    }

    @Test func whenTheUnlockedApprovalAppliesTheLockedCheckAllowsToo() throws {
        // Whatever mix of approved and pending a seller holds within the limit,
        // the locked check would also allow the approval: the fast path never
        // approves what the lock path refuses.
        for limit in 0...12 {
            let policy = try SellerLimitPolicy(limit: limit)
            for approvedOthers in 0...14 {
                for otherPending in 0...14 {
                    let holding = approvedOthers + otherPending + 1
                    if policy.approvalIsSafeWithoutLock(holding: holding) {
                        #expect(policy.decideApproval(approvedOthers: approvedOthers) == .allowed)
                    }
                }
            }
        }
    }
}
