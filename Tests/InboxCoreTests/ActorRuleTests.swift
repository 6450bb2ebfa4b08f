import InboxCore
import Testing

@Suite struct ActorRuleTests {
    let parties = RequestParties(sellerId: "s-1", productId: "p-1", supplierId: "sup-1")

    func seller(_ id: String) throws -> Actor { try Actor(caller: .supplierPortal, role: .seller, id: id) }
    func supplier(_ id: String) throws -> Actor { try Actor(caller: .supplierPortal, role: .supplier, id: id) }
    func operatorActor() throws -> Actor { try Actor(caller: .operator, role: .operator, id: "ops-1") }

    @Test func aSellerRequestsForItselfOnly() throws {
        try ActorRule.authorizeRequest(by: seller("s-1"), sellerId: "s-1")
        let error = #expect(throws: InboxError.self) { try ActorRule.authorizeRequest(by: seller("s-2"), sellerId: "s-1") }
        #expect(error?.code == .permissionDenied)
        #expect(throws: InboxError.self) { try ActorRule.authorizeRequest(by: supplier("s-1"), sellerId: "s-1") }
        #expect(throws: InboxError.self) { try ActorRule.authorizeRequest(by: operatorActor(), sellerId: "s-1") }
    }

    @Test(arguments: [InboxAction.approve, .reject, .revoke])
    func theOwningSupplierDecides(action: InboxAction) throws {
        try ActorRule.authorize(action, by: supplier("sup-1"), on: parties)
    }

    @Test(arguments: [InboxAction.approve, .reject, .revoke])
    func anotherSupplierIsDeniedNamingTheProduct(action: InboxAction) throws {
        let other = try supplier("sup-2")
        let error = #expect(throws: InboxError.self) { try ActorRule.authorize(action, by: other, on: parties) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message == "\(action): supplier sup-2 does not own product p-1")
    }

    @Test(arguments: [InboxAction.approve, .reject, .revoke])
    func aSellerNamedLikeTheSupplierStillCannotDecide(action: InboxAction) throws {
        // Ids of different roles live in different namespaces: "sup-1" as a
        // seller is not the supplier "sup-1".
        let impostor = try seller("sup-1")
        #expect(throws: InboxError.self) { try ActorRule.authorize(action, by: impostor, on: parties) }
    }

    @Test func onlyTheRequestingSellerCancels() throws {
        try ActorRule.authorize(.cancel, by: seller("s-1"), on: parties)
        #expect(throws: InboxError.self) { try ActorRule.authorize(.cancel, by: seller("s-2"), on: parties) }
        #expect(throws: InboxError.self) { try ActorRule.authorize(.cancel, by: supplier("sup-1"), on: parties) }
        #expect(throws: InboxError.self) { try ActorRule.authorize(.cancel, by: operatorActor(), on: parties) }
    }

    @Test func anOperatorMayRevokeButNeverGrantOrReject() throws {
        try ActorRule.authorize(.revoke, by: operatorActor(), on: parties)
        #expect(throws: InboxError.self) { try ActorRule.authorize(.approve, by: operatorActor(), on: parties) }
        #expect(throws: InboxError.self) { try ActorRule.authorize(.reject, by: operatorActor(), on: parties) }
    }

    @Test func sellersCannotDecideOnTheirOwnRequests() throws {
        for action in [InboxAction.approve, .reject, .revoke] {
            #expect(throws: InboxError.self) { try ActorRule.authorize(action, by: seller("s-1"), on: parties) }
        }
    }

    @Test func bothPartiesAndOperatorsMayViewARequest() throws {
        try ActorRule.authorizeView(by: seller("s-1"), of: parties)
        try ActorRule.authorizeView(by: supplier("sup-1"), of: parties)
        try ActorRule.authorizeView(by: operatorActor(), of: parties)
        #expect(throws: InboxError.self) { try ActorRule.authorizeView(by: seller("s-2"), of: parties) }
        #expect(throws: InboxError.self) { try ActorRule.authorizeView(by: supplier("sup-2"), of: parties) }
    }

    @Test func listingsAreReadByTheirOwnerOrAnOperator() throws {
        try ActorRule.authorizeListing(of: .supplier("sup-1"), by: supplier("sup-1"))
        try ActorRule.authorizeListing(of: .seller("s-1"), by: seller("s-1"))
        try ActorRule.authorizeListing(of: .supplier("sup-1"), by: operatorActor())
        #expect(throws: InboxError.self) { try ActorRule.authorizeListing(of: .supplier("sup-1"), by: supplier("sup-2")) }
        #expect(throws: InboxError.self) { try ActorRule.authorizeListing(of: .supplier("sup-1"), by: seller("sup-1")) }
        #expect(throws: InboxError.self) { try ActorRule.authorizeListing(of: .seller("s-1"), by: seller("s-2")) }
    }

    @Test(arguments: InboxAction.allCases)
    func theDecisionScopeAdmitsExactlyWhatAuthorizeAllows(action: InboxAction) throws {
        let actors = [
            try seller("s-1"), try seller("s-2"), try seller("sup-1"),
            try supplier("sup-1"), try supplier("sup-2"), try supplier("s-1"),
            try operatorActor(),
        ]
        let requests = [
            parties,
            RequestParties(sellerId: "s-2", productId: "p-2", supplierId: "sup-2"),
            RequestParties(sellerId: "sup-1", productId: "p-3", supplierId: "s-1"),
        ]
        for actor in actors {
            let scope = ActorRule.decisionScope(action, by: actor)
            for request in requests {
                let allowed = (try? ActorRule.authorize(action, by: actor, on: request)) != nil
                #expect(scope.admits(request) == allowed, "\(action) by \(actor) on \(request)")
            }
        }
    }

    @Test func decisionScopesNameTheActorsOwnId() throws {
        #expect(ActorRule.decisionScope(.approve, by: try supplier("sup-1")) == .supplier("sup-1"))
        #expect(ActorRule.decisionScope(.cancel, by: try seller("s-1")) == .seller("s-1"))
        #expect(ActorRule.decisionScope(.revoke, by: try operatorActor()) == .anyRequest)
        #expect(ActorRule.decisionScope(.approve, by: try operatorActor()) == .nobody)
        #expect(ActorRule.decisionScope(.cancel, by: try supplier("sup-1")) == .nobody)
    }
}
