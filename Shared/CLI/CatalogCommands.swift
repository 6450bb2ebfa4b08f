import ArgumentParser
import Catalog
import Foundation
import Logging
import Storage

/// `o4octl catalog import FILE`: loads suppliers, sellers and products into
/// the `catalog` schema (the services' `migrate up` creates it).
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Import the platform catalog straight into PostgreSQL.",
        subcommands: [Import.self]
    )
}

extension CatalogCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Validate a catalog JSON file and upsert it in one transaction (all or nothing).",
            discussion: """
                FILE: {"suppliers": [{"id", "name"}], "sellers": [{"id", "name", "tier"}], \
                "products": [{"id", "supplier_id", "name"}]}; rows are upserted by id. Every problem \
                is listed and nothing is written when any is found. - reads standard input.
                """
        )

        @OptionGroup(title: "Output") var output: OutputOptions
        @Argument(help: "The catalog JSON file; - for standard input.") var file: String
        @Option(help: "libpq URL of the database (default: $DATABASE_URL).") var databaseUrl: String?
        @Option(help: "Seconds allowed to connect.") var connectTimeout: Double = 5

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            guard let url = databaseUrl ?? environment["DATABASE_URL"], !url.isEmpty else {
                throw CLIError(field: "--database-url", "required (or set DATABASE_URL)")
            }
            let catalog = try CatalogFile.decode(InputFile.read(file, option: "FILE"))
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection.connect(
                    url: url, timeout: .milliseconds(Int64(connectTimeout * 1000)), applicationName: "o4octl"
                )
            } catch {
                throw CLIError(field: "--database-url", "cannot connect: \(error)")
            }
            var logger = Logger(label: "o4octl.catalog")
            logger.logLevel = .warning  // the summary below says what the notice would
            let summary = try CatalogImporter(logger: logger).apply(catalog, on: connection)
            let value = OutputValue.object([
                OutputField("suppliers", .integer(Int64(summary.suppliers))),
                OutputField("sellers", .integer(Int64(summary.sellers))),
                OutputField("products", .integer(Int64(summary.products))),
            ])
            output.emit(value) {
                "imported \(file == "-" ? "standard input" : file) in one transaction:\n" + value.text
            }
        }
    }
}
