import ArgumentParser
import Foundation
import Proto
import Wire

/// `o4octl policy ...`: commission policies (operators) and their resolution
/// and recording (the settlement).
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Administer commission policies (caller operator) and resolve or record commissions (caller settlement).",
        discussion: "POLICY arguments take a policy id (a UUID) or its code (e.g. DEFAULT-2025).",
        subcommands: [
            Create.self, Update.self, Activate.self, Deactivate.self, Link.self, Unlink.self, Show.self,
            Resolve.self, ResolveBatch.self, Record.self,
        ]
    )

    static func method(_ name: String) -> String { "/policy.v1.PolicyService/\(name)" }

    /// A GetPolicy request for an id or a code: lowercase UUID text is an id,
    /// anything else a code (codes are upper case, so the two never collide).
    static func getRequest(for reference: String) -> PolicyV1.GetPolicyRequest {
        let isUUID = reference.count == 36 && reference.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase }
        return isUUID ? PolicyV1.GetPolicyRequest(policyId: reference) : PolicyV1.GetPolicyRequest(code: reference)
    }

    /// Reads a policy as stored now (for its id and version).
    static func fetch(_ reference: String, on connection: ServiceConnection) throws(RPCError) -> PolicyV1.GetPolicyResponse {
        try connection.call(method("GetPolicy"), getRequest(for: reference), as: PolicyV1.GetPolicyResponse.self, idempotent: true)
    }

    /// `1250 USD`: money stays in minor units, as on the wire, so nothing is rounded for display.
    static func money(_ amount: Int64, _ currency: String) -> String {
        currency.isEmpty ? String(amount) : "\(amount) \(currency)"
    }

    /// `DEFAULT-2025 v3`.
    static func policyLabel(_ snapshot: PolicyV1.PolicySnapshot?) -> String {
        snapshot.map { "\($0.code) v\($0.version)" } ?? ""
    }
}

/// Who acts, for the audit trail of admin calls.
struct OperatorOptions: ParsableArguments {
    @Option(help: "The person acting, kept in the audit trail (default: $O4O_OPERATOR_ID, else $USER).")
    var operatorId: String?

    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CLIError) -> String {
        try Self.person(given: operatorId, option: "--operator-id", environment: environment)
    }

    /// The person acting: the option, else $O4O_OPERATOR_ID, else $USER (as git does).
    static func person(given: String?, option: String, environment: [String: String]) throws(CLIError) -> String {
        for candidate in [given, environment["O4O_OPERATOR_ID"], environment["USER"]] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        throw CLIError(field: option, "required (or set O4O_OPERATOR_ID)")
    }
}

/// The editable terms of a policy. Create starts from nothing; update starts
/// from the stored terms and changes only what is given.
struct PolicyTermsOptions: ParsableArguments {
    @Option(help: "Unique code, e.g. SUPPLIER-ACME-2025.") var code: String?
    @Option(help: "product, supplier, tier or default (cannot change on update).") var kind: String?
    @Option(name: .customLong("type"), help: "percentage or fixed.") var commissionType: String?
    @Option(help: "Percentage rate, exact to 0.0001 % (e.g. 12.5 or 12.5%).") var rate: String?
    @Option(help: "Percentage rate in parts per million (125000 = 12.5 %).") var ratePpm: Int64?
    @Option(help: "Fixed commission in minor units of --currency.") var fixedAmount: Int64?
    @Option(help: "ISO 4217 code of the fixed amount and the caps.") var currency: String?
    @Option(help: "Lower cap in minor units.") var minCommission: Int64?
    @Option(help: "Upper cap in minor units.") var maxCommission: Int64?
    @Option(help: "Start of the validity window, inclusive (ISO 8601).") var validFrom: String?
    @Option(help: "End of the validity window, exclusive (ISO 8601).") var validUntil: String?
    @Option(help: "Update: comma-separated bounds to remove: min-commission, max-commission, valid-from, valid-until.")
    var clear: String?

    func validate() throws {
        if rate != nil, ratePpm != nil { throw ValidationError("pass at most one of --rate and --rate-ppm") }
        try checkingUsage { () throws(CLIError) in try apply(to: PolicyV1.PolicyTerms()) }
    }

    /// `terms` with every given option applied.
    func apply(to terms: PolicyV1.PolicyTerms) throws(CLIError) -> PolicyV1.PolicyTerms {
        var terms = terms
        if let code { terms.code = code }
        if let kind { terms.kind = try parseProtoEnum(kind, field: "--kind") }
        if let commissionType {
            terms.commissionType = try parseProtoEnum(commissionType, field: "--type")
            // Switching type: the other type's amount must be 0 on the wire.
            if terms.commissionType == .fixed, rate == nil, ratePpm == nil { terms.ratePpm = 0 }
            if terms.commissionType == .percentage, fixedAmount == nil { terms.fixedAmount = 0 }
        }
        if let rate { terms.ratePpm = try Self.ppm(fromPercent: rate) }
        if let ratePpm { terms.ratePpm = ratePpm }
        if let fixedAmount { terms.fixedAmount = fixedAmount }
        if let currency { terms.currency = currency.uppercased() }
        for bound in commaSeparated(clear ?? "") {
            switch bound {
            case "min-commission": terms.minCommission = nil
            case "max-commission": terms.maxCommission = nil
            case "valid-from": terms.validFromUnixMicros = nil
            case "valid-until": terms.validUntilUnixMicros = nil
            default:
                throw CLIError(field: "--clear", "expected min-commission, max-commission, valid-from or valid-until, got \"\(bound)\"")
            }
        }
        if let minCommission { terms.minCommission = PolicyV1.Int64Value(value: minCommission) }
        if let maxCommission { terms.maxCommission = PolicyV1.Int64Value(value: maxCommission) }
        if let validFrom {
            terms.validFromUnixMicros = PolicyV1.Int64Value(value: try Timestamp.parseMicros(validFrom, field: "--valid-from"))
        }
        if let validUntil {
            terms.validUntilUnixMicros = PolicyV1.Int64Value(value: try Timestamp.parseMicros(validUntil, field: "--valid-until"))
        }
        return terms
    }

    /// `12.5` or `12.5%` → 125000 ppm, exactly: the text is read as a decimal,
    /// never through a floating-point number. Finer than 0.0001 % is refused
    /// rather than rounded, since a rate is money.
    static func ppm(fromPercent text: String) throws(CLIError) -> Int64 {
        var body = text.trimmingWhitespace()
        if body.hasSuffix("%") { body.removeLast() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), parts[0].count <= 3
        else {
            throw CLIError(field: "--rate", "expected a percentage such as 12.5, got \"\(text)\"")
        }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 4 else {
            throw CLIError(field: "--rate", "at most 4 decimals (1 ppm = 0.0001 %), got \"\(text)\"; use --rate-ppm")
        }
        let whole = Int64(parts[0]) ?? 0
        let padded = fraction + String(repeating: "0", count: 4 - fraction.count)
        let ppm = whole * 10_000 + (Int64(padded) ?? 0)
        guard ppm <= 1_000_000 else { throw CLIError(field: "--rate", "must be at most 100 %, got \"\(text)\"") }
        return ppm
    }
}

extension PolicyCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a policy (caller operator).")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var terms: PolicyTermsOptions
        @OptionGroup var actor: OperatorOptions
        @Option(help: "active or inactive (required: say whether it applies at once).") var status: String

        func validate() throws {
            guard terms.code != nil, terms.kind != nil, terms.commissionType != nil else {
                throw ValidationError("--code, --kind and --type are required")
            }
            if terms.clear != nil { throw ValidationError("--clear: only with update") }
            try checkingUsage { () throws(CLIError) in try parseProtoEnum(status, field: "--status", as: PolicyV1.PolicyStatus.self) }
        }

        func makeRequest() throws(CLIError) -> PolicyV1.CreatePolicyRequest {
            PolicyV1.CreatePolicyRequest(
                terms: try terms.apply(to: PolicyV1.PolicyTerms()),
                status: try parseProtoEnum(status, field: "--status"), operatorId: try actor.resolved()
            )
        }

        func run() throws {
            let request = try makeRequest()
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            output.emit(try connection.call(PolicyCommand.method("CreatePolicy"), request, as: PolicyV1.PolicyResponse.self))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a policy's terms (caller operator); options not given keep their stored value.",
            discussion: """
                Without --expected-version the version read just before is used: the update still fails \
                (FAILED_PRECONDITION ... current_version=<n>) if someone edits the policy in between.
                """
        )

        @Argument(help: "The policy id or code.") var policy: String
        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var terms: PolicyTermsOptions
        @OptionGroup var actor: OperatorOptions
        @Option(help: "The version you reviewed (optimistic concurrency).") var expectedVersion: Int64?

        func makeRequest(current: PolicyV1.Policy) throws(CLIError) -> PolicyV1.UpdatePolicyRequest {
            PolicyV1.UpdatePolicyRequest(
                policyId: current.id, expectedVersion: expectedVersion ?? current.version,
                terms: try terms.apply(to: current.terms ?? PolicyV1.PolicyTerms()), operatorId: try actor.resolved()
            )
        }

        func run() throws {
            _ = try actor.resolved()  // fail before any call
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            let current = try PolicyCommand.fetch(policy, on: connection).policy ?? PolicyV1.Policy()
            let request = try makeRequest(current: current)
            output.emit(try connection.call(PolicyCommand.method("UpdatePolicy"), request, as: PolicyV1.PolicyResponse.self))
        }
    }

    /// `activate` and `deactivate` differ only in the status they set.
    struct StatusChange: ParsableArguments {
        @Argument(help: "The policy id or code.") var policy: String
        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var actor: OperatorOptions
        @Option(help: "The version you reviewed (default: the version read just before).") var expectedVersion: Int64?
        @Option(help: "Why, for the audit trail.") var reason: String?

        func run(setting status: PolicyV1.PolicyStatus) throws {
            let operatorId = try actor.resolved()
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            let current = try PolicyCommand.fetch(policy, on: connection).policy ?? PolicyV1.Policy()
            let request = PolicyV1.SetPolicyStatusRequest(
                policyId: current.id, expectedVersion: expectedVersion ?? current.version, status: status,
                operatorId: operatorId, reason: reason ?? ""
            )
            output.emit(try connection.call(PolicyCommand.method("SetPolicyStatus"), request, as: PolicyV1.PolicyResponse.self))
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a policy ACTIVE (caller operator).")
        @OptionGroup var change: StatusChange
        func run() throws { try change.run(setting: .active) }
    }

    struct Deactivate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a policy INACTIVE (caller operator).")
        @OptionGroup var change: StatusChange
        func run() throws { try change.run(setting: .inactive) }
    }

    /// The scope options of `link` and `unlink`.
    struct ScopeOptions: ParsableArguments {
        @Argument(help: "The policy id or code.") var policy: String
        @Option(help: "product, supplier or tier.") var scope: String
        @Option(help: "The product id, supplier id or tier name (e.g. GOLD).") var scopeId: String

        func validate() throws {
            try checkingUsage { () throws(CLIError) in try scopeKind() }
        }

        func scopeKind() throws(CLIError) -> PolicyV1.ScopeKind {
            try parseProtoEnum(scope, field: "--scope")
        }
    }

    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link a product, supplier or tier to a policy of its kind (caller operator).")

        @OptionGroup var target: ScopeOptions
        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var actor: OperatorOptions
        @Option(help: "Supplier links only: the settlement cycle in days, 1 to 365.") var cycleDays: Int32?

        func run() throws {
            let scopeKind = try target.scopeKind()
            let operatorId = try actor.resolved()
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            let policyId = try PolicyCommand.fetch(target.policy, on: connection).policy?.id ?? ""
            let request = PolicyV1.LinkPolicyRequest(
                scopeKind: scopeKind, scopeId: target.scopeId, policyId: policyId,
                settlementCycleDays: cycleDays ?? 0, operatorId: operatorId
            )
            output.emit(try connection.call(PolicyCommand.method("LinkPolicy"), request, as: PolicyV1.LinkPolicyResponse.self))
        }
    }

    struct Unlink: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a link (caller operator); removed: false when there was none.")

        @OptionGroup var target: ScopeOptions
        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @OptionGroup var actor: OperatorOptions

        func run() throws {
            let scopeKind = try target.scopeKind()
            let operatorId = try actor.resolved()
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            let policyId = try PolicyCommand.fetch(target.policy, on: connection).policy?.id ?? ""
            let request = PolicyV1.UnlinkPolicyRequest(scopeKind: scopeKind, scopeId: target.scopeId, policyId: policyId, operatorId: operatorId)
            output.emit(try connection.call(PolicyCommand.method("UnlinkPolicy"), request, as: PolicyV1.UnlinkPolicyResponse.self))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A policy with its links and audit history (caller operator).")

        @Argument(help: "The policy id or code.") var policy: String
        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions

        func run() throws {
            let connection = try client.connect(to: .policy, defaultCaller: .operator)
            let response = try PolicyCommand.fetch(policy, on: connection)
            output.emit(response) {
                var links = OutputTable("scope", "scope id", "cycle days", "created", "by")
                for link in response.links {
                    links.append([
                        OutputValue.enumName(link.scopeKind), link.scopeId,
                        link.settlementCycleDays == 0 ? "" : String(link.settlementCycleDays),
                        Timestamp.iso8601(micros: link.createdAtUnixMicros), link.createdBy,
                    ])
                }
                var history = OutputTable("at", "action", "actor", "caller", "reason")
                for entry in response.history {
                    history.append([
                        Timestamp.iso8601(micros: entry.atUnixMicros), OutputValue.enumName(entry.action),
                        entry.actor, entry.caller, entry.reason,
                    ])
                }
                let policy = OutputValue(reflecting: response.policy ?? PolicyV1.Policy()).text
                return policy + "\n\nlinks:\n" + links.text + "\n\nhistory (oldest first; --json for before/after):\n" + history.text
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve the commission of one order item (caller settlement).")

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "The order item id.") var itemId: String = "cli-item"
        @Option(help: "The product.") var product: String
        @Option(help: "The product's supplier (default: from the catalog).") var supplier: String?
        @Option(help: "The seller (its tier comes from the catalog unless --tier).") var seller: String?
        @Option(help: "The seller's tier at order time, e.g. GOLD.") var tier: String?
        @Option(help: "The line amount in minor units (12.50 USD is 1250).") var amount: Int64
        @Option(help: "ISO 4217 code of the amount.") var currency: String
        @Option(help: "When the order was placed (ISO 8601 or unix micros): policies are judged at that instant.")
        var orderTime: String

        func validate() throws {
            try checkingUsage { () throws(CLIError) in try makeRequest() }
        }

        func makeRequest() throws(CLIError) -> PolicyV1.ResolveRequest {
            PolicyV1.ResolveRequest(item: PolicyV1.OrderItem(
                orderItemId: itemId, productId: product, supplierId: supplier ?? "", sellerId: seller ?? "",
                sellerTier: tier ?? "", lineAmount: amount, currency: currency.uppercased(),
                orderTimeUnixMicros: try Timestamp.parseMicros(orderTime, field: "--order-time")
            ))
        }

        func run() throws {
            let request = try makeRequest()
            let connection = try client.connect(to: .policy, defaultCaller: .settlement)
            let response = try connection.call(PolicyCommand.method("Resolve"), request, as: PolicyV1.ResolveResponse.self, idempotent: true)
            output.emit(response) { OutputValue(reflecting: response.resolution ?? PolicyV1.Resolution()).text }
        }
    }

    struct ResolveBatch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve-batch",
            abstract: "Resolve up to 10,000 order items from a JSON file (caller settlement); nothing is stored.",
            discussion: """
                --file holds a JSON array of items or {"items": [...]}; keys are the proto names \
                (order_item_id, product_id, supplier_id, seller_id, seller_tier, line_amount in minor units, \
                currency, order_time as ISO 8601 or order_time_unix_micros). - reads standard input. \
                Per-item errors are listed, not fatal.
                """
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "The items file; - for standard input.") var file: String

        func run() throws {
            let items = try PolicyItemsFile.decode(InputFile.read(file, option: "--file")).items
            let connection = try client.connect(to: .policy, defaultCaller: .settlement)
            let response = try connection.call(
                PolicyCommand.method("ResolveBatch"), PolicyV1.ResolveBatchRequest(items: items),
                as: PolicyV1.ResolveBatchResponse.self, idempotent: true
            )
            output.emit(response) { Self.summary(response) }
        }

        static func summary(_ response: PolicyV1.ResolveBatchResponse) -> String {
            var table = OutputTable("item", "level", "commission", "policy", "error")
            var errors = 0
            var safeMode = 0
            for result in response.results {
                if let error = result.error {
                    errors += 1
                    let code = StatusCode(wireValue: error.statusCode)
                    table.append([result.orderItemId, "", "", "", "\(code): \(error.statusMessage)"])
                } else if let resolution = result.resolution {
                    if resolution.level == .safeMode { safeMode += 1 }
                    table.append([
                        result.orderItemId, OutputValue.enumName(resolution.level),
                        PolicyCommand.money(resolution.commissionAmount, resolution.currency),
                        PolicyCommand.policyLabel(resolution.appliedPolicy), "",
                    ])
                }
            }
            let count = response.results.count
            return table.text + "\n\n\(count) item\(count == 1 ? "" : "s"): \(count - errors) resolved (\(safeMode) in safe mode), \(errors) with errors"
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a settlement batch's commission lines (caller settlement); all or nothing.",
            discussion: """
                Idempotent by order_item_id: lines recorded earlier come back unchanged (new: no) unless \
                --recalculate. The file is as for resolve-batch and may carry "batch_id".
                """
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions
        @Option(help: "The items file; - for standard input.") var file: String
        @Option(help: "The settlement batch id (default: the file's batch_id).") var batchId: String?
        @Flag(help: "Resolve every line again at its order time and overwrite it.") var recalculate = false

        func makeRequest(file contents: PolicyItemsFile) throws(CLIError) -> PolicyV1.RecordCommissionsRequest {
            guard let batch = batchId ?? contents.batchId, !batch.isEmpty else {
                throw CLIError(field: "--batch-id", "required (or \"batch_id\" in the file)")
            }
            return PolicyV1.RecordCommissionsRequest(batchId: batch, items: contents.items, recalculate: recalculate)
        }

        func run() throws {
            let request = try makeRequest(file: PolicyItemsFile.decode(InputFile.read(file, option: "--file")))
            let connection = try client.connect(to: .policy, defaultCaller: .settlement)
            // Keyed by order item id: repeating the call cannot record twice.
            let response = try connection.call(
                PolicyCommand.method("RecordCommissions"), request, as: PolicyV1.RecordCommissionsResponse.self, idempotent: true
            )
            output.emit(response) {
                var table = OutputTable("item", "level", "commission", "policy", "new", "recorded", "recalculated")
                for line in response.lines {
                    let resolution = line.resolution ?? PolicyV1.Resolution()
                    table.append([
                        line.orderItemId, OutputValue.enumName(resolution.level),
                        PolicyCommand.money(resolution.commissionAmount, resolution.currency),
                        PolicyCommand.policyLabel(resolution.appliedPolicy), line.newlyWritten ? "yes" : "no",
                        Timestamp.iso8601(micros: line.recordedAtUnixMicros),
                        line.recalculatedAtUnixMicros == 0 ? "" : Timestamp.iso8601(micros: line.recalculatedAtUnixMicros),
                    ])
                }
                let written = response.lines.filter(\.newlyWritten).count
                return table.text + "\n\nbatch \(request.batchId): \(response.lines.count) lines, \(written) written now"
            }
        }
    }
}
