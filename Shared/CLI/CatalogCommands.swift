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
        @Flag(help: "Validate against the database (known suppliers) and write nothing.") var dryRun = false

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
            if dryRun {
                try validateOnly(catalog, on: connection)
                return
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

        /// The importer's own checks, with the suppliers already stored, and no write.
        private func validateOnly(_ catalog: CatalogFile, on connection: PostgresConnection) throws {
            let known = Set(try connection.query("SELECT id FROM catalog.suppliers").map { try $0.string(0) })
            let problems = catalog.validate(knownSuppliers: known)
            guard problems.isEmpty else { throw CatalogImportError(problems: problems) }
            let value = OutputValue.object([
                OutputField("dry_run", .bool(true)),
                OutputField("suppliers", .integer(Int64(catalog.suppliers.count))),
                OutputField("sellers", .integer(Int64(catalog.sellers.count))),
                OutputField("products", .integer(Int64(catalog.products.count))),
            ])
            output.emit(value) { "valid, nothing written (dry run):\n" + value.text }
        }
    }
}
