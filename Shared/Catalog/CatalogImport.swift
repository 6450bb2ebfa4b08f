public import Foundation
public import Logging
public import ServiceKit
public import Storage

/// The platform's catalog (suppliers, sellers with their tier, products with
/// their supplier): its schema and the operator's import. PolicyService and
/// InboxService read it; neither owns it.
public enum Catalog {
    /// The catalog schema's migrations (component `catalog`).
    public static var migrations: MigrationComponent {
        MigrationComponent(name: "catalog", directory: Bundle.module.url(forResource: "Migrations", withExtension: nil)!)
    }
}

/// The import file: JSON with three arrays. Every row is validated before
/// anything is written, and the whole file is applied in one transaction
/// (upserts by id), so an import is all or nothing.
///
/// ```json
/// {"suppliers": [{"id": "sup-1", "name": "Acme"}],
///  "sellers":   [{"id": "sel-1", "name": "Shop", "tier": "GOLD"}],
///  "products":  [{"id": "prod-1", "supplier_id": "sup-1", "name": "Kettle"}]}
/// ```
public struct CatalogFile: Codable, Sendable, Equatable {
    public struct Supplier: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) { self.id = id; self.name = name }
    }

    public struct Seller: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var tier: String
        public init(id: String, name: String, tier: String) { self.id = id; self.name = name; self.tier = tier }
    }

    public struct Product: Codable, Sendable, Equatable {
        public var id: String
        public var supplierId: String
        public var name: String
        public init(id: String, supplierId: String, name: String) { self.id = id; self.supplierId = supplierId; self.name = name }

        enum CodingKeys: String, CodingKey {
            case id, name
            case supplierId = "supplier_id"
        }
    }

    public var suppliers: [Supplier]
    public var sellers: [Seller]
    public var products: [Product]

    public init(suppliers: [Supplier] = [], sellers: [Seller] = [], products: [Product] = []) {
        self.suppliers = suppliers
        self.sellers = sellers
        self.products = products
    }

    /// Decodes the file; a JSON or shape error names where it is.
    public static func decode(_ data: Data) throws(CatalogImportError) -> CatalogFile {
        do {
            return try JSONDecoder().decode(CatalogFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw CatalogImportError(problems: ["\(path(context.codingPath + [key])): is required"])
        } catch let DecodingError.typeMismatch(_, context) {
            throw CatalogImportError(problems: ["\(path(context.codingPath)): \(context.debugDescription)"])
        } catch {
            throw CatalogImportError(problems: ["file is not valid catalog JSON: \(error)"])
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// Every rule the schema enforces, checked up front so all problems are
    /// reported at once. `knownSuppliers` are supplier ids already stored.
    public func validate(knownSuppliers: Set<String> = []) -> [String] {
        var problems: [String] = []
        func checkID(_ id: String, _ field: String) {
            if id.isEmpty { problems.append("\(field): must not be empty") }
            if id.count > 128 { problems.append("\(field): must be at most 128 characters") }
            if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.append("\(field): must not contain control characters")
            }
        }
        func checkDuplicates(_ ids: [String], _ table: String) {
            var seen: Set<String> = []
            for (index, id) in ids.enumerated() where !seen.insert(id).inserted {
                problems.append("\(table)[\(index)].id: duplicate id \"\(id)\" in the file")
            }
        }
        for (index, row) in suppliers.enumerated() {
            checkID(row.id, "suppliers[\(index)].id")
            if row.name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("suppliers[\(index)].name: must not be empty") }
        }
        for (index, row) in sellers.enumerated() {
            checkID(row.id, "sellers[\(index)].id")
            if row.name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("sellers[\(index)].name: must not be empty") }
            if row.tier.range(of: "^[A-Z][A-Z0-9_]{0,31}$", options: .regularExpression) == nil {
                problems.append("sellers[\(index)].tier: must be an upper-case tier name such as GOLD, got \"\(row.tier)\"")
            }
        }
        let supplierIDs = knownSuppliers.union(suppliers.map(\.id))
        for (index, row) in products.enumerated() {
            checkID(row.id, "products[\(index)].id")
            if row.name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("products[\(index)].name: must not be empty") }
            if !supplierIDs.contains(row.supplierId) {
                problems.append("products[\(index)].supplier_id: unknown supplier \"\(row.supplierId)\"")
            }
        }
        checkDuplicates(suppliers.map(\.id), "suppliers")
        checkDuplicates(sellers.map(\.id), "sellers")
        checkDuplicates(products.map(\.id), "products")
        return problems
    }
}

/// The import was refused; nothing was written.
public struct CatalogImportError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "catalog import refused, nothing written (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.prefix(50).map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Applies a validated catalog file in one transaction.
public struct CatalogImporter: Sendable {
    public struct Summary: Sendable, Equatable {
        public var suppliers: Int
        public var sellers: Int
        public var products: Int
    }

    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func apply(_ file: CatalogFile, on connection: PostgresConnection) throws -> Summary {
        let known = Set(try connection.query("SELECT id FROM catalog.suppliers").map { try $0.string(0) })
        let problems = file.validate(knownSuppliers: known)
        guard problems.isEmpty else { throw CatalogImportError(problems: problems) }
        try connection.transaction { connection in
            for row in file.suppliers {
                try connection.query(
                    "INSERT INTO catalog.suppliers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
                    [.text(row.id), .text(row.name)]
                )
            }
            for row in file.sellers {
                try connection.query(
                    "INSERT INTO catalog.sellers (id, name, tier) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, tier = EXCLUDED.tier",
                    [.text(row.id), .text(row.name), .text(row.tier)]
                )
            }
            for row in file.products {
                try connection.query(
                    "INSERT INTO catalog.products (id, supplier_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET supplier_id = EXCLUDED.supplier_id, name = EXCLUDED.name",
                    [.text(row.id), .text(row.supplierId), .text(row.name)]
                )
            }
        }
        let summary = Summary(suppliers: file.suppliers.count, sellers: file.sellers.count, products: file.products.count)
        logger.notice("catalog imported", metadata: ["suppliers": "\(summary.suppliers)", "sellers": "\(summary.sellers)", "products": "\(summary.products)"])
        return summary
    }
}
