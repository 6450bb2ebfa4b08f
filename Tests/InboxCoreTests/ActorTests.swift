import InboxCore
import Testing

@Suite struct ActorTests {
    @Test func supplierPortalActsForSellersAndSuppliers() throws {
        let seller = try Actor(caller: .supplierPortal, role: .seller, id: "s-1")
        let supplier = try Actor(caller: .supplierPortal, role: .supplier, id: "sup-1")
        #expect(seller.role == .seller && seller.id == "s-1")
        #expect(supplier.role == .supplier && supplier.id == "sup-1")
    }

    @Test func supplierPortalCannotPlayOperator() {
        let error = #expect(throws: InboxError.self) {
            try Actor(caller: .supplierPortal, role: .operator, id: "ops-1")
        }
        #expect(error?.code == .permissionDenied)
    }

    @Test func operatorCredentialPlaysOnlyOperator() throws {
        #expect(try Actor(caller: .operator, role: .operator, id: "alice").role == .operator)
        #expect(throws: InboxError.self) { try Actor(caller: .operator, role: .supplier, id: "sup-1") }
        #expect(throws: InboxError.self) { try Actor(caller: .operator, role: .seller, id: "s-1") }
    }

    @Test(arguments: ["checkout", "settlement", "someone-else"])
    func otherCredentialsPlayNoRole(caller: String) {
        for role in ActorRole.allCases {
            let error = #expect(throws: InboxError.self) {
                try Actor(caller: CallerKind(rawValue: caller), role: role, id: "x")
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test func emptyActorIdIsRefusedNamingTheRoleField() {
        let error = #expect(throws: InboxError.self) { try Actor(caller: .supplierPortal, role: .supplier, id: "") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "supplier_id: must not be empty")
    }
}
