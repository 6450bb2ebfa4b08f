import ArgumentParser
import Foundation
import Proto
import Wire

/// `o4octl inbox ...`: sellers' authorization requests and suppliers' decisions.
struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "Request, decide and list seller authorizations (default caller: supplier-portal).",
        subcommands: [Request.self, Approve.self, Reject.self, Revoke.self, Cancel.self, List.self, Mine.self, Show.self, Size.self]
    )

    static func method(_ name: String) -> String { "/inbox.v1.InboxService/\(name)" }

    /// One line per request, for `list` and `mine`.
    static func table(_ requests: [InboxV1.AuthorizationRequest]) -> OutputTable {
        var table = OutputTable("id", "seller", "product", "supplier", "status", "created", "decided", "version", "reason")
        for request in requests {
            let decided = max(request.decidedAtUnixMicros, request.revokedAtUnixMicros)
            table.append([
                request.id, request.sellerId, request.productId, request.supplierId, OutputValue.enumName(request.status),
                Timestamp.iso8601(micros: request.createdAtUnixMicros),
                decided == 0 ? "" : Timestamp.iso8601(micros: decided), String(request.version), request.reason,
            ])
        }
        return table
    }

    /// A fresh idempotency key: a retry of the same command line must pass
    /// the printed key again to be recognised as a retry.
    static func randomIdempotencyKey() -> String {
        "cli-" + UUID().uuidString.lowercased()
    }
}

/// The filter and paging options of `list` and `mine`.
struct ListOptions: ParsableArguments {
    @Option(help: "Comma-separated statuses: requested, approved, rejected, cancelled, revoked (default: all).")
    var status: String?
    @Option(help: "Only this product.") var product: String?
    @Option(help: "Rows per page, 1 to 200 (default: the service's 50).") var pageSize: Int32?
    @Option(help: "The next_page_token of the previous page.") var pageToken: String?
    @Flag(help: "Follow next_page_token until the last page.") var all = false

    func validate() throws {
        if let pageSize, !(1...200).contains(pageSize) {
            throw ValidationError("--page-size: must be 1 to 200, got \(pageSize)")
        }
        try checkingUsage { () throws(CLIError) in try statuses() }
    }

    func statuses() throws(CLIError) -> [InboxV1.AuthorizationStatus] {
        var result: [InboxV1.AuthorizationStatus] = []
        for name in commaSeparated(status ?? "") {
            result.append(try parseProtoEnum(name, field: "--status"))
        }
        return result
    }

    /// Fetches one page, or every page with --all; `fetch` takes a page token.
    func collect(
        _ fetch: (String) throws(RPCError) -> (requests: [InboxV1.AuthorizationRequest], next: String)
    ) throws(RPCError) -> (requests: [InboxV1.AuthorizationRequest], next: String) {
        var page = try fetch(pageToken ?? "")
        guard all else { return page }
        var requests = page.requests
        // A bound on pages guards against a service that keeps returning a token.
        for _ in 0..<10_000 where !page.next.isEmpty {
            page = try fetch(page.next)
            requests += page.requests
        }
        return (requests, page.next)
    }

    func emit(_ result: (requests: [InboxV1.AuthorizationRequest], next: String), output: OutputOptions) {
        let value = OutputValue.object([
            OutputField("requests", .array(result.requests.map(OutputValue.init(reflecting:)))),
            OutputField("next_page_token", .string(result.next)),
        ])
        output.emit(value) {
            var text = InboxCommand.table(result.requests).text
            if !result.next.isEmpty { text += "\nmore: --page-token \(result.next)" }
            return text
        }
    }
}

extension InboxCommand {
    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A seller asks to sell a product.",
            discussion: "The idempotency key defaults to a random one; pass the printed key again to retry safely."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "The requesting seller.") var seller: String
        @Option(help: "The product.") var product: String
        @Option(help: "A note to the supplier (at most 1,000 characters).") var note: String?
        @Option(help: "The idempotency key (default: a random one).") var idempotencyKey: String?

        func makeRequest() -> InboxV1.RequestAuthorizationRequest {
            InboxV1.RequestAuthorizationRequest(
                sellerId: seller, productId: product,
                idempotencyKey: idempotencyKey ?? InboxCommand.randomIdempotencyKey(), note: note ?? ""
            )
        }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            // Keyed: a retry after a lost answer replays the first result.
            let response = try connection.call(
                InboxCommand.method("Request"), makeRequest(), as: InboxV1.RequestAuthorizationResponse.self, idempotent: true
            )
            output.emit(response)
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The product's supplier approves a request.")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "The supplier acting (must own the product).") var supplier: String
        @Option(help: "An optional reason (at most 500 characters).") var reason: String?

        func makeRequest() -> InboxV1.ApproveAuthorizationRequest {
            InboxV1.ApproveAuthorizationRequest(id: id, supplierId: supplier, reason: reason ?? "")
        }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            output.emit(try connection.call(InboxCommand.method("Approve"), makeRequest(), as: InboxV1.ApproveAuthorizationResponse.self))
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The product's supplier rejects a request (starts the cooldown).")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "The supplier acting (must own the product).") var supplier: String
        @Option(help: "Why (required, at most 500 characters).") var reason: String

        func makeRequest() -> InboxV1.RejectAuthorizationRequest {
            InboxV1.RejectAuthorizationRequest(id: id, supplierId: supplier, reason: reason)
        }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            output.emit(try connection.call(InboxCommand.method("Reject"), makeRequest(), as: InboxV1.RejectAuthorizationResponse.self))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an approval: the supplier (--supplier) or an operator (--operator-id, caller operator)."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "The supplier acting (must own the product).") var supplier: String?
        @Option(help: "The person acting as operator (the default caller becomes operator).") var operatorId: String?
        @Option(help: "Why (required, at most 500 characters).") var reason: String

        func validate() throws {
            guard (supplier == nil) != (operatorId == nil) else {
                throw ValidationError("pass exactly one of --supplier and --operator-id")
            }
        }

        func makeRequest() -> InboxV1.RevokeAuthorizationRequest {
            InboxV1.RevokeAuthorizationRequest(id: id, supplierId: supplier ?? "", reason: reason, operatorId: operatorId ?? "")
        }

        var defaultCaller: CallerRole { operatorId == nil ? .supplierPortal : .operator }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: defaultCaller)
            output.emit(try connection.call(InboxCommand.method("Revoke"), makeRequest(), as: InboxV1.RevokeAuthorizationResponse.self))
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The requesting seller withdraws a pending request.")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "The seller acting (must be the requesting seller).") var seller: String

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            let request = InboxV1.CancelAuthorizationRequest(id: id, sellerId: seller)
            output.emit(try connection.call(InboxCommand.method("Cancel"), request, as: InboxV1.CancelAuthorizationResponse.self))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A supplier's inbox: pending first, oldest first.")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var list: ListOptions
        @Option(help: "The supplier whose inbox to list.") var supplier: String

        func makeRequest(pageToken: String) throws(CLIError) -> InboxV1.ListInboxRequest {
            InboxV1.ListInboxRequest(
                supplierId: supplier, statuses: try list.statuses(), productId: list.product ?? "",
                pageSize: list.pageSize ?? 0, pageToken: pageToken
            )
        }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            let base = try makeRequest(pageToken: "")
            let result = try list.collect { token throws(RPCError) in
                var request = base
                request.pageToken = token
                let page = try connection.call(InboxCommand.method("ListInbox"), request, as: InboxV1.ListInboxResponse.self, idempotent: true)
                return (page.requests, page.nextPageToken)
            }
            list.emit(result, output: output)
        }
    }

    struct Mine: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A seller's own requests: pending first, oldest first.")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var list: ListOptions
        @Option(help: "The seller whose requests to list.") var seller: String

        func makeRequest(pageToken: String) throws(CLIError) -> InboxV1.ListMineRequest {
            InboxV1.ListMineRequest(
                sellerId: seller, statuses: try list.statuses(), productId: list.product ?? "",
                pageSize: list.pageSize ?? 0, pageToken: pageToken
            )
        }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            let base = try makeRequest(pageToken: "")
            let result = try list.collect { token throws(RPCError) in
                var request = base
                request.pageToken = token
                let page = try connection.call(InboxCommand.method("ListMine"), request, as: InboxV1.ListMineResponse.self, idempotent: true)
                return (page.requests, page.nextPageToken)
            }
            list.emit(result, output: output)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One request with its audit history.",
            discussion: "The portal views as the seller (--seller) or the supplier (--supplier); with neither the default caller is operator."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "View as this seller (the requesting seller).") var seller: String?
        @Option(help: "View as this supplier (the product's supplier).") var supplier: String?

        func validate() throws {
            if seller != nil, supplier != nil { throw ValidationError("pass at most one of --seller and --supplier") }
        }

        var defaultCaller: CallerRole { seller == nil && supplier == nil ? .operator : .supplierPortal }

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: defaultCaller)
            let request = InboxV1.GetAuthorizationRequest(id: id, sellerId: seller ?? "", supplierId: supplier ?? "")
            let response = try connection.call(InboxCommand.method("Get"), request, as: InboxV1.GetAuthorizationResponse.self, idempotent: true)
            output.emit(response) {
                var events = OutputTable("at", "from", "to", "actor", "role", "caller", "version", "reason")
                for event in response.events {
                    events.append([
                        Timestamp.iso8601(micros: event.atUnixMicros),
                        event.fromStatus == .unspecified ? "" : OutputValue.enumName(event.fromStatus),
                        OutputValue.enumName(event.toStatus), event.actorId, OutputValue.enumName(event.actorRole),
                        event.caller, String(event.version), event.reason,
                    ])
                }
                let request = OutputValue(reflecting: response.request ?? InboxV1.AuthorizationRequest()).text
                return request + "\n\nhistory:\n" + events.text
            }
        }
    }

    struct Size: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many requests wait in a supplier's inbox.")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "The supplier.") var supplier: String

        func run() throws {
            let connection = try client.connect(to: .inbox, defaultCaller: .supplierPortal)
            let request = InboxV1.InboxSizeRequest(supplierId: supplier)
            output.emit(try connection.call(InboxCommand.method("InboxSize"), request, as: InboxV1.InboxSizeResponse.self, idempotent: true))
        }
    }
}
