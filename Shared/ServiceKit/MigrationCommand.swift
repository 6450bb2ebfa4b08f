public import Foundation
public import Logging
import Storage

/// A component's migrations: its name in `public.schema_migrations` and the
/// folder of `NNNN_name.up.sql` / `.down.sql` files.
public struct MigrationComponent: Sendable {
    public var name: String
    public var directory: URL

    public init(name: String, directory: URL) {
        self.name = name
        self.directory = directory
    }

    /// The runtime-flags schema (`ops`), applied by every service.
    public static var runtimeFlags: MigrationComponent {
        MigrationComponent(name: "ops", directory: Bundle.module.url(forResource: "Migrations", withExtension: nil)!)
    }
}

/// `<service> migrate up | down --to N | status`.
///
/// `up` applies every component in order (shared schemas first). `down` only
/// touches the service's own component and first takes a
/// `pg_dump -Fc` backup into `$BACKUP_DIR` by itself, so a level-3 rollback can
/// always be undone with `pg_restore`.
public enum MigrationCommand {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func run(
        arguments: [String], shared: [MigrationComponent], own: MigrationComponent?, service: String,
        databaseURL: String, backupDirectory: String, logger: Logger
    ) throws {
        let components = shared + (own.map { [$0] } ?? [])
        let usage = "usage: migrate up | migrate down --to N | migrate status"
        guard let action = arguments.first else { throw Failure(description: usage) }
        let connection = try PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), applicationName: "migrate")
        switch action {
        case "up":
            for component in components {
                let applied = try Migrator(component: component.name, directory: component.directory, logger: logger)
                    .migrateUp(on: connection)
                print("\(component.name): \(applied.isEmpty ? "up to date" : "applied \(applied.map { "\($0.version)_\($0.name)" }.joined(separator: ", "))")")
            }
        case "down":
            guard arguments.count == 3, arguments[1] == "--to", let target = Int(arguments[2]), target >= 0 else {
                throw Failure(description: "migrate down needs --to N with N a version number ≥ 0 (0 removes everything); \(usage)")
            }
            guard let own else {
                throw Failure(description: "\(service) owns no tables: there is nothing of its own to migrate down (shared schemas are reverted by their owners)")
            }
            let backup = try backUp(databaseURL: databaseURL, directory: backupDirectory, component: own.name)
            print("backup written to \(backup) (restore with: pg_restore --clean --if-exists -d \"$DATABASE_URL\" \(backup))")
            let reverted = try Migrator(component: own.name, directory: own.directory, logger: logger)
                .migrateDown(to: target, on: connection)
            print("\(own.name): \(reverted.isEmpty ? "nothing to revert" : "reverted \(reverted.map { "\($0.version)_\($0.name)" }.joined(separator: ", "))")")
        case "status":
            for component in components {
                let statuses = try Migrator(component: component.name, directory: component.directory, logger: logger).status(on: connection)
                for status in statuses { print("\(component.name)\t\(status.version)\t\(status.name)\t\(status.state)") }
            }
        default:
            throw Failure(description: "unknown migrate action \"\(action)\"; \(usage)")
        }
    }

    /// `pg_dump -Fc` of the whole database into `directory`; returns the file path.
    static func backUp(databaseURL: String, directory: String, component: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let path = "\(directory)/\(component)-before-down-\(stamp).dump"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pg_dump", "-Fc", "--file", path, databaseURL]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "pg_dump failed (exit \(process.terminationStatus)); refusing to migrate down without a backup")
        }
        return path
    }
}
