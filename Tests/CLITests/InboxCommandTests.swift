import ArgumentParser
import Proto
import Testing
@testable import O4OCtl

@Suite struct InboxCommandTests {
    @Test func requestsGetARandomIdempotencyKeyUnlessOneIsGiven() throws {
        let first = try InboxCommand.Request.parse(["--seller", "s", "--product", "p"]).makeRequest()
        let second = try InboxCommand.Request.parse(["--seller", "s", "--product", "p"]).makeRequest()
        #expect(first.idempotencyKey.hasPrefix("cli-"))
        #expect(first.idempotencyKey != second.idempotencyKey)
        let keyed = try InboxCommand.Request.parse(["--seller", "s", "--product", "p", "--idempotency-key", "k-1"]).makeRequest()
        #expect(keyed.idempotencyKey == "k-1")
    }

    @Test func statusFiltersParseByName() throws {
        let list = try InboxCommand.List.parse(["--supplier", "sup-1", "--status", "requested,Approved", "--page-size", "20"])
        let request = try list.makeRequest(pageToken: "t")
        #expect(request.statuses == [.requested, .approved])
        #expect(request.pageSize == 20)
        #expect(request.pageToken == "t")
        // An unknown status is a usage error, reported before any call.
        #expect(throws: (any Error).self) { try InboxCommand.List.parse(["--supplier", "sup-1", "--status", "pending"]) }
        #expect(InboxCommand.List.exitCode(for: ValidationError("x")).rawValue == 64)
    }

    @Test func pageSizeOutOfRangeIsAUsageError() {
        #expect(throws: (any Error).self) { try InboxCommand.Mine.parse(["--seller", "s", "--page-size", "500"]) }
    }

    @Test func revokeActsAsSupplierOrOperatorButNotBoth() throws {
        let bySupplier = try InboxCommand.Revoke.parse(["r-1", "--supplier", "sup-1", "--reason", "fraud"])
        #expect(bySupplier.defaultCaller == .supplierPortal)
        let byOperator = try InboxCommand.Revoke.parse(["r-1", "--operator-id", "alice", "--reason", "fraud"])
        #expect(byOperator.defaultCaller == .operator)
        #expect(byOperator.makeRequest() == InboxV1.RevokeAuthorizationRequest(id: "r-1", reason: "fraud", operatorId: "alice"))
        #expect(throws: (any Error).self) {
            try InboxCommand.Revoke.parse(["r-1", "--supplier", "s", "--operator-id", "a", "--reason", "x"])
        }
    }

    @Test func rejectNeedsAReason() {
        #expect(throws: (any Error).self) { try InboxCommand.Reject.parse(["r-1", "--supplier", "sup-1"]) }
    }

    @Test func listsFollowEveryPageWithAll() throws {
        let options = try ListOptions.parse(["--all"])
        var asked: [String] = []
        let result = try options.collect { token in
            asked.append(token)
            let next = token == "" ? "2" : token == "2" ? "3" : ""
            return ([InboxV1.AuthorizationRequest(id: "r\(asked.count)")], next)
        }
        #expect(asked == ["", "2", "3"])
        #expect(result.requests.map(\.id) == ["r1", "r2", "r3"])
        #expect(result.next.isEmpty)
    }
}
