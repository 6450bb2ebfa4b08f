import ArgumentParser
import Proto
import Wire

/// `o4octl gate check|check-batch`: may seller S sell product P now?
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Ask GateService whether sellers may sell products (default caller: checkout; settlement for --stage settlement).",
        subcommands: [Check.self, CheckBatch.self]
    )

    static let checkMethod = "/gate.v1.GateService/Check"
    static let checkBatchMethod = "/gate.v1.GateService/CheckBatch"

    /// The caller that normally asks at `stage`: the checkout for carts and
    /// orders, the settlement batch for settlement (checkout may not ask it).
    static func defaultCaller(for stage: StageOption?) -> CallerRole {
        stage == .settlement ? .settlement : .checkout
    }
}

/// `--stage` values.
enum StageOption: String, CaseIterable, ExpressibleByArgument, Sendable {
    case cart, order, settlement

    var stage: GateV1.Stage {
        switch self {
        case .cart: .cart
        case .order: .order
        case .settlement: .settlement
        }
    }
}

extension GateCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check one seller and product.",
            discussion: "A denial is an answer, not an error: the exit status is 0 either way unless --fail-on-deny."
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions

        @Option(help: "The seller id.") var seller: String
        @Option(help: "The product id.") var product: String
        @Option(help: "cart, order or settlement.") var stage: StageOption
        @Option(help: "Settlement only: when the order was placed (ISO 8601, e.g. 2025-03-01T09:30:00Z, or unix micros).")
        var orderTime: String?
        @Flag(help: "Exit with status 3 when the answer is not allowed.") var failOnDeny = false

        func validate() throws {
            if orderTime != nil, stage != .settlement {
                throw ValidationError("--order-time: only with --stage settlement")
            }
            try checkingUsage { () throws(CLIError) in try makeRequest() }
        }

        /// The request this invocation sends.
        func makeRequest() throws(CLIError) -> GateV1.CheckRequest {
            GateV1.CheckRequest(
                sellerId: seller, productId: product, stage: stage.stage,
                orderTimeUnixMicros: try orderTime.map { t throws(CLIError) in try Timestamp.parseMicros(t, field: "--order-time") } ?? 0
            )
        }

        func run() throws {
            let connection = try client.connect(to: .gate, defaultCaller: GateCommand.defaultCaller(for: stage))
            let response = try connection.call(GateCommand.checkMethod, try makeRequest(), as: GateV1.CheckResponse.self, idempotent: true)
            output.emit(response) { OutputValue(reflecting: response.result ?? GateV1.CheckResult()).text }
            if failOnDeny, response.result?.allowed != true { throw ExitCode(3) }
        }
    }

    struct CheckBatch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-batch",
            abstract: "Check a whole cart in one call (1 to 500 items).",
            discussion: """
                Items come from --products (with --seller and --stage) or from --file: one item per line, \
                either PRODUCT, or SELLER PRODUCT [STAGE [ORDER_TIME]] separated by spaces or commas; \
                blank lines and # comments are skipped; missing parts come from --seller, --stage, --order-time. \
                --file - reads standard input.
                """
        )

        @OptionGroup(title: "Connection") var client: ClientOptions
        @OptionGroup(title: "Output") var output: OutputOptions

        @Option(help: "The seller of every item that names none.") var seller: String?
        @Option(help: "Comma-separated product ids.") var products: String?
        @Option(help: "A file of items (see below); - for standard input.") var file: String?
        @Option(help: "The stage of every item that names none: cart, order or settlement.") var stage: StageOption?
        @Option(help: "The order time of settlement items that name none (ISO 8601 or unix micros).") var orderTime: String?

        func validate() throws {
            guard (products == nil) != (file == nil) else {
                throw ValidationError("pass exactly one of --products and --file")
            }
            if products != nil { try checkingUsage { () throws(CLIError) in try makeRequest(fileText: nil) } }
            if let orderTime { try checkingUsage { () throws(CLIError) in try Timestamp.parseMicros(orderTime, field: "--order-time") } }
        }

        /// The request this invocation sends; `fileText` is --file's content.
        func makeRequest(fileText: String?) throws(CLIError) -> GateV1.CheckBatchRequest {
            let defaultTime = try orderTime.map { t throws(CLIError) in try Timestamp.parseMicros(t, field: "--order-time") } ?? 0
            var items: [GateV1.CheckItem] = []
            if let products {
                guard let stage else { throw CLIError(field: "--stage", "required with --products") }
                items = commaSeparated(products).map {
                    GateV1.CheckItem(productId: $0, stage: stage.stage, orderTimeUnixMicros: stage == .settlement ? defaultTime : 0)
                }
            } else if let fileText {
                items = try Self.parseItems(fileText, defaultStage: stage, defaultOrderTime: defaultTime)
            }
            guard !items.isEmpty else { throw CLIError(field: file == nil ? "--products" : "--file", "no items") }
            return GateV1.CheckBatchRequest(sellerId: seller ?? "", items: items)
        }

        /// Parses the --file format (see the command's discussion).
        static func parseItems(_ text: String, defaultStage: StageOption?, defaultOrderTime: Int64) throws(CLIError) -> [GateV1.CheckItem] {
            var items: [GateV1.CheckItem] = []
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingWhitespace()
                if line.isEmpty || line.hasPrefix("#") { continue }
                let field = "--file line \(number + 1)"
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
                var item = GateV1.CheckItem()
                switch parts.count {
                case 1:
                    item.productId = parts[0]
                case 2...4:
                    item.sellerId = parts[0]
                    item.productId = parts[1]
                default:
                    throw CLIError(field: field, "expected PRODUCT or SELLER PRODUCT [STAGE [ORDER_TIME]], got \(parts.count) fields")
                }
                var stage = defaultStage
                if parts.count >= 3 {
                    guard let parsed = StageOption(rawValue: parts[2].lowercased()) else {
                        throw CLIError(field: field, "stage must be cart, order or settlement, got \"\(parts[2])\"")
                    }
                    stage = parsed
                }
                guard let stage else { throw CLIError(field: field, "no stage: add one or pass --stage") }
                item.stage = stage.stage
                if parts.count == 4 {
                    guard stage == .settlement else { throw CLIError(field: field, "an order time needs the settlement stage") }
                    item.orderTimeUnixMicros = try Timestamp.parseMicros(parts[3], field: field)
                } else if stage == .settlement {
                    item.orderTimeUnixMicros = defaultOrderTime
                }
                items.append(item)
            }
            return items
        }

        func run() throws {
            let fileText = try file.map { path throws(CLIError) in try InputFile.readText(path, option: "--file") }
            let request = try makeRequest(fileText: fileText)
            // A batch holding any settlement item is the settlement's call.
            let settles = request.items.contains { $0.stage == .settlement }
            let connection = try client.connect(to: .gate, defaultCaller: settles ? .settlement : .checkout)
            let response = try connection.call(GateCommand.checkBatchMethod, request, as: GateV1.CheckBatchResponse.self, idempotent: true)
            output.emit(response) { Self.table(request: request, response: response).text }
        }

        static func table(request: GateV1.CheckBatchRequest, response: GateV1.CheckBatchResponse) -> OutputTable {
            var table = OutputTable("#", "seller", "product", "stage", "allowed", "reason", "tier", "mode", "version")
            for (index, result) in response.results.enumerated() {
                let item = index < request.items.count ? request.items[index] : GateV1.CheckItem()
                table.append([
                    String(index), item.sellerId.isEmpty ? request.sellerId : item.sellerId, item.productId,
                    OutputValue.enumName(item.stage), result.allowed ? "yes" : "NO", OutputValue.enumName(result.reason),
                    OutputValue.enumName(result.tier), OutputValue.enumName(result.mode), String(result.authorizationVersion),
                ])
            }
            return table
        }
    }
}
